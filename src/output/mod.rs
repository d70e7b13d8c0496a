//! What commands print: aligned lines for people, JSON for scripts. Columns are padded by
//! display width, so CJK text (two columns a character) lines up.

mod auth;
mod changes;
pub mod color;
mod pager;
mod setup;
mod table;
mod text;

pub use auth::{auth_prompt, auth_status, signed_in, signed_out};
pub use changes::{deleted, flagged, mailbox_changed, transferred};
pub use setup::{account_added, check_steps};
use text::print_json;
pub use text::{fit, human_size, printable};

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use unicode_width::UnicodeWidthStr;

use serde::Serialize;

use crate::commands::deliver::Delivery;
use crate::commands::fetch::Sink;
use crate::commands::send::SendReport;
use crate::error::{Exit, Failure};
use crate::message::parse::Envelope;

/// The JSON object `send --json` prints.
#[derive(Serialize)]
struct SendJson<'a> {
    message_id: &'a str,
    recipients: Vec<String>,
    sent: bool,
    /// The outbox id, when the message was queued instead.
    queue_id: Option<&'a str>,
    reason: Option<&'a str>,
    /// The exact bytes, for `--dry-run`.
    message: Option<String>,
    /// `--draft`: the mailbox it was saved in.
    #[serde(skip_serializing_if = "Option::is_none")]
    draft_mailbox: Option<&'a str>,
}

/// `send`: the Message-ID once the server accepted the message (nothing on stdout when
/// it was queued: the error line says so); for `--dry-run`, the exact bytes.
pub fn send_report(report: &SendReport, json: bool) {
    let mut out = std::io::stdout().lock();
    let queued = match &report.delivery {
        Some(Delivery::Queued { id, reason, .. }) => Some((id.as_str(), reason.as_str())),
        _ => None,
    };
    if json {
        let value = SendJson {
            message_id: &report.message.message_id,
            recipients: report
                .message
                .recipients
                .iter()
                .map(|a| a.to_string())
                .collect(),
            sent: matches!(report.delivery, Some(Delivery::Sent { .. })),
            queue_id: queued.map(|(id, _)| id),
            reason: queued.map(|(_, reason)| reason),
            message: (report.delivery.is_none() && report.drafted.is_none())
                .then(|| String::from_utf8_lossy(&report.message.bytes).into_owned()),
            draft_mailbox: report.drafted.as_deref(),
        };
        let _ = writeln!(out, "{}", text::json_text(&value));
    } else if let Some(mailbox) = &report.drafted {
        let id = &report.message.message_id;
        let _ = writeln!(out, "{id}");
        eprintln!("mailer: saved in {}, not sent", printable(mailbox, false));
    } else if report.delivery.is_none() {
        let _ = out.write_all(&report.message.bytes);
    } else if queued.is_none() {
        let _ = writeln!(out, "{}", report.message.message_id);
    }
}

/// Every problem but the last on its own line of stderr; the last is the command's
/// failure, with `exit`. Ok when there is none.
pub fn problems(problems: &[Failure], exit: Option<Exit>) -> Result<(), Failure> {
    let (Some(exit), Some((last, others))) = (exit, problems.split_last()) else {
        return Ok(());
    };
    let mut err = std::io::stderr().lock();
    for f in others {
        let _ = writeln!(err, "mailer: {}", printable(&f.to_string(), false));
    }
    Err(Failure::new(exit, last.to_string()))
}

/// Prints fetched messages as they become durable: a line each, or a JSON array.
pub struct FetchPrinter {
    json: bool,
    /// `--json-lines`: one object a line, no array around them.
    lines: bool,
    people: bool,
    count: usize,
    started: bool,
    progress: ProgressBar,
    /// Made for the first message, whose id says how wide ids are.
    table: Option<table::Table>,
    /// Whether the bar shows the time left yet.
    estimating: bool,
}

/// How long a fetch runs before the bar estimates the time left.
const ESTIMATE_AFTER: std::time::Duration = std::time::Duration::from_secs(3);

impl FetchPrinter {
    pub fn new(json: bool, lines: bool, people: bool) -> FetchPrinter {
        FetchPrinter {
            json: json || lines,
            lines,
            people,
            count: 0,
            started: false,
            progress: ProgressBar::hidden(),
            table: None,
            estimating: false,
        }
    }

    fn emit(&mut self, line: &str) {
        self.progress.suspend(|| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
        });
    }
}

