//! Reading messages: mail-parser (with every charset it knows) turned into the envelope
//! and body model that `fetch`, `list` and `read` print and serialise.

use mail_parser::{Address, HeaderName, HeaderValue, MessageParser};

use super::repair::{repaired, repaired_structure};
use serde::Serialize;

/// A name and address, decoded.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Person {
    pub name: Option<String>,
    pub address: Option<String>,
}

impl Person {
    /// The name if there is one, else the address.
    pub fn display(&self) -> &str {
        self.name
            .as_deref()
            .filter(|n| !n.is_empty())
            .or(self.address.as_deref())
            .unwrap_or("")
    }
}

pub use parts::AttachmentInfo;

/// The envelope of a message: the fields of the JSON schema in `docs/fetch.md`.
#[derive(Debug, Clone, Serialize)]
pub struct Envelope {
    /// The id people type (`read ID`): the UID, or the UIDL; not in JSON, where `uid`
    /// and `uidl` say which it is.
    #[serde(skip)]
    pub id: String,
    /// IMAP: the message's UID in its mailbox.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// POP3: the message's UIDL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uidl: Option<String>,
    pub mailbox: String,
    pub message_id: Option<String>,
    pub date: Option<String>,
    pub from: Vec<Person>,
    pub to: Vec<Person>,
    pub cc: Vec<Person>,
    pub subject: Option<String>,
    pub size: u64,
    pub flags: Vec<String>,
    /// Whether `flags` are the server's (IMAP); POP3 keeps none, so none are shown.
    #[serde(skip)]
    pub flags_known: bool,
    pub attachments: Vec<AttachmentInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Headers the message has more than once though RFC 5322 allows one (`From`,
    /// `Subject`...): the first is shown; a forged sender often hides behind a second.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub repeated_headers: Vec<String>,
}

impl Envelope {
    /// Names the message by its IMAP UID.
    pub fn set_uid(&mut self, uid: u32) {
        self.id = uid.to_string();
        self.uid = Some(uid);
    }

    /// Names the message by its POP3 UIDL.
    pub fn set_uidl(&mut self, uidl: &str) {
        self.id = uidl.to_string();
        self.uidl = Some(uidl.to_string());
    }
}

/// A parsed message with its bodies, for `read`.
#[derive(Debug, Clone, Serialize)]
pub struct Full {
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The plain-text body, or the HTML body converted to text when there is none.
    pub text: Option<String>,
    pub html: Option<String>,
}

/// RFC 5322 4.4: an obsolete source route (`<@a.example,@b.example:user@c.example>`) is
/// not part of the address; mail-parser keeps it.
fn without_route(address: &str) -> String {
    match address.strip_prefix('@').and_then(|a| a.rsplit_once(':')) {
        Some((_, mailbox)) => mailbox.to_string(),
        None => address.to_string(),
    }
}

fn people(addr: Option<&Address<'_>>) -> Vec<Person> {
    addr.map(|a| {
        a.iter()
            .map(|p| Person {
                name: p.name().map(str::to_string),
                address: p.address().map(without_route),
            })
            .collect()
    })
    .unwrap_or_default()
}

fn envelope_of(
    msg: &mail_parser::Message<'_>,
    size: u64,
    attachments: Vec<AttachmentInfo>,
) -> Envelope {
    Envelope {
        id: String::new(),
        uid: None,
        uidl: None,
        mailbox: String::new(),
        message_id: msg.message_id().map(|m| format!("<{m}>")),
        date: first_date(msg),
        from: people(first(msg, HeaderName::From).and_then(|v| v.as_address())),
        to: people(first(msg, HeaderName::To).and_then(|v| v.as_address())),
        cc: people(first(msg, HeaderName::Cc).and_then(|v| v.as_address())),
        subject: first(msg, HeaderName::Subject)
            .and_then(|v| v.as_text())
            .map(str::to_string),
        size,
        flags: Vec::new(),
        flags_known: false,
        attachments,
        path: None,
        repeated_headers: repeated(msg),
    }
}

/// RFC 5322 3.6: these fields occur at most once. mail-parser gives the last of a
/// repeated one; the first is what Python's email, Thunderbird and the RFC's intent
/// show.
const ONCE: [HeaderName<'static>; 7] = [
    HeaderName::From,
    HeaderName::Sender,
    HeaderName::ReplyTo,
    HeaderName::To,
    HeaderName::Cc,
    HeaderName::Subject,
    HeaderName::Date,
];

fn first<'m, 'x>(
    msg: &'m mail_parser::Message<'x>,
    name: HeaderName<'_>,
) -> Option<&'m HeaderValue<'x>> {
    msg.headers()
        .iter()
        .find(|h| h.name == name)
        .map(|h| &h.value)
}

/// The first Date header, read by mailer's own RFC 5322 reader (which knows the
/// obsolete forms), else as mail-parser read it.
fn first_date(msg: &mail_parser::Message<'_>) -> Option<String> {
    let header = msg.headers().iter().find(|h| h.name == HeaderName::Date)?;
    let raw = msg
        .raw_message()
        .get(header.offset_start as usize..header.offset_end as usize)
        .map(String::from_utf8_lossy);
    raw.and_then(|r| date::rfc5322(&r))
        .or_else(|| header.value.as_datetime().map(|d| d.to_rfc3339()))
}

/// The fields of [`ONCE`] the message has more than once, by name.
fn repeated(msg: &mail_parser::Message<'_>) -> Vec<String> {
    ONCE.iter()
        .filter(|name| msg.headers().iter().filter(|h| h.name == **name).count() > 1)
        .map(|name| name.as_str().to_string())
        .collect()
}

/// The envelope of a complete message without decoding its parts: headers are parsed,
/// the MIME tree is read line by line, and attachment sizes are estimated from the
/// encoded size. Several times cheaper than [`full`] on messages with attachments,
/// which is what `fetch` needs for every message it stores.
pub fn summary(original: &[u8]) -> Envelope {
    let size = original.len() as u64;
    let bytes = &repaired_structure(original);
    let Some(head) = MessageParser::default().parse_headers(bytes) else {
        return empty(size);
    };
    let mut e = envelope_of(&head, size, Vec::new());
    let leaves = scan::leaves(bytes);
    e.attachments = parts::attachments(&leaves, parts::shown(&leaves));
    e
}

/// The envelope from a header section only (no attachment list).
pub fn envelope_from_headers(header: &[u8], size: u64) -> Envelope {
    match MessageParser::default().parse_headers(&repaired(header)) {
        Some(msg) => envelope_of(&msg, size, Vec::new()),
        None => empty(size),
    }
}

/// HTML as text for the terminal: paragraphs, lists, and links with their targets
/// (html2text). None, for mail-parser's plainer rendering instead, when the nesting is
/// too deep for its recursion to be safe, or it fails.
fn html_as_text(html: &str) -> Option<String> {
    if nesting(html) > MAX_HTML_NESTING {
        return None;
    }
    let render = || html2text::from_read(html.as_bytes(), 80).ok();
    std::panic::catch_unwind(render).ok().flatten()
}

const MAX_HTML_NESTING: usize = 400;

/// How deep the elements of `html` nest, roughly: opening tags less closing ones, void
/// and self-closed elements left out. It errs high, never low.
fn nesting(html: &str) -> usize {
    const VOID: [&str; 11] = [
        "br", "img", "hr", "meta", "link", "input", "wbr", "col", "area", "base", "source",
    ];
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        if tag.starts_with('/') {
            depth = depth.saturating_sub(1);
            continue;
        }
        let len = tag.bytes().take_while(u8::is_ascii_alphanumeric).count();
        let name = &tag[..len];
        let void = VOID.iter().any(|v| name.eq_ignore_ascii_case(v));
        if name.is_empty() || void || tag.ends_with('/') {
            continue;
        }
        depth += 1;
        deepest = deepest.max(depth);
    }
    deepest
}

