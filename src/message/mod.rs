//! The message model: composing new messages and preparing existing ones for submission.
//! Nothing here knows about the network; the result is bytes plus an envelope.

pub mod compose;
mod lines;
pub mod parse;
pub mod raw;
mod repair;
pub mod reply;
pub mod sent_copy;
pub mod template;

use lettre::Address;

/// A message ready for any transport: its exact bytes (CRLF line ends) and its envelope.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The `MAIL FROM` address.
    pub sender: Address,
    /// Every `RCPT TO` address, Bcc included; the headers may name fewer.
    pub recipients: Vec<Address>,
    /// The Message-ID header's value, with its angle brackets.
    pub message_id: String,
    pub bytes: Vec<u8>,
}

/// A new Message-ID under `domain`: time plus randomness, unique without coordination.
pub fn new_message_id(domain: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "<{:x}.{:016x}@{}>",
        nanos,
        fastrand::u64(..),
        if domain.is_empty() {
            "mailer.invalid"
        } else {
            domain
        }
    )
}
