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
    let heading = format!(
        "{} new in {} ({})",
        messages.len(),
        layout.mailbox,
        layout.account
    );
    let mut html = format!("{HTML_HEAD}<h1 class=\"top\">{}</h1>\n", escape(&heading));
    if messages.is_empty() {
        text.push_str(&format!("No new messages in {}.\n", layout.mailbox));
        html.push_str("<p>No new messages.</p>\n");
    }
    let rows: Vec<Row<'_>> = messages.iter().map(|m| Row::of(&m.full)).collect();
    for (i, row) in rows.iter().enumerate() {
        text.push_str(&row.text(i + 1));
    }
    for group in groups(&rows) {
        html.push_str(&group.html(&rows));
    }
    if more > 0 {
        let note = format!("{more} more new message(s) will be in the next digest.");
        text.push_str(&format!("{note}\n"));
        html.push_str(&format!("<p class=\"note\">{}</p>\n", escape(&note)));
    }
    html.push_str("</div></body></html>\n");
    (text, html)
}

/// The head of the HTML digest. It reads on a phone as on a desktop: one column, as
/// wide as the screen up to a comfortable line length, long words and addresses
/// wrapped rather than scrolled; light or dark as the reader's mail program is (the
/// inline colours are the light ones, for programs that drop the style sheet).
const HTML_HEAD: &str = concat!(
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\">",
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
    "<meta name=\"color-scheme\" content=\"light dark\">",
    "<style>",
    ":root{color-scheme:light dark}",
    "body{margin:0;background:#ffffff;color:#1a1a1a}",
    ".page{max-width:40em;margin:0 auto;padding:12px 16px;",
    "font:16px/1.45 -apple-system,'Segoe UI',Roboto,'Noto Sans','Noto Sans CJK SC',sans-serif;",
    "overflow-wrap:anywhere;word-break:break-word}",
    ".top{font-size:1.25em;margin:0.3em 0 0.8em}",
    ".group{margin:1.1em 0 0.3em;font-size:0.95em;color:#555}",
    ".msg{border-top:1px solid #dddddd;padding:0.6em 0}",
    ".who{font-size:0.9em;color:#555}",
    ".subject{font-weight:600;margin:0.15em 0}",
    ".preview{color:#555;font-size:0.95em;white-space:pre-line}",
    ".note{color:#555}",
    "@media (prefers-color-scheme:dark){",
    "body{background:#121212;color:#e8e8e8}",
    ".group,.who,.preview,.note{color:#a8a8a8}",
    ".msg{border-top-color:#333333}}",
    "</style></head><body><div class=\"page\">\n",
);

/// Messages shown together under one heading: a thread (the same subject, replies
/// and forwards included) or one sender with several messages; else one message.
struct Group {
    title: Option<String>,
    members: Vec<usize>,
}

/// What the messages of a group share.
type GroupKey<'k> = dyn Fn(&Row<'_>) -> String + 'k;

/// The groups of `rows`, in the order their first message came: threads first, then
/// what is left grouped by sender.
fn groups(rows: &[Row<'_>]) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    let mut placed = vec![false; rows.len()];
    let by_thread = |r: &Row<'_>| thread_key(r.subject);
    let by_sender = |r: &Row<'_>| r.sender_key();
    let kinds: [(&GroupKey, bool); 2] = [(&by_thread, true), (&by_sender, false)];
    for (key, thread) in kinds {
        for i in 0..rows.len() {
            let k = key(&rows[i]);
            if placed[i] || k.is_empty() {
                continue;
            }
            let same: Vec<usize> = (i..rows.len())
                .filter(|&j| !placed[j] && key(&rows[j]) == k)
                .collect();
            if same.len() < 2 {
                continue;
            }
            same.iter().for_each(|&j| placed[j] = true);
            let name = if thread {
                rows[i].subject
            } else {
                rows[i].from.as_str()
            };
            let title = Some(format!("{name} ({})", same.len()));
            out.push(Group {
                title,
                members: same,
            });
        }
    }
    for i in (0..rows.len()).filter(|&i| !placed[i]) {
        out.push(Group {
            title: None,
            members: vec![i],
        });
    }
    out.sort_by_key(|g| g.members[0]);
    out
}

/// A subject without its reply and forward prefixes (`Re:`, `Fwd:`, `AW:`, `回复：`…),
/// compared without case: the messages of one thread share it.
fn thread_key(subject: &str) -> String {
    let mut s = subject.trim();
    loop {
        let lower = s.to_lowercase();
        let prefix = [
            "re:",
            "fwd:",
            "fw:",
            "aw:",
            "wg:",
            "sv:",
            "回复:",
            "回复：",
            "转发:",
            "转发：",
        ]
        .iter()
        .find(|p| lower.starts_with(*p));
        match prefix {
            Some(p) => s = s[p.len()..].trim_start(),
            None => return lower,
        }
    }
}

impl Group {
    fn html(&self, rows: &[Row<'_>]) -> String {
        let mut out = String::new();
        if let Some(title) = &self.title {
            out.push_str(&format!("<h2 class=\"group\">{}</h2>\n", escape(title)));
        }
        for &i in &self.members {
            out.push_str(&rows[i].html());
        }
        out
    }
}

/// One message's line of the digest.
struct Row<'a> {
    date: String,
    from: String,
    /// The address alone (else the name), for grouping by sender.
    address: String,
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
        let address = e
            .from
            .first()
            .and_then(|p| p.address.clone().or(p.name.clone()))
            .unwrap_or_default();
        Row {
            address,
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

    /// One block: who and when above the subject, then the preview.
    fn html(&self) -> String {
        let who = match self.date.is_empty() {
            true => escape(&self.from),
            false => format!("{} · {}", escape(&self.from), escape(&self.date)),
        };
        format!(
            "<div class=\"msg\" style=\"border-top:1px solid #dddddd;padding:0.6em 0\"><div class=\"who\">{who}</div><div class=\"subject\" style=\"font-weight:600\">{}</div><div class=\"preview\">{}</div></div>\n",
            escape(self.subject),
            escape(&self.preview).replace('\n', "<br>")
        )
    }

    /// The sender's address (else name), for grouping.
    fn sender_key(&self) -> String {
        self.address.to_lowercase()
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
