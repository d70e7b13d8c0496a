//! A fetched message, and the attachments its BODYSTRUCTURE describes.

use async_imap::imap_proto::types::{
    AttributeValue, BodyStructure, ContentEncoding, MessageSection, Response, SectionPath,
};
use async_imap::types::Fetch;

use crate::message::parse::AttachmentInfo;
use crate::message::parse::parts::{self, Leaf};

/// A fetched message as the server sent it: parsed by async-imap, or a response of a
/// FETCH pipelined with the login, which async-imap did not send and so cannot parse;
/// what mailer reads of it is then looked up in the response, which is kept whole.
#[derive(Debug)]
pub struct Fetched(Source);

#[derive(Debug)]
enum Source {
    Parsed(Fetch),
    Raw(Raw),
}

struct Raw {
    uid: Option<u32>,
    size: Option<u32>,
    /// The response, with the buffer its header and body are read from.
    kept: Kept,
    flags: Vec<String>,
    attachments: Vec<AttachmentInfo>,
}

impl std::fmt::Debug for Raw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Raw")
            .field("uid", &self.uid)
            .field("size", &self.size)
            .field("flags", &self.flags)
            .finish_non_exhaustive()
    }
}

/// A response as async-imap read it, with the buffer it was parsed from, so that a
/// message's body reaches the Maildir without being copied out of it first (on a bulk
/// fetch, that copy made over a third of mailer's page faults, and a pass over every
/// byte).
/// async-imap does not name the type, so it is kept behind a trait.
pub(super) struct Kept {
    view: Box<dyn View>,
    bytes: usize,
}

trait View: Send + Sync {
    fn parsed(&self) -> &Response<'_>;
}

struct Viewed<T> {
    data: T,
    view: for<'a> fn(&'a T) -> &'a Response<'a>,
}

impl<T: Send + Sync> View for Viewed<T> {
    fn parsed(&self) -> &Response<'_> {
        (self.view)(&self.data)
    }
}

impl Kept {
    /// Holds `data`, whose response `view` reads; `bytes` is the size of its buffer.
    pub(super) fn new<T: Send + Sync + 'static>(
        data: T,
        view: for<'a> fn(&'a T) -> &'a Response<'a>,
        bytes: usize,
    ) -> Kept {
        let view = Box::new(Viewed { data, view });
        Kept { view, bytes }
    }

    pub(super) fn parsed(&self) -> &Response<'_> {
        self.view.parsed()
    }
}

impl Raw {
    /// The header, or the whole message, among the response's attributes.
    fn section(&self, header: bool) -> Option<&[u8]> {
        let Response::Fetch(_, attrs) = self.kept.parsed() else {
            return None;
        };
        attrs.iter().find_map(|attr| section_of(attr, header))
    }
}

fn section_of<'a>(attr: &'a AttributeValue<'a>, header: bool) -> Option<&'a [u8]> {
    match attr {
        AttributeValue::BodySection {
            section: Some(SectionPath::Full(MessageSection::Header)),
            data: Some(data),
            ..
        }
        | AttributeValue::Rfc822Header(Some(data))
            if header =>
        {
            Some(data.as_ref())
        }
        AttributeValue::BodySection {
            section: None,
            data: Some(data),
            ..
        }
        | AttributeValue::Rfc822(Some(data))
            if !header =>
        {
            Some(data.as_ref())
        }
        _ => None,
    }
}

impl From<Fetch> for Fetched {
    fn from(fetch: Fetch) -> Self {
        Fetched(Source::Parsed(fetch))
    }
}

impl Fetched {
    /// A `* n FETCH` response; None for any other.
    pub(super) fn from_response(kept: Kept) -> Option<Fetched> {
        let Response::Fetch(_, attrs) = kept.parsed() else {
            return None;
        };
        let (mut uid, mut size, mut flags, mut attachments) = (None, None, Vec::new(), Vec::new());
        for attr in attrs {
            match attr {
                AttributeValue::Uid(u) => uid = Some(*u),
                AttributeValue::Rfc822Size(n) => size = Some(*n),
                AttributeValue::Flags(f) => {
                    flags = f
                        .iter()
                        .filter_map(|f| flag_name(async_imap::types::Flag::from(f.as_ref())))
                        .collect();
                }
                AttributeValue::BodyStructure(bs) => attachments = attachments_of(Some(bs)),
                _ => {}
            }
        }
        let raw = Raw {
            uid,
            size,
            kept,
            flags,
            attachments,
        };
        Some(Fetched(Source::Raw(raw)))
    }

    /// The memory this message holds while on its way to disk: its response's whole
    /// buffer when it is kept whole.
    pub fn held_bytes(&self) -> usize {
        match &self.0 {
            Source::Parsed(f) => f.body().map_or(0, <[u8]>::len),
            Source::Raw(r) => r.kept.bytes,
        }
    }

    pub fn uid(&self) -> Option<u32> {
        match &self.0 {
            Source::Parsed(f) => f.uid,
            Source::Raw(r) => r.uid,
        }
    }
    /// RFC822.SIZE: the size with CRLF line ends.
    pub fn size(&self) -> Option<u32> {
        match &self.0 {
            Source::Parsed(f) => f.size,
            Source::Raw(r) => r.size,
        }
    }
    pub fn body(&self) -> Option<&[u8]> {
        match &self.0 {
            Source::Parsed(f) => f.body(),
            Source::Raw(r) => r.section(false),
        }
    }
    pub fn header(&self) -> Option<&[u8]> {
        match &self.0 {
            Source::Parsed(f) => f.header(),
            Source::Raw(r) => r.section(true),
        }
    }
    /// Flags as IMAP spells them (`\Seen`, `$Label`), without `\Recent`.
    pub fn flags(&self) -> Vec<String> {
        match &self.0 {
            Source::Parsed(f) => f.flags().filter_map(flag_name).collect(),
            Source::Raw(r) => r.flags.clone(),
        }
    }
    /// Attachments as BODYSTRUCTURE describes them (sizes are estimates of the decoded
    /// size), by the rule a full parse of the message follows.
    pub fn attachments(&self) -> Vec<AttachmentInfo> {
        match &self.0 {
            Source::Parsed(f) => attachments_of(f.bodystructure()),
            Source::Raw(r) => r.attachments.clone(),
        }
    }
}

fn flag_name(flag: async_imap::types::Flag<'_>) -> Option<String> {
    use async_imap::types::Flag;
    match flag {
        Flag::Seen => Some("\\Seen".to_string()),
        Flag::Answered => Some("\\Answered".to_string()),
        Flag::Flagged => Some("\\Flagged".to_string()),
        Flag::Deleted => Some("\\Deleted".to_string()),
        Flag::Draft => Some("\\Draft".to_string()),
        Flag::Recent => None,
        Flag::MayCreate => None,
        Flag::Custom(c) => Some(c.to_string()),
    }
}

fn attachments_of(bodystructure: Option<&BodyStructure<'_>>) -> Vec<AttachmentInfo> {
    let mut walk = Walk::default();
    if let Some(bs) = bodystructure {
        walk.part(bs, None, 0);
    }
    parts::attachments(&walk.leaves, parts::shown(&walk.leaves))
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
