//! A fetched message, and the attachments its BODYSTRUCTURE describes.

use async_imap::types::Fetch;

use crate::message::parse::AttachmentInfo;

/// A fetched message as the server sent it.
#[derive(Debug)]
pub struct Fetched(pub(super) Fetch);

impl Fetched {
    pub fn uid(&self) -> Option<u32> {
        self.0.uid
    }
    /// RFC822.SIZE: the size with CRLF line ends.
    pub fn size(&self) -> Option<u32> {
        self.0.size
    }
    pub fn body(&self) -> Option<&[u8]> {
        self.0.body()
    }
    pub fn header(&self) -> Option<&[u8]> {
        self.0.header()
    }
    /// Flags as IMAP spells them (`\Seen`, `$Label`), without `\Recent`.
    pub fn flags(&self) -> Vec<String> {
        use async_imap::types::Flag;
        self.0
            .flags()
            .filter_map(|f| match f {
                Flag::Seen => Some("\\Seen".to_string()),
                Flag::Answered => Some("\\Answered".to_string()),
                Flag::Flagged => Some("\\Flagged".to_string()),
                Flag::Deleted => Some("\\Deleted".to_string()),
                Flag::Draft => Some("\\Draft".to_string()),
                Flag::Recent => None,
                Flag::MayCreate => None,
                Flag::Custom(c) => Some(c.to_string()),
            })
            .collect()
    }
    /// Attachments as BODYSTRUCTURE describes them (sizes are estimates of the decoded size).
    pub fn attachments(&self) -> Vec<AttachmentInfo> {
        let mut out = Vec::new();
        if let Some(bs) = self.0.bodystructure() {
            collect_attachments(bs, &mut out);
        }
        out
    }
}

fn collect_attachments(
    bs: &async_imap::imap_proto::types::BodyStructure<'_>,
    out: &mut Vec<AttachmentInfo>,
) {
    use async_imap::imap_proto::types::{BodyStructure, ContentEncoding};
    let (common, other) = match bs {
        BodyStructure::Multipart { bodies, .. } => {
            for b in bodies {
                collect_attachments(b, out);
            }
            return;
        }
        BodyStructure::Basic { common, other, .. }
        | BodyStructure::Text { common, other, .. }
        | BodyStructure::Message { common, other, .. } => (common, other),
    };
    let param = |params: &Option<Vec<(std::borrow::Cow<'_, str>, std::borrow::Cow<'_, str>)>>,
                 key: &str| {
        params
            .iter()
            .flatten()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.to_string())
    };
    let disposition = common.disposition.as_ref();
    let is_attachment = disposition.is_some_and(|d| d.ty.eq_ignore_ascii_case("attachment"));
    let filename = disposition
        .and_then(|d| param(&d.params, "filename"))
        .or_else(|| param(&common.ty.params, "name"))
        .map(|n| crate::message::parse::decode_header_text(&n));
    // The same rule as message::parse::summary, so list and fetch agree.
    let is_message = matches!(bs, BodyStructure::Message { .. });
    let is_text = matches!(bs, BodyStructure::Text { .. });
    if !(is_attachment || is_message || (filename.is_some() && !is_text)) {
        return;
    }
    let octets = other.octets as usize;
    let size = match other.transfer_encoding {
        // Base64 lines carry 57 bytes in 76 characters plus CRLF.
        ContentEncoding::Base64 => octets * 57 / 78,
        _ => octets,
    };
    out.push(AttachmentInfo {
        filename,
        content_type: format!("{}/{}", common.ty.ty, common.ty.subtype).to_ascii_lowercase(),
        size,
    });
}
