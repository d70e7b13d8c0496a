//! Which parts of a message are its body and which are attachments. One rule for every
//! reader of the MIME tree (a full parse, the fast summary of `fetch`, IMAP's
//! BODYSTRUCTURE for `list`), so `read`, `list`, `fetch --json` and `attachments` agree:
//! the body is the first text/plain or text/html part not marked as an attachment (with
//! its other form when it sits in a multipart/alternative), and every other part is an
//! attachment, named or not. mail-parser's own split leaves out inline parts that carry
//! a file name (`Content-Disposition: inline; filename="x.patch"`), which are then
//! neither shown nor listed.

use mail_parser::{MessagePart, MimeHeaders, PartType};
use serde::Serialize;

/// An attachment as listed, not its content.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AttachmentInfo {
    pub filename: Option<String>,
    pub content_type: String,
    pub size: usize,
}

/// A part that is not a multipart: what the rule needs to know of it.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// Where a full parse found it: the index in mail-parser's `parts` (0 elsewhere).
    pub part: usize,
    /// The part as it would be listed; `content_type` in lower case.
    pub info: AttachmentInfo,
    /// `Content-Disposition: attachment`.
    pub marked_attachment: bool,
    /// The nearest multipart/alternative around the part, numbered in the order they
    /// open; None outside any.
    pub alternative: Option<usize>,
}

/// The leaves shown as the message's text and HTML, by index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shown {
    pub text: Option<usize>,
    pub html: Option<usize>,
}

impl Shown {
    pub fn contains(&self, i: usize) -> bool {
        self.text == Some(i) || self.html == Some(i)
    }
}

fn is(leaf: &Leaf, subtype: &str) -> bool {
    !leaf.marked_attachment && leaf.info.content_type == format!("text/{subtype}")
}

/// The body: the first text/plain or text/html part not marked as an attachment; in a
/// multipart/alternative, the first of each form in it.
pub fn shown(leaves: &[Leaf]) -> Shown {
    let Some(first) = leaves.iter().position(|l| is(l, "plain") || is(l, "html")) else {
        return Shown::default();
    };
    let Some(group) = leaves[first].alternative else {
        return match is(&leaves[first], "plain") {
            true => Shown {
                text: Some(first),
                html: None,
            },
            false => Shown {
                text: None,
                html: Some(first),
            },
        };
    };
    let in_group = |subtype: &str| {
        (first..leaves.len())
            .find(|&i| leaves[i].alternative == Some(group) && is(&leaves[i], subtype))
    };
    Shown {
        text: in_group("plain"),
        html: in_group("html"),
    }
}

/// Every leaf that is not shown, in order.
pub fn attachments(leaves: &[Leaf], shown: Shown) -> Vec<AttachmentInfo> {
    (0..leaves.len())
        .filter(|&i| !shown.contains(i))
        .map(|i| leaves[i].info.clone())
        .collect()
}

/// RFC 2046 5.1.1: a delimiter line is `--boundary`, then `--` on the closing one, then
/// only white space (transport padding). Some(true) for a closing delimiter line,
/// Some(false) for another delimiter line, None for any other line.
pub fn delimiter(line: &[u8], boundary: &[u8]) -> Option<bool> {
    let rest = line.strip_prefix(b"--")?.strip_prefix(boundary)?;
    let (close, rest) = match rest.strip_prefix(b"--") {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    rest.iter().all(u8::is_ascii_whitespace).then_some(close)
}

/// RFC 2045 5.2: no Content-Type is text/plain, or message/rfc822 inside a
/// multipart/digest (RFC 2046 5.1.5).
pub fn media_type(ctype: Option<(&str, Option<&str>)>, in_digest: bool) -> String {
    match ctype {
        Some((t, Some(sub))) => format!("{t}/{sub}").to_ascii_lowercase(),
        Some((t, None)) => t.to_ascii_lowercase(),
        None if in_digest => "message/rfc822".into(),
        None => "text/plain".into(),
    }
}

/// The leaves of a message mail-parser has read; a nested message is one leaf.
pub fn of_message(msg: &mail_parser::Message<'_>) -> Vec<Leaf> {
    let mut walk = Walk {
        parts: &msg.parts,
        out: Vec::new(),
        alternatives: 0,
    };
    walk.part(0, None, false, 0);
    walk.out
}

struct Walk<'m, 'x> {
    parts: &'m [MessagePart<'x>],
    out: Vec<Leaf>,
    alternatives: usize,
}

/// Nesting deeper than this is not walked (a defence against crafted messages).
pub const MAX_DEPTH: usize = 16;

impl Walk<'_, '_> {
    fn part(&mut self, id: usize, alternative: Option<usize>, in_digest: bool, depth: usize) {
        let Some(part) = self.parts.get(id) else {
            return;
        };
        let ct = part.content_type();
        if let PartType::Multipart(children) = &part.body {
            let subtype = ct.and_then(|c| c.subtype()).unwrap_or("mixed");
            let alternative = match subtype.eq_ignore_ascii_case("alternative") {
                true => {
                    self.alternatives += 1;
                    Some(self.alternatives)
                }
                false => alternative,
            };
            let digest = subtype.eq_ignore_ascii_case("digest");
            for &child in children.iter().filter(|_| depth < MAX_DEPTH) {
                self.part(child as usize, alternative, digest, depth + 1);
            }
            return;
        }
        let mut content_type = media_type(ct.map(|c| (c.ctype(), c.subtype())), in_digest);
        if content_type.starts_with("multipart/") {
            // Its boundary was not found: mail-parser keeps the body as text.
            content_type = "text/plain".into();
        }
        let leaf = Leaf {
            part: id,
            info: AttachmentInfo {
                filename: part.attachment_name().map(str::to_string),
                content_type,
                size: part.len(),
            },
            marked_attachment: part
                .content_disposition()
                .is_some_and(|d| d.is_attachment()),
            alternative,
        };
        self.out.push(leaf);
    }
}
