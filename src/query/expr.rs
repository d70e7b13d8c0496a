//! A parsed query: the terms and how they combine.

use crate::date::Day;

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// Every one must match (never empty).
    All(Vec<Expr>),
    Either(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Term(Term),
}

/// One condition on a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// A header (From, To, Cc, Subject) contains the text.
    Header(Header, String),
    /// The body contains the text.
    Body(String),
    /// The headers or the body contain the text.
    Text(String),
    /// Received on or after the day.
    Since(Day),
    /// Received before the day.
    Before(Day),
    /// Received on the day.
    On(Day),
    /// Larger than this many bytes.
    Larger(u64),
    /// Smaller than this many bytes.
    Smaller(u64),
    Is(State),
    /// Has a part that is an attachment (read from the message's structure).
    HasAttachment,
    /// UIDs in ranges, lowest first (`uid:4200:4250,4300`).
    Uid(Vec<(u32, u32)>),
    /// A Gmail search (X-GM-RAW), for servers that offer X-GM-EXT-1.
    Gmail(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    From,
    To,
    Cc,
    Subject,
}

/// What `is:` asks about a message's flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Unread,
    Read,
    Flagged,
    Answered,
    Deleted,
    Draft,
}

/// A query that does not parse: what is wrong, and where (a character position from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub position: usize,
    pub reason: String,
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "query, at character {}: {}", self.position, self.reason)
    }
}

impl Expr {
    /// Every term of the query, wherever it stands.
    pub fn terms(&self) -> Vec<&Term> {
        match self {
            Expr::All(all) => all.iter().flat_map(Expr::terms).collect(),
            Expr::Either(a, b) => [a.terms(), b.terms()].concat(),
            Expr::Not(e) => e.terms(),
            Expr::Term(t) => vec![t],
        }
    }

    /// Whether any text to look for is not ASCII (IMAP then needs `CHARSET UTF-8`).
    pub fn has_non_ascii(&self) -> bool {
        self.terms().iter().any(|t| match t {
            Term::Header(_, s) | Term::Body(s) | Term::Text(s) | Term::Gmail(s) => !s.is_ascii(),
            _ => false,
        })
    }
}
