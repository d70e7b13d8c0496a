//! What `mailer search` (and `--query` of the commands that change messages) looks for:
//! a small query language, parsed once into an [`Expr`] that the IMAP module compiles
//! to one SEARCH. Knows nothing of IMAP's spelling.
//!
//! ```text
//! from:ann subject:"budget 2027" since:7d not is:read
//! (from:ann or from:bob) has:attachment larger:5M
//! ```
//! Terms side by side must all match; `or` binds looser than that, `not` (or `-`)
//! tighter; parentheses group. A bare word or quoted phrase is `text:`.

mod expr;
mod matches;
mod parse;

pub use expr::{Expr, Header, QueryError, State, Term};
pub use matches::Candidate;
pub use parse::parse;
