//! The tokens of mailer's own OAuth2 login: one private JSON file per account in its
//! state directory (0600, in a 0700 directory), written atomically so that a crash
//! never leaves half a refresh token behind. Nothing here ever prints a token.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::NoStateDir;

/// What a login left: the tokens, and what they were issued for.
#[derive(Clone, Serialize, Deserialize)]
pub struct Stored {
    pub access_token: String,
    /// Unix time; None when the server did not say.
    pub expires_at: Option<i64>,
    pub refresh_token: Option<String>,
    /// The scopes the server granted (or, when it did not say, those asked for).
    pub scopes: Vec<String>,
    /// The client and token endpoint the tokens belong to: a login for another
    /// configuration is not used.
    pub client_id: String,
    pub token_url: String,
    /// When the login (not the last refresh) happened, Unix time.
    pub signed_in_at: i64,
}

impl fmt::Debug for Stored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stored")
            .field("expires_at", &self.expires_at)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    NoStateDir(#[from] NoStateDir),
    #[error("token store {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("token store {path} is damaged ({reason}): run \"mailer auth login\" again")]
    Damaged { path: PathBuf, reason: String },
}

/// The file an account's tokens live in.
pub fn path(account: &str) -> Result<PathBuf, Error> {
    Ok(super::account_dir(account)?.join("oauth2.json"))
}

/// The lock taken while tokens are refreshed, so that two runs do not both spend a
/// refresh token that the server rotates.
pub fn lock_path(account: &str) -> Result<PathBuf, Error> {
    Ok(super::account_dir(account)?.join("oauth2.lock"))
}

/// The stored tokens, or None before the first login.
pub fn load(path: &Path) -> Result<Option<Stored>, Error> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            let path = path.to_path_buf();
            return Err(Error::Io { path, source });
        }
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| Error::Damaged {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}

/// Replaces the stored tokens, durably.
pub fn save(path: &Path, stored: &Stored) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = serde_json::to_vec_pretty(stored).map_err(|e| io(e.into()))?;
    super::write_atomic(path, &bytes).map_err(io)
}

/// Deletes the stored tokens; true when there were some.
pub fn remove(path: &Path) -> Result<bool, Error> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(Error::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}
