//! A fetched message, and the attachments its BODYSTRUCTURE describes.

use async_imap::types::Fetch;

use async_imap::imap_proto::types::{BodyStructure, ContentEncoding};

use crate::message::parse::AttachmentInfo;
use crate::message::parse::parts::{self, Leaf};

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
    /// Attachments as BODYSTRUCTURE describes them (sizes are estimates of the decoded
    /// size), by the rule a full parse of the message follows.
    pub fn attachments(&self) -> Vec<AttachmentInfo> {
        let mut walk = Walk::default();
        if let Some(bs) = self.0.bodystructure() {
            walk.part(bs, None, 0);
        }
        parts::attachments(&walk.leaves, parts::shown(&walk.leaves))
    }
}

#[derive(Default)]
struct Walk {
    leaves: Vec<Leaf>,
    alternatives: usize,
}

type Params<'a> = Option<Vec<(std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)>>;

fn param(params: &Params<'_>, key: &str) -> Option<String> {
    params
        .iter()
        .flatten()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.to_string())
}

impl Walk {
    fn part(&mut self, bs: &BodyStructure<'_>, alternative: Option<usize>, depth: usize) {
        let (common, other) = match bs {
            BodyStructure::Multipart { common, bodies, .. } => {
                let alternative = match common.ty.subtype.eq_ignore_ascii_case("alternative") {
                    true => {
                        self.alternatives += 1;
                        Some(self.alternatives)
                    }
                    false => alternative,
                };
                for b in bodies.iter().filter(|_| depth < parts::MAX_DEPTH) {
                    self.part(b, alternative, depth + 1);
                }
                return;
            }
            BodyStructure::Basic { common, other, .. }
            | BodyStructure::Text { common, other, .. }
            | BodyStructure::Message { common, other, .. } => (common, other),
        };
        let disposition = common.disposition.as_ref();
        let filename = disposition
            .and_then(|d| param(&d.params, "filename"))
            .or_else(|| param(&common.ty.params, "name"))
            .map(|n| crate::message::parse::decode_header_text(&n));
        let octets = other.octets as usize;
        let size = match other.transfer_encoding {
            // Base64 lines carry 57 bytes in 76 characters plus CRLF.
            ContentEncoding::Base64 => octets * 57 / 78,
            _ => octets,
        };
        self.leaves.push(Leaf {
            part: 0,
            info: AttachmentInfo {
                filename,
                content_type: format!("{}/{}", common.ty.ty, common.ty.subtype)
                    .to_ascii_lowercase(),
                size,
            },
            marked_attachment: disposition.is_some_and(|d| d.ty.eq_ignore_ascii_case("attachment")),
            alternative,
        });
    }
}
