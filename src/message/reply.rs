//! Answering a received message: who the reply goes to, its subject and threading
//! headers (RFC 5322 3.6.4), the original quoted below an attribution line; and a
//! forward, inline or as an attachment. Builds a [`Draft`]; knows nothing of IMAP.

use lettre::Address;
use lettre::message::Mailbox;
use mail_parser::{HeaderValue, MessageParser};

use super::compose::{AttachmentFile, Draft};
use super::parse;

/// How many Message-IDs a References header keeps: the first (the thread's root) and
/// the newest, as RFC 5322 allows a client to trim, so a long thread's header stays
/// short.
const MOST_REFERENCES: usize = 20;

/// What the reply is made of besides the original.
#[derive(Debug, Default)]
pub struct Answer {
    /// Reply to all: To and Cc of the original too (or its Mail-Followup-To).
    pub all: bool,
    pub text: String,
    pub attachments: Vec<AttachmentFile>,
}

/// The addresses and headers of a reply to `original` from `own` (the account's
/// address, never a recipient of its own reply).
pub fn reply(original: &[u8], own: &Address, answer: Answer) -> Draft {
    let full = parse::full(original);
    let headers = Headers::of(original);
    let recipients = recipients(&headers, own, answer.all);
    let subject = format!(
        "Re: {}",
        strip_prefixes(full.envelope.subject.as_deref().unwrap_or(""))
    );
    let mut extra = Vec::new();
    if let Some(id) = &headers.message_id {
        extra.push(("In-Reply-To".to_string(), id.clone()));
        extra.push(("References".to_string(), references(&headers, id)));
    }
    let mut text = answer.text;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(&attribution(&full.envelope));
    text.push_str(&quoted(full.text.as_deref().unwrap_or("")));
    Draft {
        to: recipients.to,
        cc: recipients.cc,
        subject: Some(subject),
        text,
        attachments: answer.attachments,
        headers: extra,
        ..Draft::default()
    }
}

/// The To and Cc of a reply.
#[derive(Debug, Default, PartialEq)]
struct Recipients {
    to: Vec<Mailbox>,
    cc: Vec<Mailbox>,
}

/// Reply-To over From; with `all`, Mail-Followup-To when the original has one, else
/// To and Cc added as Cc; the account's own address never, and each address once. A
/// reply to one's own message goes to its recipients.
fn recipients(h: &Headers, own: &Address, all: bool) -> Recipients {
    let mut out = Recipients::default();
    let mut seen: Vec<String> = vec![own.to_string().to_ascii_lowercase()];
    let mut add = |list: &mut Vec<Mailbox>, boxes: &[Mailbox]| {
        for m in boxes {
            let key = m.email.to_string().to_ascii_lowercase();
            if !seen.contains(&key) {
                seen.push(key);
                list.push(m.clone());
            }
        }
    };
    if all && !h.followup_to.is_empty() {
        add(&mut out.to, &h.followup_to);
        return out;
    }
    let from_me = h.from.iter().all(|m| m.email == *own) && !h.from.is_empty();
    match (from_me, h.reply_to.is_empty()) {
        (true, _) => add(&mut out.to, &h.to),
        (false, false) => add(&mut out.to, &h.reply_to),
        (false, true) => add(&mut out.to, &h.from),
    }
    if all {
        add(&mut out.cc, &h.to);
        add(&mut out.cc, &h.cc);
    }
    out
}

/// `Re:`, `RE:`, `Aw:`, `SV:`, `Fwd:`, `回复:`, `答复：` and the like taken off the front,
/// however many, so replies do not stack them.
pub fn strip_prefixes(subject: &str) -> &str {
    const PREFIXES: [&str; 11] = [
        "re", "aw", "sv", "vs", "antw", "fw", "fwd", "wg", "回复", "答复", "转发",
    ];
    let mut rest = subject.trim();
    'again: loop {
        for p in PREFIXES {
            let Some(head) = rest.get(..p.len()) else {
                continue;
            };
            if !head.eq_ignore_ascii_case(p) {
                continue;
            }
            let after = &rest[p.len()..];
            // `Re[2]:` as some clients count.
            let after = match after.strip_prefix('[') {
                Some(a) => a
                    .trim_start_matches(|c: char| c.is_ascii_digit())
                    .strip_prefix(']')
                    .unwrap_or(after),
                None => after,
            };
            if let Some(a) = after.strip_prefix(':').or_else(|| after.strip_prefix('：')) {
                rest = a.trim_start();
                continue 'again;
            }
        }
        return rest;
    }
}

/// The original's References and Message-ID: the thread up to it (its References, or
/// its In-Reply-To when it has none), trimmed to the root and the newest.
fn references(h: &Headers, id: &str) -> String {
    let mut ids: Vec<String> = match h.references.is_empty() {
        true => h.in_reply_to.clone(),
        false => h.references.clone(),
    };
    ids.retain(|r| r != id);
    ids.push(id.to_string());
    if ids.len() > MOST_REFERENCES {
        let newest = ids.split_off(ids.len() - (MOST_REFERENCES - 1));
        ids.truncate(1);
        ids.extend(newest);
    }
    ids.join(" ")
}

