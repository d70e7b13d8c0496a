//! An account as the rest of mailer sees it: resolved once from the file, with defaults
//! applied, the address parsed, the retrieval protocol decided and `~` expanded. Secrets
//! stay unread until a server asks for one.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::Address;

use super::error::Error;
use super::secret::{Password, SecretSource};
use super::token::TokenSource;

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

/// How a server is logged in to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Auth {
    /// PLAIN or LOGIN (USER/PASS for POP3) with the configured password.
    Password,
    /// Google's SASL XOAUTH2 with a bearer token.
    Xoauth2,
    /// SASL OAUTHBEARER (RFC 7628) with a bearer token.
    Oauthbearer,
}

impl fmt::Display for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Auth::Password => "password",
            Auth::Xoauth2 => "xoauth2",
            Auth::Oauthbearer => "oauthbearer",
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
    pub fn default_port(self, security: Security) -> u16 {
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

    /// The section's name in the file.
    pub fn key(self) -> &'static str {
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
    /// Bound on connecting, on every wait for a reply, and on the password command.
    pub timeout: Duration,
    /// The section's key, `accounts.NAME.smtp`, for messages about it.
    pub key: String,
    /// How the server is logged in to.
    pub auth: Auth,
    /// Where bearer tokens come from, when `auth` is one of the OAuth2 mechanisms.
    pub token: Option<TokenSource>,
    /// IMAP: send the first SASL message with AUTHENTICATE when the server offers
    /// SASL-IR (one round trip less); false for servers that offer it but refuse it.
    pub sasl_ir: bool,
}

impl Server {
    /// `host:port`, the way errors name the server.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// Reads the password now, bounded by the server's timeout; None when none is set.
    pub async fn password(&self) -> Result<Option<Password>, Error> {
        let Some(source) = &self.secret else {
            return Ok(None);
        };
        source
            .read(self.timeout)
            .await
            .map(Some)
            .map_err(|source| Error::Secret {
                key: self.key.clone(),
                source,
            })
    }
}

/// Where an account's mail is read from. With both sections in the file, IMAP is used.
#[derive(Debug, Clone)]
pub enum Retrieval {
    Imap(Server),
    Pop3(Server),
}

/// An account, resolved from the config file.
#[derive(Debug, Clone)]
pub struct Account {
    pub name: String,
    /// Validated when the file was read.
    pub email: Address,
    pub display_name: Option<String>,
    pub maildir: Option<PathBuf>,
    /// The account's `[oauth2]` section, resolved; a server uses it when its `auth` is a
    /// bearer-token mechanism.
    pub token: Option<TokenSource>,
    pub smtp: Option<Server>,
    pub retrieval: Option<Retrieval>,
    /// `save_sent`: whether a copy of what is sent goes to the Sent mailbox over IMAP;
    /// unset, yes unless the server is Gmail's (which files sent mail itself).
    pub save_sent: Option<bool>,
    /// `sent_mailbox`: that mailbox, instead of the one the server marks `\Sent`.
    pub sent_mailbox: Option<String>,
    /// `poll_secs`: how often `watch` asks a server without IDLE.
    pub poll_secs: Option<u64>,
    /// The config file it came from, for error messages that point at it.
    pub config_path: PathBuf,
}

impl Account {
    /// The SMTP section, or an error naming what to add.
    pub fn smtp(&self) -> Result<&Server, Error> {
        self.smtp.as_ref().ok_or_else(|| self.no_section("smtp"))
    }

    /// The IMAP section, for the commands only IMAP can serve.
    pub fn imap(&self) -> Result<&Server, Error> {
        match &self.retrieval {
            Some(Retrieval::Imap(server)) => Ok(server),
            _ => Err(self.no_section("imap")),
        }
    }

    /// How mail is read, or an error naming the sections to add.
    pub fn retrieval(&self) -> Result<&Retrieval, Error> {
        self.retrieval.as_ref().ok_or_else(|| Error::NoRetrieval {
            path: self.config_path.clone(),
            account: self.name.clone(),
        })
    }

    /// Where fetched mail goes.
    pub fn maildir(&self) -> Result<&Path, Error> {
        self.maildir.as_deref().ok_or_else(|| Error::NoMaildir {
            path: self.config_path.clone(),
            account: self.name.clone(),
        })
    }

    fn no_section(&self, section: &'static str) -> Error {
        Error::NoSection {
            path: self.config_path.clone(),
            account: self.name.clone(),
            section,
        }
    }
}
