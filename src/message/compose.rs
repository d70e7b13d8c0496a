//! Building a MIME message from what the user gave on the command line.
//!
//! lettre does the encoding (RFC 2047 words for non-ASCII headers, RFC 2231 file names,
//! quoted-printable or base64 bodies); this module decides the structure and refuses input
//! that would corrupt the message, such as a line break inside a header value.

use lettre::message::MessageBuilder;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Body, Mailbox, Mailboxes, MultiPart, SinglePart};
use lettre::{Address, Message};

use super::{Outgoing, new_message_id};

/// Everything a new message is made of, already read from disk.
#[derive(Debug, Default)]
pub struct Draft {
    pub from: Option<Mailbox>,
    pub reply_to: Option<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub bcc: Vec<Mailbox>,
    pub subject: Option<String>,
    pub text: String,
    pub html: Option<String>,
    pub attachments: Vec<AttachmentFile>,
    /// Extra headers, already checked by [`parse_header`].
    pub headers: Vec<(String, String)>,
}

/// A file to attach.
#[derive(Debug)]
pub struct AttachmentFile {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// Why a message cannot be built. Each is the user's input, so each names it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "{flag} {value:?}: not a valid address (expected like bob@example.org or \"Bob <bob@example.org>\")"
    )]
    Address { flag: &'static str, value: String },
    #[error("{what} contains a line break; a header value must be one line")]
    LineBreak { what: String },
    #[error("--header {0:?}: expected \"Name: value\"")]
    HeaderSyntax(String),
    #[error("--header {0:?}: the name must be printable ASCII without spaces or ':'")]
    HeaderName(String),
    #[error("--header {name:?}: mailer sets this header itself; {hint}")]
    ReservedHeader { name: String, hint: &'static str },
    #[error("--header {0:?} is given twice; give each header once")]
    RepeatedHeader(String),
    #[error("no recipients: give --to, --cc or --bcc")]
    NoRecipients,
    #[error("building the message: {0}")]
    Build(String),
}

/// Parses `--to`-style values; one value may hold several comma-separated addresses.
pub fn parse_mailboxes(flag: &'static str, values: &[String]) -> Result<Vec<Mailbox>, Error> {
    let mut out = Vec::new();
    for value in values {
        check_one_line(flag, value)?;
        let parsed: Mailboxes = value.parse().map_err(|_| Error::Address {
            flag,
            value: value.clone(),
        })?;
        out.extend(parsed);
    }
    Ok(out)
}

/// Parses one mailbox (`--from`, `--reply-to`).
pub fn parse_mailbox(flag: &'static str, value: &str) -> Result<Mailbox, Error> {
    check_one_line(flag, value)?;
    value.parse().map_err(|_| Error::Address {
        flag,
        value: value.to_string(),
    })
}

/// Headers the user may not set with `--header`, and the flag to use instead.
const RESERVED: &[(&str, &str)] = &[
    ("from", "use --from"),
    ("to", "use --to"),
    ("cc", "use --cc"),
    ("bcc", "use --bcc"),
    ("reply-to", "use --reply-to"),
    ("subject", "use --subject"),
    ("date", "it is set when the message is built"),
    ("message-id", "it is generated for each message"),
    ("mime-version", "it is part of the MIME structure"),
    (
        "content-type",
        "use --html-file or --attach for other content",
    ),
    (
        "content-transfer-encoding",
        "the encoding is chosen per part",
    ),
];

/// Checks and splits a `--header "Name: value"` argument.
pub fn parse_header(arg: &str) -> Result<(String, String), Error> {
    let (name, value) = arg
        .split_once(':')
        .ok_or_else(|| Error::HeaderSyntax(arg.to_string()))?;
    if name.is_empty() || !name.bytes().all(|b| (33..=126).contains(&b) && b != b':') {
        return Err(Error::HeaderName(arg.to_string()));
    }
    if let Some((_, hint)) = RESERVED.iter().find(|(r, _)| r.eq_ignore_ascii_case(name)) {
        return Err(Error::ReservedHeader {
            name: name.to_string(),
            hint,
        });
    }
    check_one_line(&format!("--header {name}"), value)?;
    Ok((name.to_string(), value.trim().to_string()))
}

fn check_one_line(what: &str, value: &str) -> Result<(), Error> {
    if value.contains(['\r', '\n']) {
        return Err(Error::LineBreak {
            what: what.to_string(),
        });
    }
    Ok(())
}

/// Builds the message. `sender` is the account's address: the envelope sender, and the
/// From address unless the draft overrides it.
pub fn build(
    draft: Draft,
    sender: &Address,
    display_name: Option<&str>,
) -> Result<Outgoing, Error> {
    if let Some(subject) = &draft.subject {
        check_one_line("--subject", subject)?;
    }
    // Each address once in the envelope, however many times the flags name it.
    let mut recipients: Vec<Address> = Vec::new();
    for m in draft.to.iter().chain(&draft.cc).chain(&draft.bcc) {
        if !recipients.contains(&m.email) {
            recipients.push(m.email.clone());
        }
    }
    if recipients.is_empty() {
        return Err(Error::NoRecipients);
    }
    let from = draft
        .from
        .clone()
        .unwrap_or_else(|| Mailbox::new(display_name.map(str::to_string), sender.clone()));
    let message_id = new_message_id(from.email.domain());

    let mut builder = Message::builder()
        .from(from)
        .message_id(Some(message_id.clone()))
        .user_agent(concat!("mailer/", env!("CARGO_PKG_VERSION")).to_string());
    if let Some(r) = draft.reply_to {
        builder = builder.reply_to(r);
    }
    for m in draft.to {
        builder = builder.to(m);
    }
    for m in draft.cc {
        builder = builder.cc(m);
    }
    // Bcc recipients travel in the envelope only; the header is never written.
    if let Some(s) = draft.subject {
        builder = builder.subject(s);
    }
    builder = extra_headers(builder, draft.headers)?;
    let envelope = lettre::address::Envelope::new(Some(sender.clone()), recipients.clone())
        .map_err(|e| Error::Build(e.to_string()))?;
    builder = builder.envelope(envelope);

    let message = body(builder, draft.text, draft.html, draft.attachments)?;
    Ok(Outgoing {
        sender: sender.clone(),
        recipients,
        message_id,
        bytes: with_local_date(message.formatted()),
    })
}

/// The message with its `Date:` in local time and the local offset: lettre writes UTC
/// (`+0000`), and takes a Date header of another offset for none and adds its own.
fn with_local_date(bytes: Vec<u8>) -> Vec<u8> {
    let head_end = memchr::memmem::find(&bytes, b"\r\n\r\n").unwrap_or(bytes.len());
    let start = match bytes[..head_end].starts_with(b"Date: ") {
        true => Some(0),
        false => memchr::memmem::find(&bytes[..head_end], b"\r\nDate: ").map(|i| i + 2),
    };
    let Some(start) = start else { return bytes };
    let Some(len) = memchr::memmem::find(&bytes[start..], b"\r\n") else {
        return bytes;
    };
    let mut out = Vec::with_capacity(bytes.len() + 8);
    out.extend_from_slice(&bytes[..start]);
    out.extend_from_slice(format!("Date: {}", crate::date::rfc5322_now()).as_bytes());
    out.extend_from_slice(&bytes[start + len..]);
    out
}

/// Adds the `--header` headers, each name once.
fn extra_headers(
    mut builder: MessageBuilder,
    headers: Vec<(String, String)>,
) -> Result<MessageBuilder, Error> {
    let mut seen: Vec<String> = Vec::new();
    for (name, _) in &headers {
        let lower = name.to_ascii_lowercase();
        if seen.contains(&lower) {
            return Err(Error::RepeatedHeader(name.clone()));
        }
        seen.push(lower);
    }
    for (name, value) in headers {
        let name = HeaderName::new_from_ascii(name.clone()).map_err(|_| Error::HeaderName(name))?;
        builder = builder.raw_header(HeaderValue::new(name, value));
    }
    Ok(builder)
}

/// The MIME structure: the text (with its HTML alternative), then the attachments.
fn body(
    builder: MessageBuilder,
    text: String,
    html: Option<String>,
    attachments: Vec<AttachmentFile>,
) -> Result<Message, Error> {
    let body = match html {
        Some(html) => Structure::Multi(MultiPart::alternative_plain_html(text, html)),
        None if attachments.is_empty() => Structure::Single(plain_message_body(text)),
        // Inside a multipart the CRLF before the boundary belongs to the boundary: the
        // text keeps its own last line end.
        None => Structure::Single(SinglePart::plain(text)),
    };
    if attachments.is_empty() {
        return match body {
            Structure::Single(p) => builder.singlepart(p),
            Structure::Multi(m) => builder.multipart(m),
        }
        .map_err(|e| Error::Build(e.to_string()));
    }
    let mut mixed = match body {
        Structure::Single(p) => MultiPart::mixed().singlepart(p),
        Structure::Multi(m) => MultiPart::mixed().multipart(m),
    };
    for a in attachments {
        let content_type = ContentType::parse(&a.content_type)
            .or_else(|_| ContentType::parse("application/octet-stream"))
            .map_err(|e| Error::Build(e.to_string()))?;
        mixed = mixed.singlepart(
            Attachment::new(a.filename)
                .body(attachment_body(&a.content_type, a.data), content_type),
        );
    }
    builder
        .multipart(mixed)
        .map_err(|e| Error::Build(e.to_string()))
}

/// The encoded body of an attachment. Files go as base64, so their bytes arrive exactly
/// (a text file with bare LF line ends would otherwise be sent as invalid 7bit).
/// A message/rfc822 part may not be base64 or quoted-printable (RFC 2046): it goes as it
/// is, with CRLF line ends, labelled 7bit or 8bit; only a message with a line over SMTP's
/// 998-character limit or a NUL falls back to base64, which readers still open.
fn attachment_body(content_type: &str, data: Vec<u8>) -> Body {
    use lettre::message::header::ContentTransferEncoding;
    if content_type.eq_ignore_ascii_case("message/rfc822") {
        let crlf = super::raw::to_crlf(&data);
        let fits = !crlf.contains(&0) && crlf.split(|&b| b == b'\n').all(|l| l.len() <= 999);
        if fits {
            let encoding = if crlf.is_ascii() {
                ContentTransferEncoding::SevenBit
            } else {
                ContentTransferEncoding::EightBit
            };
            return Body::dangerous_pre_encoded(crlf, encoding);
        }
    }
    Body::new_with_encoding(data, ContentTransferEncoding::Base64).unwrap_or_else(Body::new)
}

/// The text as the whole body of a message. lettre ends a message's body with a CRLF
/// of its own: when the text goes as lines (7bit, 8bit, quoted-printable), its last line
/// end is dropped so the recipient does not see an extra blank line; in base64 the
/// encoded bytes keep it, since lettre's CRLF is outside the encoding.
fn plain_message_body(text: String) -> SinglePart {
    use lettre::message::header::ContentTransferEncoding;
    match Body::new(text.clone()).encoding() {
        ContentTransferEncoding::Base64 => SinglePart::plain(text),
        _ => SinglePart::plain(without_final_newline(text)),
    }
}

fn without_final_newline(mut text: String) -> String {
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    text
}

enum Structure {
    Single(SinglePart),
    Multi(MultiPart),
}

#[cfg(test)]
mod tests;
