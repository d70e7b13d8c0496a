//! A query ([`crate::query::Expr`]) compiled to one `UID SEARCH`, and run.
//!
//! Text that is not ASCII goes with `CHARSET UTF-8`, as a non-synchronising literal
//! where the server offers LITERAL+ (or LITERAL- for short ones), which needs no wait
//! for a continuation; else in a quoted string, which servers in use read as UTF-8.
//! `has:attachment` is not a SEARCH key: the messages that may have one (multipart, or
//! a Content-Disposition of attachment) are searched for first, their BODYSTRUCTUREs
//! read, and the UIDs of those that do have one take the term's place.

use async_imap::types::Fetch;

use super::error::Error;
use super::fetched::Fetched;
use super::session::Session;
use super::uids::UidSet;
use crate::query::{Expr, Header, State, Term};

/// What can stand in for `has:attachment` before the messages' structures are read.
const MAY_HAVE_ATTACHMENT: &str =
    "OR HEADER Content-Type multipart HEADER Content-Disposition attachment";

/// How strings may be sent to this server.
#[derive(Debug, Clone, Copy)]
struct Spelling {
    /// LITERAL+ (any size) or LITERAL- (up to 4096 bytes).
    literal_plus: bool,
    literal_minus: bool,
}

impl Spelling {
    fn string(&self, s: &str) -> String {
        let short = s.len() <= 4096;
        if !s.is_ascii() && (self.literal_plus || (self.literal_minus && short)) {
            return format!("{{{}+}}\r\n{s}", s.len());
        }
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// The SEARCH criteria for `expr`, `attached` standing for `has:attachment`.
fn criteria(expr: &Expr, attached: &str, spelling: Spelling) -> String {
    let key = |e: &Expr| criteria(e, attached, spelling);
    match expr {
        Expr::All(all) => format!("({})", all.iter().map(key).collect::<Vec<_>>().join(" ")),
        Expr::Either(a, b) => format!("OR {} {}", key(a), key(b)),
        Expr::Not(e) => format!("NOT {}", key(e)),
        Expr::Term(t) => term(t, attached, spelling),
    }
}

fn term(t: &Term, attached: &str, spelling: Spelling) -> String {
    let s = |text: &str| spelling.string(text);
    match t {
        Term::Header(h, text) => {
            let name = match h {
                Header::From => "FROM",
                Header::To => "TO",
                Header::Cc => "CC",
                Header::Subject => "SUBJECT",
            };
            format!("{name} {}", s(text))
        }
        Term::Body(text) => format!("BODY {}", s(text)),
        Term::Text(text) => format!("TEXT {}", s(text)),
        Term::Since(d) => format!("SINCE {}", d.imap()),
        Term::Before(d) => format!("BEFORE {}", d.imap()),
        Term::On(d) => format!("ON {}", d.imap()),
        Term::Larger(n) => format!("LARGER {n}"),
        Term::Smaller(n) => format!("SMALLER {n}"),
        Term::Is(state) => match state {
            State::Unread => "UNSEEN",
            State::Read => "SEEN",
            State::Flagged => "FLAGGED",
            State::Answered => "ANSWERED",
            State::Deleted => "DELETED",
            State::Draft => "DRAFT",
        }
        .to_string(),
        Term::HasAttachment => attached.to_string(),
        Term::Uid(ranges) => {
            let parts: Vec<String> = ranges
                .iter()
                .map(|(a, b)| match a == b {
                    true => a.to_string(),
                    false => format!("{a}:{b}"),
                })
                .collect();
            format!("UID {}", parts.join(","))
        }
        Term::Gmail(text) => format!("X-GM-RAW {}", s(text)),
    }
}

/// The whole command's argument: the charset when needed, and the criteria without
/// the outer parentheses of a top-level "all of".
fn command(expr: &Expr, attached: &str, spelling: Spelling) -> String {
    let mut text = criteria(expr, attached, spelling);
    if matches!(expr, Expr::All(_)) {
        text = text[1..text.len() - 1].to_string();
    }
    match expr.has_non_ascii() {
        true => format!("CHARSET UTF-8 {text}"),
        false => text,
    }
}

/// The criteria of `expr` to send with the login, before the server's capabilities
/// after it are known: only a query that needs nothing of them (no `has:attachment`, no
/// `gmail:`) and is ASCII (no literal), which every server spells alike.
pub fn criteria_ahead(expr: &Expr) -> Option<String> {
    let plain = expr
        .terms()
        .iter()
        .all(|t| !matches!(t, Term::HasAttachment | Term::Gmail(_)));
    let text = command(expr, "", PLAIN);
    (plain && super::ahead::is_one_line(&text)).then_some(text)
}

/// Strings as every server takes them: quoted, ASCII.
const PLAIN: Spelling = Spelling {
    literal_plus: false,
    literal_minus: false,
};

/// Why a query cannot run on this server.
#[derive(Debug)]
pub enum Unsupported {
    /// `gmail:` where the server is not Gmail's.
    GmailSearch,
}

impl Session {
    /// Whether a query can run here: `gmail:` needs X-GM-EXT-1.
    pub fn can_search(&self, expr: &Expr) -> Result<(), Unsupported> {
        let gmail = expr.terms().iter().any(|t| matches!(t, Term::Gmail(_)));
        match gmail && !self.offers("X-GM-EXT-1") {
            true => Err(Unsupported::GmailSearch),
            false => Ok(()),
        }
    }

    /// The UIDs of the open mailbox's messages that match `expr`, ascending: one UID
    /// SEARCH (and, for `has:attachment`, a SEARCH and a FETCH of structures first).
    pub async fn find(&mut self, expr: &Expr) -> Result<Vec<u32>, Error> {
        let spelling = Spelling {
            literal_plus: self.offers("LITERAL+"),
            literal_minus: self.offers("LITERAL-"),
        };
        let needs_structures = expr.terms().iter().any(|t| **t == Term::HasAttachment);
        let attached = match needs_structures {
            true => match self.with_attachments().await? {
                uids if uids.is_empty() => "NOT ALL".to_string(),
                uids => format!("UID {}", UidSet::from_sorted(&uids).as_str()),
            },
            false => String::new(),
        };
        self.search_criteria(&command(expr, &attached, spelling))
            .await
    }

    /// The UIDs of the messages that have an attachment, by their BODYSTRUCTURE.
    async fn with_attachments(&mut self) -> Result<Vec<u32>, Error> {
        let candidates = self.search_criteria(MAY_HAVE_ATTACHMENT).await?;
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let set = UidSet::from_sorted(&candidates);
        let step = self.step("UID FETCH");
        let fetched: Vec<Fetch> = super::operations::collect(
            step,
            self.inner.uid_fetch(set.as_str(), "(UID BODYSTRUCTURE)"),
        )
        .await?;
        let mut uids: Vec<u32> = fetched
            .into_iter()
            .map(Fetched::from)
            .filter(|f| !f.attachments().is_empty())
            .filter_map(|f| f.uid())
            .collect();
        uids.sort_unstable();
        uids.dedup();
        Ok(uids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse;

    fn imap(q: &str, spelling: Spelling) -> String {
        command(&parse(q).unwrap(), "UID 3,9", spelling)
    }

    #[test]
    fn queries_compile_to_one_search() {
        assert_eq!(
            imap("from:ann is:unread larger:5M", PLAIN),
            "FROM \"ann\" UNSEEN LARGER 5242880"
        );
        assert_eq!(
            imap(
                "(from:ann or from:bob) not subject:\"say \\\"hi\\\"\"",
                PLAIN
            ),
            "OR FROM \"ann\" FROM \"bob\" NOT SUBJECT \"say \\\"hi\\\"\""
        );
        assert_eq!(
            imap("a b or c has:attachment", PLAIN),
            "OR (TEXT \"a\" TEXT \"b\") (TEXT \"c\" UID 3,9)"
        );
        assert_eq!(imap("uid:5:7,9", PLAIN), "UID 5:7,9");
        assert_eq!(
            imap("on:2026-11-01 gmail:\"in:sent\"", PLAIN),
            "ON 1-Nov-2026 X-GM-RAW \"in:sent\""
        );
    }

    #[test]
    fn text_that_is_not_ascii_goes_as_utf8() {
        let plus = Spelling {
            literal_plus: true,
            literal_minus: false,
        };
        assert_eq!(
            imap("subject:会议 from:ann", plus),
            "CHARSET UTF-8 SUBJECT {6+}\r\n会议 FROM \"ann\""
        );
        assert_eq!(imap("会议", PLAIN), "CHARSET UTF-8 TEXT \"会议\"");
    }

    #[test]
    fn only_plain_ascii_queries_go_with_the_login() {
        let ahead = |q: &str| criteria_ahead(&parse(q).unwrap());
        assert_eq!(
            ahead("from:ann since:2026-11-01").as_deref(),
            Some("FROM \"ann\" SINCE 1-Nov-2026")
        );
        assert_eq!(ahead("会议"), None);
        assert_eq!(ahead("has:attachment"), None);
        assert_eq!(ahead("gmail:x"), None);
    }
}
