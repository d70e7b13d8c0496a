//! Accounts from the TOML config file.
//!
//! The file's shape is a contract with users (see `docs/config.md`). It is read in two steps,
//! the way ripgrep turns flags into its high-level arguments: [`file`] mirrors the TOML
//! exactly (with spans, so every error can name a line), and [`Account`] is what the rest
//! of mailer uses, with defaults applied, the address parsed, the retrieval protocol
//! decided, `~` expanded and secrets still unread.

mod account;
pub mod check;
pub mod discovered;
pub mod edit;
mod error;
mod file;
mod oauth2;
mod paths;
pub mod presets;
mod secret;
mod token;

use std::path::{Path, PathBuf};

pub use account::{Account, Auth, Protocol, Retrieval, Security, Server};
pub use error::Error;
pub use paths::{default_path, expand_tilde, home_dir};
pub use secret::{
    KEYRING_SERVICE, Password, SecretError, SecretSource, Token, run_secret_command,
    run_token_command,
};
pub use token::{Login, Provider, TokenSource};

/// A parsed config file: every account, validated.
#[derive(Debug)]
pub struct Config {
    path: PathBuf,
    default_account: Option<String>,
    accounts: Vec<Account>,
}

impl Config {
    /// Reads and validates the file at `path` (or the default place when None).
    pub fn load(path: Option<&Path>) -> Result<Config, Error> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => default_path().ok_or(Error::NoPath)?,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::Missing { path: path.clone() },
            _ => Error::Read {
                path: path.clone(),
                source: e,
            },
        })?;
        let private = file_is_private(&path);
        Config::parse(&path, &text, private)
    }

    /// Every problem of the file at `path` (or the default place), not only the first;
    /// empty when it loads. Reading it at all must work.
    pub fn problems(path: Option<&Path>) -> Result<(PathBuf, Vec<String>), Error> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => default_path().ok_or(Error::NoPath)?,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::Missing { path: path.clone() },
            _ => Error::Read {
                path: path.clone(),
                source: e,
            },
        })?;
        let found = check::problems(&path, &text, file_is_private(&path));
        Ok((path, found))
    }

    /// Validates `text` as the content of the file at `path`. `private` says whether the
    /// file is readable by its owner only, which decides whether `password` may be used.
    pub fn parse(path: &Path, text: &str, private: bool) -> Result<Config, Error> {
        let parsed = file::parse(path, text, private)?;
        Ok(Config {
            path: path.to_path_buf(),
            default_account: parsed.default_account,
            accounts: parsed.accounts,
        })
    }

    /// Every account, in name order.
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// The account named `name`, or the default one.
    pub fn account(&self, name: Option<&str>) -> Result<&Account, Error> {
        let names = || {
            self.accounts
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let path = self.path.display();
        let wanted = match (name, &self.default_account, self.accounts.as_slice()) {
            (Some(n), _, _) => n,
            (None, Some(d), _) => d.as_str(),
            (None, None, [only]) => return Ok(only),
            (None, None, []) => {
                return Err(Error::Invalid(format!(
                    "{path}: no accounts: add an [accounts.NAME] table"
                )));
            }
            (None, None, _) => {
                return Err(Error::Invalid(format!(
                    "{path}: several accounts ({}) and no default_account: set default_account or pass -a NAME",
                    names()
                )));
            }
        };
        self.accounts
            .iter()
            .find(|a| a.name == wanted)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "{path}: no account named {wanted:?}; accounts: {}",
                    names()
                ))
            })
    }
}

#[cfg(unix)]
fn file_is_private(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o077 == 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn file_is_private(_path: &Path) -> bool {
    true
}
