//! The tokens of mailer's own OAuth2 login. The secrets go to the OS keyring where one
//! is reachable; where none is (cron, SSH, a headless server) they stay in the file.
//! Either way there is one private JSON file per account in its state directory (0600,
//! in a 0700 directory), written atomically, holding what is not secret (expiry,
//! scopes, which store holds the tokens) so that `auth status` and a run that cannot
//! reach the keyring can say where the tokens are. Nothing here ever prints a token.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// The tokens are in the keyring, not in this file.
    #[serde(default)]
    pub in_keyring: bool,
}

/// The keyring service the tokens are stored under (the user is the account's name).
const KEYRING_SERVICE: &str = "mailer-oauth2";

/// The two secrets, as the keyring entry holds them.
#[derive(Serialize, Deserialize)]
struct Secrets {
    access_token: String,
    refresh_token: Option<String>,
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
    #[error(
        "the tokens of account {account:?} are in the keyring, and {source}: run this where the keyring is unlocked, or run \"mailer auth login -a {account}\" here to keep them in a file"
    )]
    Keyring {
        account: String,
        source: crate::keyring::Error,
    },
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

/// What the file says, without fetching tokens from the keyring: for `auth status`.
pub fn load_file(path: &Path) -> Result<Option<Stored>, Error> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            let path = path.to_path_buf();
            return Err(Error::Io { path, source });
        }
    };
    let damaged = |reason: String| Error::Damaged {
        path: path.to_path_buf(),
        reason,
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| damaged(e.to_string()))
}

/// The stored tokens, or None before the first login.
pub async fn load(path: &Path, account: &str, timeout: Duration) -> Result<Option<Stored>, Error> {
    let Some(mut stored) = load_file(path)? else {
        return Ok(None);
    };
    if !stored.in_keyring {
        return Ok(Some(stored));
    }
    let keyring = |source| Error::Keyring {
        account: account.to_string(),
        source,
    };
    let Some(text) = crate::keyring::get(KEYRING_SERVICE, account, timeout)
        .await
        .map_err(keyring)?
    else {
        return Ok(None);
    };
    let secrets: Secrets = serde_json::from_str(&text).map_err(|e| Error::Damaged {
        path: path.to_path_buf(),
        reason: format!("the keyring entry does not parse: {e}"),
    })?;
    stored.access_token = secrets.access_token;
    stored.refresh_token = secrets.refresh_token;
    Ok(Some(stored))
}

/// Replaces the stored tokens, durably: in the keyring when one is reachable, else in
/// the file. Says which.
pub async fn save(
    path: &Path,
    account: &str,
    stored: &Stored,
    timeout: Duration,
) -> Result<Store, Error> {
    save_in(path, account, stored, true, timeout).await
}

/// [`save`], into the file alone unless `keyring`: a refresh keeps the tokens where the
/// login put them, so that file-kept tokens (a login over SSH, for cron) never move into
/// a keyring cron cannot reach.
pub async fn save_in(
    path: &Path,
    account: &str,
    stored: &Stored,
    keyring: bool,
    timeout: Duration,
) -> Result<Store, Error> {
    let secrets = Secrets {
        access_token: stored.access_token.clone(),
        refresh_token: stored.refresh_token.clone(),
    };
    let text = serde_json::to_string(&secrets).unwrap_or_default();
    let kept = match keyring {
        true => crate::keyring::set(KEYRING_SERVICE, account, &text, timeout).await,
        false => Err(crate::keyring::Error::Failed("not asked".into())),
    };
    let (on_disk, store) = match kept {
        Ok(()) => {
            let mut pointer = stored.clone();
            pointer.access_token = String::new();
            pointer.refresh_token = None;
            pointer.in_keyring = true;
            (pointer, Store::Keyring)
        }
        Err(e) => {
            tracing::debug!("keeping the tokens in {}: {e}", path.display());
            let mut file = stored.clone();
            file.in_keyring = false;
            (file, Store::File)
        }
    };
    write_file(path, &on_disk)?;
    if store == Store::File && keyring {
        // An older copy in the keyring must not outlive this one (nor a logout).
        let _ = crate::keyring::delete(KEYRING_SERVICE, account, timeout).await;
    }
    Ok(store)
}

/// Where the tokens are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Keyring,
    File,
}

impl Store {
    pub fn name(self) -> &'static str {
        match self {
            Store::Keyring => "keyring",
            Store::File => "file",
        }
    }
}

fn write_file(path: &Path, stored: &Stored) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = serde_json::to_vec_pretty(stored).map_err(|e| io(e.into()))?;
    super::write_atomic(path, &bytes).map_err(io)
}

/// Deletes the stored tokens, from the keyring too; true when there were some.
pub async fn remove(path: &Path, account: &str, timeout: Duration) -> Result<bool, Error> {
    let in_keyring = load_file(path).ok().flatten().is_some_and(|s| s.in_keyring);
    // Always asked, so that a copy left there by an earlier login goes too; a keyring
    // that cannot be reached matters only when the file says the tokens are there.
    let deleted = crate::keyring::delete(KEYRING_SERVICE, account, timeout).await;
    if let Err(source) = deleted
        && in_keyring
    {
        return Err(Error::Keyring {
            account: account.to_string(),
            source,
        });
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(Error::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}
