//! Incremental sync state of one mailbox: which UIDs are already stored.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::mailbox::MailboxName;

/// What the last run of `fetch` left durable, for one account and mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxState {
    /// The server's UIDVALIDITY when the UIDs below were assigned.
    pub uidvalidity: u32,
    /// Every message with a UID up to this one is stored (or was deliberately skipped by
    /// `--limit`/`--since`).
    pub last_uid: u32,
    /// The Maildir folder the messages went to; state for another folder does not apply.
    pub folder: PathBuf,
}

/// What the last POP3 fetch left durable: the UIDLs (or content identities) stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pop3State {
    pub uidls: Vec<String>,
    pub folder: PathBuf,
}

/// The state file of `mailbox` of the account whose state directory is `account_dir`.
pub fn path(account_dir: &Path, kind: &str, mailbox: &MailboxName) -> PathBuf {
    account_dir
        .join(kind)
        .join(format!("{}.json", super::path_component(mailbox.as_str())))
}

/// A state file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("state file {} is damaged ({source})", path.display())]
    Damaged {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("reading state file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Reads the state; a missing file is no state. A damaged one is reported to the caller,
/// who can fall back to scanning the Maildir.
pub fn load<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, LoadError> {
    match std::fs::read(path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| LoadError::Damaged {
                    path: path.to_path_buf(),
                    source,
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(LoadError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Saves the state atomically and durably.
pub fn save<T: Serialize>(path: &Path, state: &T) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
    super::write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests;
