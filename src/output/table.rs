//! The envelope table of `list` and `fetch`: fitted to the terminal's width (the subject
//! cut with an ellipsis, by display width), a flags column, local dates, and a header
//! row on a terminal.

use super::text::{fit, human_size};
use crate::message::parse::Envelope;

/// The columns: `ID  FLAG  DATE  FROM  SUBJECT  SIZE`, two spaces apart.
pub struct Table {
    id: usize,
    from: usize,
    subject: usize,
}

const FLAGS: usize = 4;
const DATE: usize = 10;
const SIZE: usize = 6;

impl Table {
    /// A table `width` columns wide for ids up to `id` characters.
    pub fn new(width: usize, id: usize) -> Table {
        let id = id.max(3);
        let fixed = id + FLAGS + DATE + SIZE + 5 * 2;
        let rest = width.saturating_sub(fixed).max(20);
        let from = (rest * 3 / 10).clamp(8, 24);
        Table {
            id,
            from,
            subject: rest - from,
        }
    }

    /// The table for these envelopes on this output.
    pub fn for_envelopes(list: &[Envelope]) -> Table {
        let id = list.iter().map(|e| e.id.len()).max().unwrap_or(0).max(6);
        Table::new(width(), id)
    }

    pub fn header(&self) -> String {
        self.row("ID", "FLAG", "DATE", "FROM", "SUBJECT", "SIZE")
    }

    pub fn line(&self, e: &Envelope) -> String {
        let date = e
            .date
            .as_deref()
            .map(crate::date::short_local)
            .unwrap_or_default();
        let from = e.from.first().map(|p| p.display()).unwrap_or("");
        let subject = e.subject.as_deref().unwrap_or("(no subject)");
        let size = human_size(e.size);
        self.row(&e.id, &flags(e), &date, from, subject, &size)
    }

    fn row(
        &self,
        id: &str,
        flags: &str,
        date: &str,
        from: &str,
        subject: &str,
        size: &str,
    ) -> String {
        format!(
            "{id:>w$}  {}  {}  {}  {}  {size:>SIZE$}",
            fit(flags, FLAGS),
            fit(date, DATE),
            fit(from, self.from),
            fit(subject, self.subject),
            w = self.id,
        )
    }
}

/// mutt's letters: `N` unread, `!` flagged, `r` answered, `@` with attachments. POP3
/// keeps no flags: only `@` there.
fn flags(e: &Envelope) -> String {
    let has = |flag: &str| e.flags.iter().any(|f| f.eq_ignore_ascii_case(flag));
    let mark = |on: bool, c: char| if on { c } else { ' ' };
    let known = e.flags_known;
    [
        mark(known && !has("\\Seen"), 'N'),
        mark(has("\\Flagged"), '!'),
        mark(has("\\Answered"), 'r'),
        mark(!e.attachments.is_empty(), '@'),
    ]
    .iter()
    .collect()
}

/// The width to fit lines to: `COLUMNS` when set, else the terminal's, else 100 (a
/// pipe keeps lines of a readable length).
pub fn width() -> usize {
    if let Some(w) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|w| *w >= 20)
    {
        return w;
    }
    match terminal_size::terminal_size_of(std::io::stdout()) {
        Some((terminal_size::Width(w), _)) if w >= 20 => usize::from(w),
        _ => 100,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_width::UnicodeWidthStr;

    fn envelope(subject: &str) -> Envelope {
        let mut e = crate::message::parse::envelope_from_headers(
            format!("From: 张伟 <z@example.org>\r\nSubject: {subject}\r\nDate: Tue, 01 Dec 2026 19:51:19 +0000\r\n\r\n").as_bytes(),
            2048,
        );
        e.id = "4242".into();
        e.flags = vec!["\\Flagged".into()];
        e.flags_known = true;
        e
    }

    #[test]
    fn lines_fit_the_width_exactly_whatever_the_subject() {
        for width in [80, 120] {
            let table = Table::new(width, 6);
            for subject in ["short", &"季度报告".repeat(40), &"x".repeat(300)] {
                let line = table.line(&envelope(subject));
                assert_eq!(line.width(), width, "{line}");
            }
            assert_eq!(table.header().width(), width);
        }
        let long = Table::new(80, 6).line(&envelope(&"季度报告".repeat(40)));
        assert!(long.contains('…'), "{long}");
    }

    #[test]
    fn flags_show_unread_flagged_and_attachments() {
        let e = envelope("s");
        assert_eq!(flags(&e), "N!  ");
        let mut pop3 = envelope("s");
        pop3.flags_known = false;
        pop3.flags.clear();
        assert_eq!(flags(&pop3), "    ");
    }
}