/// A message with its bodies.
pub fn full(original: &[u8]) -> Full {
    let bytes = &repaired(original);
    let Some(msg) = MessageParser::default().parse(bytes) else {
        return Full {
            envelope: empty(original.len() as u64),
            text: None,
            html: None,
        };
    };
    let leaves = parts::of_message(&msg);
    let shown = parts::shown(&leaves);
    let contents = |leaf: Option<usize>| {
        let part = msg.parts.get(leaves[leaf?].part)?;
        let text = part.text_contents()?;
        charset::reread(part, msg.raw_message(), text).or_else(|| Some(text.to_string()))
    };
    let html = contents(shown.html);
    let text = contents(shown.text).or_else(|| {
        let html = html.as_deref()?;
        html_as_text(html).or_else(|| Some(mail_parser::decoders::html::html_to_text(html)))
    });
    // Text has LF line ends, in JSON as on a terminal, whatever the message had.
    let text = match text {
        Some(t) if t.contains('\r') => Some(t.replace("\r\n", "\n").replace('\r', "\n")),
        other => other,
    };
    let attachments = parts::attachments(&leaves, shown);
    Full {
        envelope: envelope_of(&msg, original.len() as u64, attachments),
        text,
        html,
    }
}

fn empty(size: u64) -> Envelope {
    Envelope {
        id: String::new(),
        uid: None,
        uidl: None,
        mailbox: String::new(),
        message_id: None,
        date: None,
        from: Vec::new(),
        to: Vec::new(),
        cc: Vec::new(),
        subject: None,
        size,
        flags: Vec::new(),
        flags_known: false,
        attachments: Vec::new(),
        path: None,
        repeated_headers: Vec::new(),
    }
}

/// Decodes RFC 2047 encoded words in a header value (`=?gbk?B?...?=`).
pub fn decode_header_text(value: &str) -> String {
    if !value.contains("=?") {
        return value.to_string();
    }
    let header = format!("Subject: {value}\r\n\r\n");
    MessageParser::default()
        .parse_headers(header.as_bytes())
        .and_then(|m| m.subject().map(str::to_string))
        .unwrap_or_else(|| value.to_string())
}

/// The attachments of a message with their decoded content, for `attachments`.
pub fn attachment_contents(original: &[u8]) -> Vec<(AttachmentInfo, Vec<u8>)> {
    let bytes = &repaired(original);
    let Some(msg) = MessageParser::default().parse(bytes) else {
        return Vec::new();
    };
    let leaves = parts::of_message(&msg);
    let shown = parts::shown(&leaves);
    (0..leaves.len())
        .filter(|&i| !shown.contains(i))
        .filter_map(|i| {
            let part = msg.parts.get(leaves[i].part)?;
            Some((leaves[i].info.clone(), part.contents().to_vec()))
        })
        .collect()
}

mod charset;
mod date;
pub mod parts;
mod scan;
#[cfg(test)]
mod tests;
