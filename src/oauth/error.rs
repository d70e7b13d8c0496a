//! Why no bearer token could be had, and what the user can do about it.

use crate::config;
use crate::error::{Exit, Failure};
use crate::store::{lock, tokens};

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("account {account:?} has not signed in: run \"mailer auth login -a {account}\"")]
    NoLogin { account: String },
    #[error(
        "the sign-in of account {account:?} is no longer valid ({why}): run \"mailer auth login -a {account}\""
    )]
    Ended { account: String, why: String },
    #[error(
        "{url}: the authorization server refused the client ({why}): check client_id and client_secret_command in [{key}]"
    )]
    Client {
        url: String,
        why: String,
        key: String,
    },
    #[error("{url}: {why}")]
    Unreachable { url: String, why: String },
    #[error("{url}: {why}")]
    Broken { url: String, why: String },
    #[error("signing in: {0}")]
    Login(String),
    #[error(transparent)]
    Store(#[from] tokens::Error),
    #[error(transparent)]
    Lock(#[from] lock::Error),
    #[error(transparent)]
    Config(#[from] config::Error),
}

impl Error {
    pub fn exit(&self) -> Exit {
        match self {
            Error::NoLogin { .. } | Error::Ended { .. } | Error::Client { .. } => Exit::NoPerm,
            Error::Unreachable { .. } => Exit::TempFail,
            Error::Broken { .. } => Exit::Unavailable,
            Error::Login(_) => Exit::NoPerm,
            Error::Store(tokens::Error::Io { .. }) => Exit::Io,
            Error::Store(_) | Error::Config(_) => Exit::Config,
            Error::Lock(lock::Error::Busy { .. }) => Exit::TempFail,
            Error::Lock(_) => Exit::Io,
        }
    }

    /// Whether the same command may work later without the user doing anything.
    pub fn is_temporary(&self) -> bool {
        matches!(
            self,
            Error::Unreachable { .. } | Error::Lock(lock::Error::Busy { .. })
        )
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::with_cause(e.exit(), e)
    }
}