/// `On 2026-12-01 09:15 +0100, Ann Lee wrote:`
fn attribution(e: &parse::Envelope) -> String {
    let who = e
        .from
        .first()
        .and_then(|p| p.name.clone().or_else(|| p.address.clone()))
        .unwrap_or_else(|| "someone".to_string());
    match &e.date {
        Some(date) => format!("On {}, {who} wrote:\n", crate::date::long_local(date)),
        None => format!("{who} wrote:\n"),
    }
}

/// Every line with `> ` before it (`>` alone before an empty line or a quote).
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16 + 2);
    for line in text.trim_end().lines() {
        match line.is_empty() || line.starts_with('>') {
            true => out.push('>'),
            false => out.push_str("> "),
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// A forward of `original`: inline (its text below a header block, its attachments
/// kept), or whole as a message/rfc822 attachment.
pub fn forward(original: &[u8], text: String, as_attachment: bool) -> Draft {
    let full = parse::full(original);
    let e = &full.envelope;
    let subject = format!(
        "Fwd: {}",
        strip_prefixes(e.subject.as_deref().unwrap_or(""))
    );
    let mut body = text;
    if !body.is_empty() && !body.ends_with('\n') {
        body.push('\n');
    }
    let attachments = match as_attachment {
        true => vec![AttachmentFile {
            filename: format!("{}.eml", file_stem(e.subject.as_deref())),
            content_type: "message/rfc822".to_string(),
            data: original.to_vec(),
        }],
        false => {
            body.push_str(&forwarded_block(e));
            body.push_str(full.text.as_deref().unwrap_or(""));
            parse::attachment_contents(original)
                .into_iter()
                .map(|(info, data)| AttachmentFile {
                    filename: info.filename.unwrap_or_else(|| "attachment".to_string()),
                    content_type: info.content_type,
                    data,
                })
                .collect()
        }
    };
    let mut headers = Vec::new();
    if let Some(id) = &e.message_id {
        headers.push(("References".to_string(), id.clone()));
    }
    Draft {
        subject: Some(subject),
        text: body,
        attachments,
        headers,
        ..Draft::default()
    }
}

fn forwarded_block(e: &parse::Envelope) -> String {
    let people = |list: &[parse::Person]| {
        list.iter()
            .map(|p| match (&p.name, &p.address) {
                (Some(n), Some(a)) => format!("{n} <{a}>"),
                (None, Some(a)) => a.clone(),
                (Some(n), None) => n.clone(),
                (None, None) => String::new(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = String::from("\n---------- Forwarded message ----------\n");
    out.push_str(&format!("From: {}\n", people(&e.from)));
    if let Some(date) = &e.date {
        out.push_str(&format!("Date: {}\n", crate::date::long_local(date)));
    }
    out.push_str(&format!(
        "Subject: {}\n",
        e.subject.as_deref().unwrap_or("")
    ));
    out.push_str(&format!("To: {}\n", people(&e.to)));
    if !e.cc.is_empty() {
        out.push_str(&format!("Cc: {}\n", people(&e.cc)));
    }
    out.push('\n');
    out
}

/// A file name from a subject: its words, without what file systems refuse.
fn file_stem(subject: Option<&str>) -> String {
    let stem: String = subject
        .unwrap_or("")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || " .-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    match stem.trim() {
        "" => "message".to_string(),
        s => s.to_string(),
    }
}

/// The headers of the original a reply is made from.
#[derive(Debug, Default)]
struct Headers {
    from: Vec<Mailbox>,
    reply_to: Vec<Mailbox>,
    to: Vec<Mailbox>,
    cc: Vec<Mailbox>,
    followup_to: Vec<Mailbox>,
    message_id: Option<String>,
    in_reply_to: Vec<String>,
    references: Vec<String>,
}

impl Headers {
    fn of(original: &[u8]) -> Headers {
        let Some(m) = MessageParser::default().parse_headers(original) else {
            return Headers::default();
        };
        let boxes = |v: Option<&mail_parser::Address<'_>>| -> Vec<Mailbox> {
            v.into_iter()
                .flat_map(|a| a.iter())
                .filter_map(|a| {
                    let email: Address = a.address()?.parse().ok()?;
                    Some(Mailbox::new(a.name().map(str::to_string), email))
                })
                .collect()
        };
        // Not a header mail-parser knows: read as if it were a To.
        let followup_header = m
            .header_raw("Mail-Followup-To")
            .map(|raw| format!("To:{raw}\r\n\r\n").into_bytes())
            .unwrap_or_default();
        let followup = MessageParser::default().parse_headers(&followup_header);
        let ids = |v: &HeaderValue<'_>| -> Vec<String> {
            match v {
                HeaderValue::Text(t) => vec![format!("<{t}>")],
                HeaderValue::TextList(l) => l.iter().map(|t| format!("<{t}>")).collect(),
                _ => Vec::new(),
            }
        };
        Headers {
            from: boxes(m.from()),
            reply_to: boxes(m.reply_to()),
            to: boxes(m.to()),
            cc: boxes(m.cc()),
            followup_to: boxes(followup.as_ref().and_then(|f| f.to())),
            message_id: m.message_id().map(|id| format!("<{id}>")),
            in_reply_to: ids(m.in_reply_to()),
            references: ids(m.references()),
        }
    }
}

#[cfg(test)]
mod tests;
