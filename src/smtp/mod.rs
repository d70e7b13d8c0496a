//! Submission over SMTP: connect, protect the connection, authenticate, hand over messages.
//!
//! lettre's connection type does the wire work; this module drives it one step at a time so
//! that every failure says which step failed (connect, TLS, AUTH, MAIL, RCPT of which
//! recipient, DATA) and whether trying again later can help. One [`Session`] can submit many
//! messages, which is how a queue is flushed over a single connection.
//!
//! - `session`: the dialogue, step by step.
//! - `stream`: the connection lettre runs over, and its TLS parameters.
//! - `error`: the failed step, typed, with its exit code.

mod error;
mod session;
mod stream;

pub use error::{Error, Step};
pub use session::Session;

#[cfg(test)]
mod tests;