impl Sink for FetchPrinter {
    fn start(&mut self, total: usize) {
        self.started = true;
        if self.json && !self.lines {
            let _ = write!(std::io::stdout().lock(), "[");
        }
        // A bar only for people watching a long run; cron's stderr stays clean.
        if total >= 50 && std::io::stderr().is_terminal() {
            self.progress =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}") {
                self.progress.set_style(style);
            }
        }
    }

    fn notice(&mut self, text: &str) {
        self.progress.suspend(|| {
            let _ = writeln!(
                std::io::stderr().lock(),
                "mailer: {}",
                printable(text, false)
            );
        });
    }

    fn stored(&mut self, envelope: &Envelope) {
        self.count += 1;
        self.progress.inc(1);
        // An estimate only once a few seconds of data make it worth something.
        if !self.estimating && self.progress.elapsed() > ESTIMATE_AFTER {
            self.estimating = true;
            let template = "{bar:30} {pos}/{len} {msg} (about {eta} left)";
            if let Ok(style) = ProgressStyle::with_template(template) {
                self.progress.set_style(style);
            }
        }
        if self.json {
            let value = serde_json::to_string(envelope).unwrap_or_default();
            let sep = match (self.lines, self.count) {
                (true, _) => "",
                (false, 1) => "\n",
                (false, _) => ",\n",
            };
            let end = if self.lines { "\n" } else { "" };
            self.progress.suspend(|| {
                let _ = write!(std::io::stdout().lock(), "{sep}{value}{end}");
            });
        } else {
            if self.table.is_none() {
                let table = table::Table::new(table::width(), envelope.id.len().max(6));
                if self.people {
                    self.emit(&color::paint(&table.header(), color::Paint::Strong));
                }
                self.table = Some(table);
            }
            if let Some(line) = self.table.as_ref().map(|t| t.line(envelope)) {
                self.emit(&line);
            }
        }
    }
}

impl Drop for FetchPrinter {
    /// Closes the JSON array, whether the run ended well or not, so the output stays valid.
    fn drop(&mut self) {
        self.progress.finish_and_clear();
        if self.json && !self.lines && self.started {
            let end = if self.count == 0 { "]" } else { "\n]" };
            let _ = writeln!(std::io::stdout().lock(), "{end}");
        }
    }
}

