//! What can be wrong with the configuration. Every message names the file (and the
//! line, column and key when known) and says what to change.

use std::path::PathBuf;

use crate::error::{Exit, Failure};

/// A config problem.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "no config yet: run \"mailer account add you@example.org\" (or pass -c FILE; looked for {path})"
    )]
    Missing { path: PathBuf },
    #[error("no config file: pass -c PATH or set MAILER_CONFIG (HOME is not set)")]
    NoPath,
    #[error("reading config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A key or value of the file, already worded with its place.
    #[error("{0}")]
    Invalid(String),
    /// The password source of `key` failed.
    #[error("{key}: {source}")]
    Secret {
        key: String,
        source: super::secret::SecretError,
    },
    #[error(
        "{path}: account {account:?} has no [accounts.{account}.{section}] section: add one with at least host"
    )]
    NoSection {
        path: PathBuf,
        account: String,
        section: &'static str,
    },
    #[error(
        "{path}: account {account:?} has neither [accounts.{account}.imap] nor [accounts.{account}.pop3]: add one"
    )]
    NoRetrieval { path: PathBuf, account: String },
    #[error(
        "{path}: accounts.{account}.maildir is not set: name the directory fetched mail goes to"
    )]
    NoMaildir { path: PathBuf, account: String },
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::with_cause(Exit::Config, e)
    }
}
