//! Accounts from the TOML config file.
//!
//! The file's shape is a contract with users (see `docs/config.md`). It is read in two steps,
//! the way ripgrep turns flags into its high-level arguments: [`file`] mirrors the TOML
//! exactly (with spans, so every error can name a line), and [`Account`] is what the rest
//! of mailer uses, with defaults applied, `~` expanded and secrets still unread.

mod file;
mod secret;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use secret::{Password, SecretSource};

/// How a connection to a server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// TLS from the first byte (RFC 8314): ports 465, 993, 995.
    Tls,
    /// A plain connection upgraded with STARTTLS / STLS before anything else is sent.
    Starttls,
    /// No encryption. Passwords are not sent unless `allow_insecure_auth = true`.
    None,
}

impl fmt::Display for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Security::Tls => "tls",
            Security::Starttls => "starttls",
            Security::None => "none",
        })
    }
}

/// Which protocol a server section configures; decides the default ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Smtp,
    Imap,
    Pop3,
}

impl Protocol {
    fn default_port(self, security: Security) -> u16 {
        match (self, security) {
            (Protocol::Smtp, Security::Tls) => 465,
            (Protocol::Smtp, Security::Starttls) => 587,
            (Protocol::Smtp, Security::None) => 25,
            (Protocol::Imap, Security::Tls) => 993,
            (Protocol::Imap, _) => 143,
            (Protocol::Pop3, Security::Tls) => 995,
            (Protocol::Pop3, _) => 110,
        }
    }

    fn key(self) -> &'static str {
        match self {
            Protocol::Smtp => "smtp",
            Protocol::Imap => "imap",
            Protocol::Pop3 => "pop3",
        }
    }
}

/// One server of an account, with every default applied.
#[derive(Debug, Clone)]
pub struct Server {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// An extra trust anchor (PEM) added to the system's roots.
    pub ca_file: Option<PathBuf>,
    pub user: String,
    /// Where the password comes from; read only when the server asks for it.
    pub secret: Option<SecretSource>,
    pub allow_insecure_auth: bool,
    /// POP3: delete messages from the server once they are stored, as `fetch --delete`.
    pub delete_after_fetch: bool,
    /// Bound on connecting and on every wait for a reply.
    pub timeout: Duration,
}

impl Server {
    /// `host:port`, the way errors name the server.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// An account, resolved from the config file.
#[derive(Debug, Clone)]
pub struct Account {
    pub name: String,
    pub email: String,
    pub display_name: Option<String>,
    pub maildir: Option<PathBuf>,
    pub smtp: Option<Server>,
    pub imap: Option<Server>,
    pub pop3: Option<Server>,
    /// The config file it came from, for error messages that point at it.
    pub config_path: PathBuf,
}

/// A config problem. Its message names the file, and the line, column and key when known.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "no config file at {path}: create one (see config/mailer.example.toml) or pass -c PATH"
    )]
    Missing { path: PathBuf },
    #[error("reading config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Secret(String),
}

/// Where the config file is: `-c`, else `$MAILER_CONFIG`, else the XDG location.
pub fn default_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MAILER_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    if let Some(p) = std::env::var_os("XDG_CONFIG_HOME").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p).join("mailer/config.toml"));
    }
    home_dir().map(|h| h.join(".config/mailer/config.toml"))
}

/// The user's home directory, from `$HOME`.
pub fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// Expands a leading `~/` to the home directory.
pub fn expand_tilde(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ if path == "~" => home_dir().unwrap_or_else(|| PathBuf::from(path)),
        _ => PathBuf::from(path),
    }
}

/// A parsed config file: every account, validated.
#[derive(Debug)]
pub struct Config {
    path: PathBuf,
    default_account: Option<String>,
    accounts: Vec<Account>,
}

impl Config {
    /// Reads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::Missing {
                    path: path.to_path_buf(),
                });
            }
            Err(e) => {
                return Err(Error::Read {
                    path: path.to_path_buf(),
                    source: e,
                });
            }
        };
        let private = file_is_private(path);
        Config::parse(path, &text, private)
    }

    /// Validates `text` as the content of the file at `path`. `private` says whether the
    /// file is readable by its owner only, which decides whether `password` may be used.
    pub fn parse(path: &Path, text: &str, private: bool) -> Result<Config, Error> {
        file::parse(path, text, private)
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
        let wanted = match (name, &self.default_account) {
            (Some(n), _) => n,
            (None, Some(d)) => d.as_str(),
            (None, None) if self.accounts.len() == 1 => return Ok(&self.accounts[0]),
            (None, None) if self.accounts.is_empty() => {
                return Err(Error::Invalid(format!(
                    "{}: no accounts: add an [accounts.NAME] table",
                    self.path.display()
                )));
            }
            (None, None) => {
                return Err(Error::Invalid(format!(
                    "{}: several accounts ({}) and no default_account: set default_account or pass -a NAME",
                    self.path.display(),
                    names()
                )));
            }
        };
        self.accounts
            .iter()
            .find(|a| a.name == wanted)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "{}: no account named {wanted:?}; accounts: {}",
                    self.path.display(),
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