/// `watch`: each new message as it comes, a line, or with `--json` an object a line
/// (the run never ends, so there is no array to close).
pub fn watched(list: &[Envelope], json: bool) {
    let mut out = std::io::stdout().lock();
    let table = table::Table::new(table::width(), 6);
    for e in list {
        let line = match json {
            true => serde_json::to_string(e).unwrap_or_default(),
            false => table.line(e),
        };
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}

/// `list`: a line per envelope, or a JSON array.
pub fn envelopes(list: &[Envelope], json: bool, people: bool) {
    if json {
        return print_json(&list);
    }
    let mut out = std::io::stdout().lock();
    if list.is_empty() {
        if people {
            let _ = writeln!(out, "no messages");
        }
        return;
    }
    let table = table::Table::for_envelopes(list);
    if people {
        let _ = writeln!(
            out,
            "{}",
            color::paint(&table.header(), color::Paint::Strong)
        );
    }
    for e in list {
        let _ = writeln!(out, "{}", table.line(e));
    }
}

/// `read`: headers, the text body, and the attachments; or the JSON object.
/// On a terminal (`paged`), through the pager.
pub fn message(full: &crate::message::parse::Full, json: bool, paged: bool) {
    if json {
        return print_json(full);
    }
    let e = &full.envelope;
    let people = |list: &[crate::message::parse::Person]| {
        list.iter()
            .map(|p| match (&p.name, &p.address) {
                (Some(n), Some(a)) if !n.is_empty() => format!("{n} <{a}>"),
                (_, Some(a)) => a.clone(),
                (Some(n), None) => n.clone(),
                (None, None) => String::new(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = Vec::new();
    let mut field = |name: &str, value: &str| {
        if !value.is_empty() {
            let _ = writeln!(out, "{name:<8} {}", printable(value, false));
        }
    };
    let date = e.date.as_deref().map(crate::date::long_local);
    field("Date:", date.as_deref().unwrap_or(""));
    field("From:", &people(&e.from));
    field("To:", &people(&e.to));
    field("Cc:", &people(&e.cc));
    field("Subject:", e.subject.as_deref().unwrap_or(""));
    for name in &e.repeated_headers {
        let _ = writeln!(
            out,
            "warning: the message has more than one {name}: header; the first is shown (a forged sender often hides behind a second)"
        );
    }
    let _ = writeln!(out);
    // The text comes with LF line ends (parse::full).
    if let Some(text) = &full.text {
        let _ = write!(out, "{}", printable(text, true));
        if !text.ends_with('\n') {
            let _ = writeln!(out);
        }
    }
    if !e.attachments.is_empty() {
        let _ = writeln!(out, "\nAttachments:");
        for a in &e.attachments {
            let _ = writeln!(
                out,
                "  {}  {}  {}",
                printable(a.filename.as_deref().unwrap_or("(unnamed)"), false),
                printable(&a.content_type, false),
                human_size(a.size as u64)
            );
        }
    }
    match paged {
        true => pager::page(&out),
        false => {
            let _ = std::io::stdout().lock().write_all(&out);
        }
    }
}

/// `attachments`: the files written.
pub fn paths(paths: &[std::path::PathBuf], json: bool) {
    if json {
        let list: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return print_json(&list);
    }
    let mut out = std::io::stdout().lock();
    for p in paths {
        let _ = writeln!(out, "{}", printable(&p.display().to_string(), false));
    }
}

/// `mailboxes`: name, total, unseen.
pub fn mailboxes(list: &[crate::commands::mailboxes::MailboxCount], json: bool) {
    if json {
        return print_json(&list);
    }
    let width = list
        .iter()
        .map(|m| UnicodeWidthStr::width(printable(&m.name, false).as_ref()))
        .max()
        .unwrap_or(0)
        .max(7);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{}  {:>7}  {:>7}",
        fit("MAILBOX", width),
        "TOTAL",
        "UNSEEN"
    );
    for m in list {
        let n = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "{}  {:>7}  {:>7}",
            fit(&m.name, width),
            n(m.total),
            n(m.unseen)
        );
    }
}

/// The JSON object `queue flush --json` prints (docs/json.md).
#[derive(Serialize)]
struct FlushedJson {
    sent: usize,
    left: usize,
}

/// `queue flush`: how many went and how many wait, as JSON, or for a person on a
/// terminal; a script without `--json` gets silence.
pub fn flushed(sent: usize, left: usize, json: bool, people: bool) {
    if json {
        print_json(&FlushedJson { sent, left });
    } else if people {
        println!("sent {sent}, {left} left");
    }
}

/// A queued message as `queue list --json` prints it.
#[derive(Serialize)]
struct QueuedJson<'a> {
    queue_id: &'a str,
    account: &'a str,
    message_id: &'a str,
    sender: String,
    recipients: Vec<String>,
    /// When it was queued (RFC 3339).
    queued_at: String,
    attempts: u32,
    error: &'a str,
    size: usize,
}

/// `queue list`: a line per queued message, or a JSON array.
pub fn queue(rows: &[(String, crate::store::outbox::Queued)], json: bool) {
    let when = |q: &crate::store::outbox::Queued| {
        mail_parser::DateTime::from_timestamp(q.queued_at as i64).to_rfc3339()
    };
    let recipients = |q: &crate::store::outbox::Queued| -> Vec<String> {
        q.message.recipients.iter().map(|r| r.to_string()).collect()
    };
    if json {
        let list: Vec<QueuedJson<'_>> = rows
            .iter()
            .map(|(account, q)| QueuedJson {
                queue_id: &q.id,
                account,
                message_id: &q.message.message_id,
                sender: q.message.sender.to_string(),
                recipients: recipients(q),
                queued_at: when(q),
                attempts: q.attempts,
                error: &q.error,
                size: q.message.bytes.len(),
            })
            .collect();
        return print_json(&list);
    }
    let mut out = std::io::stdout().lock();
    for (account, q) in rows {
        let when = when(q);
        let to = recipients(q).join(",");
        let _ = writeln!(
            out,
            "{}  {}  {}  {}x  {}  {}",
            q.id,
            account,
            when.get(..16).unwrap_or(&when).replace('T', " "),
            q.attempts,
            fit(&to, 30).trim_end(),
            printable(&q.error, false)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_counts_display_columns() {
        assert_eq!(fit("周报", 6), "周报  ");
        assert_eq!(fit("周报周报周报", 7), "周报周…");
        assert_eq!(UnicodeWidthStr::width(fit("周报周报周报", 7).as_str()), 7);
        assert_eq!(fit("abc", 3), "abc");
        assert_eq!(fit("abcd", 3), "ab…");
    }

    #[test]
    fn control_characters_are_shown_escaped() {
        assert_eq!(
            printable("\u{1b}[2J\u{1b}]0;pwned\u{7}x", false),
            "\\u{1b}[2J\\u{1b}]0;pwned\\u{7}x"
        );
        assert_eq!(printable("a\r\nb\0", false), "a\\r\\nb\\u{0}");
        assert_eq!(
            printable("line one\n\tline two\r", true),
            "line one\n\tline two\\r"
        );
        assert_eq!(printable("abc\u{202e}txt", false), "abc\\u{202e}txt");
        assert!(matches!(
            printable("周报", false),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(fit("a\u{1b}b", 9), "a\\u{1b}b ");
    }
}
