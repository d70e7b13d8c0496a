//! The digest itself: a line or three per message, as plain text and as HTML.

use lettre::message::Mailbox;

use crate::mailbox::MailboxName;
use crate::message::compose::{AttachmentFile, Draft};
use crate::message::parse::{self, Full};

/// What the digest says and where it goes.
pub struct Layout<'a> {
    pub to: &'a [Mailbox],
    /// The account's address, named in the heading.
    pub account: &'a str,
    pub mailbox: &'a MailboxName,
    /// `{date}` and `{count}` are replaced.
    pub subject: &'a str,
    pub attach_originals: bool,
}

/// How much one digest covers.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// At most this many messages; the rest wait for the next digest.
    pub max: usize,
    /// A first digest covers what arrived since this Unix time.
    pub first_run_since: i64,
}

/// A summarised message: its server key, parsed form and raw bytes.
pub struct Item {
    key: String,
    full: Full,
    raw: Vec<u8>,
}

/// The header every digest carries, so that a digest delivered to the mailbox it
/// summarises is not listed by the next one (and a digest of digests never starts).
pub const MARK: &str = "X-Mailer-Digest";

impl Item {
    pub fn new(key: String, raw: &[u8]) -> Item {
        Item {
            key,
            full: parse::full(raw),
            raw: raw.to_vec(),
        }
    }

    /// Whether this message is itself a digest.
    pub fn is_digest(&self) -> bool {
        mail_parser::MessageParser::default()
            .parse_headers(&self.raw[..])
            .is_some_and(|m| m.header_raw(MARK).is_some())
    }
}

/// The first lines of a body, for the summary.
fn preview(text: Option<&str>) -> String {
    let text = text.unwrap_or("");
    let mut lines = Vec::new();
    let mut chars = 0;
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('>'))
    {
        let line: String = line.chars().take(200).collect();
        chars += line.chars().count();
        lines.push(line);
        if lines.len() == 3 || chars > 300 {
            break;
        }
    }
    lines.join("\n")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The digest of `messages`, with a note of the `more` that wait for the next one.
pub fn draft(layout: &Layout<'_>, messages: &[Item], more: usize) -> Draft {
    let subject = layout
        .subject
        .replace("{date}", &crate::date::today_local().to_string())
        .replace("{count}", &messages.len().to_string());
    let (text, html) = bodies(layout, messages, more);
    let attachments = match layout.attach_originals {
        true => messages.iter().map(original).collect(),
        false => Vec::new(),
    };
    Draft {
        to: layout.to.to_vec(),
        subject: Some(subject),
        text,
        html: Some(html),
        attachments,
        // RFC 3834: machine-made, so vacation responders and the like do not answer it.
        headers: vec![
            ("Auto-Submitted".into(), "auto-generated".into()),
            (MARK.into(), "yes".into()),
        ],
        ..Draft::default()
    }
}

/// The text and HTML bodies.
fn bodies(layout: &Layout<'_>, messages: &[Item], more: usize) -> (String, String) {
    let mut text = String::new();
    let mut html = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body style=\"font-family:sans-serif\">\n",
    );
    let heading = format!(
        "{} new in {} ({})",
        messages.len(),
        layout.mailbox,
        layout.account
    );
    html.push_str(&format!("<h2>{}</h2>\n", escape(&heading)));
    if messages.is_empty() {
        text.push_str(&format!("No new messages in {}.\n", layout.mailbox));
        html.push_str("<p>No new messages.</p>\n");
    } else {
        html.push_str("<table cellpadding=\"6\" style=\"border-collapse:collapse\">\n<tr><th align=\"left\">Date</th><th align=\"left\">From</th><th align=\"left\">Subject</th></tr>\n");
    }
    for (i, item) in messages.iter().enumerate() {
        let row = Row::of(&item.full);
        text.push_str(&row.text(i + 1));
        html.push_str(&row.html());
    }
    if !messages.is_empty() {
        html.push_str("</table>\n");
    }
    if more > 0 {
        let note = format!("{more} more new message(s) will be in the next digest.");
        text.push_str(&format!("{note}\n"));
        html.push_str(&format!("<p>{}</p>\n", escape(&note)));
    }
    html.push_str("</body></html>\n");
    (text, html)
}

/// One message's line of the digest.
struct Row<'a> {
    date: String,
    from: String,
    subject: &'a str,
    preview: String,
}

impl<'a> Row<'a> {
    fn of(full: &'a Full) -> Row<'a> {
        let e = &full.envelope;
        let from = e
            .from
            .first()
            .map(|p| match (&p.name, &p.address) {
                (Some(n), Some(a)) if !n.is_empty() => format!("{n} <{a}>"),
                (_, Some(a)) => a.clone(),
                (Some(n), None) => n.clone(),
                (None, None) => String::new(),
            })
            .unwrap_or_default();
        Row {
            date: e
                .date
                .as_deref()
                .map(crate::date::long_local)
                .unwrap_or_default(),
            from,
            subject: e.subject.as_deref().unwrap_or("(no subject)"),
            preview: preview(full.text.as_deref()),
        }
    }

    fn text(&self, number: usize) -> String {
        let mut out = format!(
            "{number}. {}  {}\n   {}\n",
            self.date, self.from, self.subject
        );
        for l in self.preview.lines() {
            out.push_str(&format!("   | {l}\n"));
        }
        out.push('\n');
        out
    }

    fn html(&self) -> String {
        format!(
            "<tr style=\"border-top:1px solid #ddd\"><td valign=\"top\">{}</td><td valign=\"top\">{}</td><td valign=\"top\"><b>{}</b><br><span style=\"color:#555\">{}</span></td></tr>\n",
            escape(&self.date),
            escape(&self.from),
            escape(self.subject),
            escape(&self.preview).replace('\n', "<br>")
        )
    }
}

/// A summarised message attached as it came (`--attach-originals`).
fn original(item: &Item) -> AttachmentFile {
    AttachmentFile {
        filename: format!("message-{}.eml", crate::store::path_component(&item.key)),
        content_type: "message/rfc822".into(),
        data: item.raw.clone(),
    }
}
