//! A query tried on one message at hand (`--local`, over the Maildir), as IMAP's SEARCH
//! would try it on the server: substrings without regard to case.

use super::expr::{Expr, Header, State, Term};
use crate::date::Day;

/// What a query asks of a message.
pub trait Candidate {
    /// The header's text (names and addresses of an address header), decoded.
    fn header(&self, header: Header) -> String;
    /// The body's text, decoded.
    fn body(&self) -> &str;
    /// The day it was sent (its Date header), if known.
    fn day(&self) -> Option<Day>;
    fn size(&self) -> u64;
    /// Whether it has the flag, as IMAP spells it (`\Seen`).
    fn has_flag(&self, flag: &str) -> bool;
    fn has_attachment(&self) -> bool;
    fn uid(&self) -> Option<u32>;
}

impl Expr {
    /// Whether `message` matches. `gmail:` matches nothing here: only Gmail's servers
    /// can answer it (the command refuses it first).
    pub fn matches(&self, message: &impl Candidate) -> bool {
        match self {
            Expr::All(all) => all.iter().all(|e| e.matches(message)),
            Expr::Either(a, b) => a.matches(message) || b.matches(message),
            Expr::Not(e) => !e.matches(message),
            Expr::Term(t) => term(t, message),
        }
    }
}

fn contains(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(&needle.to_lowercase())
}

fn term(t: &Term, m: &impl Candidate) -> bool {
    const HEADERS: [Header; 4] = [Header::From, Header::To, Header::Cc, Header::Subject];
    match t {
        Term::Header(h, text) => contains(&m.header(*h), text),
        Term::Body(text) => contains(m.body(), text),
        Term::Text(text) => {
            HEADERS.iter().any(|h| contains(&m.header(*h), text)) || contains(m.body(), text)
        }
        Term::Since(d) => m.day().is_some_and(|day| day >= *d),
        Term::Before(d) => m.day().is_some_and(|day| day < *d),
        Term::On(d) => m.day() == Some(*d),
        Term::Larger(n) => m.size() > *n,
        Term::Smaller(n) => m.size() < *n,
        Term::Is(state) => match state {
            State::Unread => !m.has_flag("\\Seen"),
            State::Read => m.has_flag("\\Seen"),
            State::Flagged => m.has_flag("\\Flagged"),
            State::Answered => m.has_flag("\\Answered"),
            State::Deleted => m.has_flag("\\Deleted"),
            State::Draft => m.has_flag("\\Draft"),
        },
        Term::HasAttachment => m.has_attachment(),
        Term::Uid(ranges) => m
            .uid()
            .is_some_and(|u| ranges.iter().any(|(a, b)| (*a..=*b).contains(&u))),
        Term::Gmail(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse;

    struct M;

    impl Candidate for M {
        fn header(&self, h: Header) -> String {
            match h {
                Header::From => "Ann Lee <ann@example.org>".into(),
                Header::Subject => "会议 budget".into(),
                _ => String::new(),
            }
        }
        fn body(&self) -> &str {
            "The Numbers"
        }
        fn day(&self) -> Option<Day> {
            Day::parse_iso("2026-11-20")
        }
        fn size(&self) -> u64 {
            3000
        }
        fn has_flag(&self, flag: &str) -> bool {
            flag == "\\Seen"
        }
        fn has_attachment(&self) -> bool {
            false
        }
        fn uid(&self) -> Option<u32> {
            Some(7)
        }
    }

    #[test]
    fn a_query_is_tried_as_search_would() {
        for (q, want) in [
            ("from:ANN", true),
            ("subject:会议", true),
            ("numbers", true),
            ("body:budget", false),
            ("is:read not is:flagged", true),
            ("is:unread or has:attachment", false),
            ("since:2026-11-20 before:2026-11-21 on:2026-11-20", true),
            ("larger:1K smaller:2K", false),
            ("uid:1:5,7", true),
            ("gmail:x", false),
        ] {
            assert_eq!(parse(q).unwrap().matches(&M), want, "{q}");
        }
    }
}
