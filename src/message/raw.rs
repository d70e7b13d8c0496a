//! Submitting an existing RFC 5322 message (`send --raw`, later `sendmail`): recipients are
//! read from its headers, Bcc is removed, and a missing Date or Message-ID is added, so the
//! message leaves as written otherwise.

use lettre::Address;
use lettre::message::Mailbox;
use mail_parser::MessageParser;

use super::{Outgoing, new_message_id};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not an RFC 5322 message: no header section was found")]
    NotAMessage,
    #[error("no recipients: the message has no To, Cc or Bcc address, and none was given")]
    NoRecipients,
    #[error("recipient {0:?} in the message's headers is not a valid address")]
    BadAddress(String),
}

/// Whose recipients a raw message goes to.
#[derive(Debug, Clone)]
pub enum Recipients {
    /// Exactly these (the message's headers are not consulted).
    Given(Vec<Address>),
    /// Every address of its To, Cc and Bcc headers, plus these (sendmail `-t`).
    FromHeaders(Vec<Address>),
}

/// Prepares `bytes` for submission from `sender`. A message without a From header gets
/// `from`; one without Date or Message-ID gets them; Bcc is removed.
pub fn prepare(
    bytes: &[u8],
    sender: &Address,
    recipients: Recipients,
    from: &Mailbox,
) -> Result<Outgoing, Error> {
    if !looks_like_message(bytes) {
        return Err(Error::NotAMessage);
    }
    let bytes = to_crlf(bytes);
    let header_end = find_header_end(&bytes).ok_or(Error::NotAMessage)?;
    let parsed = MessageParser::default()
        .parse_headers(&bytes[..])
        .ok_or(Error::NotAMessage)?;
    if parsed.headers().is_empty() {
        return Err(Error::NotAMessage);
    }

    let recipients = match recipients {
        Recipients::Given(r) => r,
        Recipients::FromHeaders(extra) => header_recipients(&parsed, extra, &from.email)?,
    };
    if recipients.is_empty() {
        return Err(Error::NoRecipients);
    }

    let mut added = Vec::new();
    if parsed.from().is_none() && parsed.header_raw("From").is_none() {
        // lettre encodes the display name (RFC 2047) and folds the line.
        let mut headers = lettre::message::header::Headers::new();
        headers.set(lettre::message::header::From::from(
            lettre::message::Mailboxes::from(from.clone()),
        ));
        added.extend_from_slice(headers.to_string().as_bytes());
    }
    if parsed.date().is_none() && parsed.header_raw("Date").is_none() {
        added.extend_from_slice(format!("Date: {}\r\n", crate::date::rfc5322_now()).as_bytes());
    }
    let message_id = match parsed.message_id() {
        Some(id) => format!("<{id}>"),
        None => {
            let id = new_message_id(sender.domain());
            added.extend_from_slice(format!("Message-ID: {id}\r\n").as_bytes());
            id
        }
    };

    let mut out = Vec::with_capacity(bytes.len() + added.len());
    out.extend_from_slice(&added);
    out.extend_from_slice(&strip_header(&bytes[..header_end], "bcc"));
    out.extend_from_slice(&bytes[header_end..]);
    Ok(Outgoing {
        sender: sender.clone(),
        recipients,
        message_id,
        bytes: out,
    })
}

/// The To, Cc and Bcc addresses of `parsed`, each once, then `extra`. A bare user name
/// (cron writes `To: root`, which parses as a name without an address) is `own`, the
/// account holder.
fn header_recipients(
    parsed: &mail_parser::Message<'_>,
    extra: Vec<Address>,
    own: &Address,
) -> Result<Vec<Address>, Error> {
    let mut out: Vec<Address> = Vec::new();
    let lists = [parsed.to(), parsed.cc(), parsed.bcc()];
    for addr in lists.into_iter().flatten().flat_map(|list| list.iter()) {
        let Some(a) = addr.address().or(addr.name()) else {
            continue;
        };
        let a: Address = match a.contains('@') {
            true => a.parse().map_err(|_| Error::BadAddress(a.to_string()))?,
            false => own.clone(),
        };
        if !out.contains(&a) {
            out.push(a);
        }
    }
    for a in extra {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    Ok(out)
}

/// Rewrites bare LF (and bare CR) line ends as CRLF, the only line end SMTP allows.
pub fn to_crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 32);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(b"\r\n");
                i += 2;
                continue;
            }
            b'\r' | b'\n' => out.extend_from_slice(b"\r\n"),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// The offset just past the blank line that ends the header section (CRLF line ends).
/// Whether `bytes` begin as a message does: with a header field (a name of printable
/// ASCII, then a colon), after an mbox `From ` line if there is one. A PDF, an empty
/// file or binary data do not.
pub fn looks_like_message(bytes: &[u8]) -> bool {
    let mut lines = bytes.split(|&b| b == b'\n');
    let mut first = lines.next().unwrap_or_default();
    if first.starts_with(b"From ") {
        first = lines.next().unwrap_or_default();
    }
    match first.iter().position(|&b| b == b':') {
        Some(0) | None => false,
        Some(i) => first[..i].iter().all(|b| (33..=126).contains(b)),
    }
}

fn find_header_end(bytes: &[u8]) -> Option<usize> {
    if bytes.starts_with(b"\r\n") {
        return None;
    }
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 2)
        .or_else(|| (!bytes.is_empty()).then_some(bytes.len()))
}

/// The header section without any field named `name`, continuation lines included.
fn strip_header(headers: &[u8], name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(headers.len());
    let mut dropping = false;
    for line in headers.split_inclusive(|&b| b == b'\n') {
        let continuation = matches!(line.first(), Some(b' ' | b'\t'));
        if !continuation {
            dropping = line.len() > name.len()
                && line[..name.len()].eq_ignore_ascii_case(name.as_bytes())
                && line[name.len()..]
                    .iter()
                    .find(|b| !matches!(b, b' ' | b'\t'))
                    == Some(&b':');
        }
        if !dropping {
            out.extend_from_slice(line);
        }
    }
    out
}

#[cfg(test)]
mod tests;
