//! mailer: a command-line mail user agent.
//!
//! Dependencies point one way:
//! `cli -> commands -> {smtp, imap, pop3, store, message} -> {net, config}`, with `output`
//! beside `cli` for what people and scripts read. Protocol modules never print;
//! commands never parse protocol bytes.
//!
//! Nothing a server, a file or a user sends may panic mailer: outside tests, no
//! `unwrap` or `expect` (clippy denies them; tests may, `allow-unwrap-in-tests`).

#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod autoconfig;
pub mod cli;
pub mod commands;
pub mod config;
pub mod date;
pub mod dns;
pub mod error;
pub mod guess;
pub mod imap;
pub mod keyring;
pub mod mailbox;
pub mod message;
pub mod net;
pub mod oauth;
pub mod output;
pub mod pop3;
pub mod query;
pub mod sasl;
pub mod smtp;
pub mod store;
pub mod tls;
