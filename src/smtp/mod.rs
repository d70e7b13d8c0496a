//! Submission over SMTP: connect, protect the connection, authenticate, hand over messages.
//!
//! mailer speaks SMTP itself (lettre builds the messages): every failure says which
//! step failed (connect, TLS, AUTH, MAIL, RCPT of which recipient, DATA) and whether
//! trying again later can help, and the commands go out in as few round trips as the
//! server allows. One [`Session`] can submit many messages, which is how a queue is
//! flushed over a single connection.
//!
//! - `session`: the dialogue, step by step.
//! - `wire`: replies, what EHLO offers, and dot-stuffing.
//! - `stream`: the connection, with STARTTLS's TLS below the transcript.
//! - `error`: the failed step, typed, with its exit code.

mod error;
mod session;
mod stream;
mod wire;

pub use error::{Code, Error, Step};
pub use session::Session;

#[cfg(test)]
mod tests;
