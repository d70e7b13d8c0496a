//! Writing an account into the config file, for `mailer account add`: a new file made
//! private (0600) with a word on each key, or an existing one kept as it is, byte for
//! byte, with the account added at its end. The result must load before it replaces the
//! file, so a failed edit never leaves a broken config behind.

use std::path::Path;

use toml_edit::{DocumentMut, value};

use super::Error;
use super::account::{Protocol, Security};
use super::token::Provider;

/// A server of the new account.
#[derive(Debug, Clone)]
pub struct NewServer {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub ca_file: Option<String>,
}

/// The endpoints and scopes of an authorization server mailer has no preset for (a
/// company's own, in front of its Dovecot).
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub auth_url: String,
    pub token_url: String,
    pub scopes: Vec<String>,
}

/// Where the new account's secret comes from.
#[derive(Debug, Clone)]
pub enum NewSecret {
    Command(String),
    Env(String),
    Keyring,
    /// mailer's own sign-in: the provider preset and the user's client id, if known.
    Login {
        provider: Option<Provider>,
        client_id: Option<String>,
        client_secret_command: Option<String>,
        /// An authorization server of one's own (no preset): where it signs in.
        endpoints: Option<Endpoints>,
    },
    /// A token helper, with the SASL mechanism.
    TokenCommand {
        auth: &'static str,
        command: String,
    },
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub name: String,
    pub email: String,
    pub display_name: Option<String>,
    pub maildir: String,
    pub secret: NewSecret,
    pub retrieval: (Protocol, NewServer),
    pub smtp: NewServer,
    /// False for an IMAP server that offers SASL-IR and refuses it.
    pub sasl_ir: bool,
    /// The login name, when it is not the address.
    pub user: Option<String>,
    /// Where the servers came from, for the comment above the account.
    pub source: String,
}

/// Why the account could not be written.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error(
        "{path}: there is already an account {name:?}: choose another name with -a NAME, or pass --force to replace it"
    )]
    Exists { path: String, name: String },
    #[error("{path}: {why}; the file was left as it was")]
    Unreadable { path: String, why: String },
    #[error("writing {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

const HEADER: &str = "\
# mailer's configuration: one [accounts.NAME] table per account, with its servers in
# [accounts.NAME.smtp] and [accounts.NAME.imap] (or .pop3). Every key is described in
# docs/config.md; `mailer check` tests an account's servers step by step.
";

/// Adds `account` to the file at `path` (creating it), replacing an account of the same
/// name only with `force`, and making it the default with `default`.
pub fn add_account(
    path: &Path,
    account: &NewAccount,
    force: bool,
    default: bool,
) -> Result<(), EditError> {
    // A config linked from elsewhere (stow, home-manager) is edited where it lives,
    // not replaced by a file of its own.
    let resolved = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let path = resolved.as_path();
    let shown = path.display().to_string();
    let unreadable = |why: String| EditError::Unreadable {
        path: shown.clone(),
        why,
    };
    let before = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(unreadable(e.to_string())),
    };
    let mut text = match &before {
        Some(text) => edited(text, account, force, default, &shown)?,
        None if default => format!("{HEADER}\ndefault_account = {}\n", value(&account.name)),
        None => HEADER.to_string(),
    };
    text.push('\n');
    text.push_str(&render(account));
    // What is written must load, with its line numbers, before it replaces anything.
    super::Config::parse(path, &text, true).map_err(|e: Error| unreadable(e.to_string()))?;
    crate::store::write_atomic(path, text.as_bytes()).map_err(|source| EditError::Write {
        path: shown,
        source,
    })
}

/// The existing text, untouched unless an account is replaced or the default set.
fn edited(
    text: &str,
    account: &NewAccount,
    force: bool,
    default: bool,
    shown: &str,
) -> Result<String, EditError> {
    // Only the parser's message and the line: its full text quotes the line, which may
    // hold a password.
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        let at = e.span().map_or(0, |s| s.start).min(text.len());
        let line = text.get(..at).unwrap_or("").matches('\n').count() + 1;
        EditError::Unreadable {
            path: shown.to_string(),
            why: format!("line {line}: {}", crate::error::one_line(e.message())),
        }
    })?;
    let exists = doc
        .get("accounts")
        .and_then(|a| a.get(&account.name))
        .is_some();
    if exists && !force {
        return Err(EditError::Exists {
            path: shown.to_string(),
            name: account.name.clone(),
        });
    }
    if !exists && !default {
        return Ok(text.trim_end().to_string() + "\n");
    }
    if let Some(accounts) = doc.get_mut("accounts").and_then(|a| a.as_table_like_mut()) {
        accounts.remove(&account.name);
    }
    if default {
        doc.insert("default_account", value(&account.name));
    }
    Ok(doc.to_string().trim_end().to_string() + "\n")
}

/// The account as TOML, each key with a word on what it is for.
pub fn render(a: &NewAccount) -> String {
    let q = |s: &str| value(s).to_string().trim().to_string();
    // The name as a key: bare when it can be, quoted otherwise ("work mail", jörg).
    let n = &toml_edit::Key::new(a.name.as_str()).to_string();
    let mut out = format!("# {} <{}>: {}\n[accounts.{n}]\n", a.name, a.email, a.source);
    out += &format!("email = {}\n", q(&a.email));
    if let Some(user) = &a.user {
        out += &format!("user = {}                # the login name\n", q(user));
    }
    if let Some(name) = &a.display_name {
        out += &format!("name = {}                # shown in From\n", q(name));
    }
    out += &format!(
        "maildir = {}        # where `mailer fetch` stores mail\n",
        q(&a.maildir)
    );
    out += &secret_lines(a, n, &q);
    let (protocol, server) = &a.retrieval;
    out += &server_lines(n, protocol.key(), server, &q);
    if *protocol == Protocol::Imap && !a.sasl_ir {
        out += "sasl_ir = false             # the server offers SASL-IR but refuses it\n";
    }
    out += &server_lines(n, "smtp", &a.smtp, &q);
    out
}

fn secret_lines(a: &NewAccount, n: &str, q: &dyn Fn(&str) -> String) -> String {
    match &a.secret {
        NewSecret::Command(c) => format!("password_command = {}    # prints the password\n", q(c)),
        NewSecret::Env(v) => format!("password_env = {}    # holds the password\n", q(v)),
        NewSecret::Keyring => format!(
            "password_keyring = true     # the password is in the OS keyring: mailer auth set-password -a {n}\n"
        ),
        NewSecret::TokenCommand { auth, command } => format!(
            "auth = {}\n\n[accounts.{n}.oauth2]\ntoken_command = {}    # prints an access token\n",
            q(auth),
            q(command)
        ),
        NewSecret::Login {
            provider,
            client_id,
            client_secret_command,
            endpoints,
        } => {
            let mut out = match provider {
                Some(p) => format!(
                    "\n[accounts.{n}.oauth2]\nprovider = {}      # endpoints, scopes and XOAUTH2; sign in with: mailer auth login -a {n}\n",
                    q(p.name())
                ),
                None => format!("auth = \"oauthbearer\"\n\n[accounts.{n}.oauth2]\n"),
            };
            match client_id {
                Some(id) => out += &format!("client_id = {}\n", q(id)),
                None => {
                    out += "# client_id = \"...\"          # your app registration's: see docs/oauth2.md\n"
                }
            }
            if let Some(e) = endpoints {
                out += &format!(
                    "auth_url = {}\ntoken_url = {}\n",
                    q(&e.auth_url),
                    q(&e.token_url)
                );
                if !e.scopes.is_empty() {
                    let scopes: Vec<String> = e.scopes.iter().map(|s| q(s)).collect();
                    out += &format!("scopes = [{}]\n", scopes.join(", "));
                }
            }
            if let Some(c) = client_secret_command {
                out += &format!("client_secret_command = {}\n", q(c));
            } else if *provider == Some(Provider::Google) {
                out +=
                    "# client_secret_command = \"...\"   # Google gives installed apps a secret\n";
            }
            out
        }
    }
}

fn server_lines(name: &str, key: &str, s: &NewServer, q: &dyn Fn(&str) -> String) -> String {
    let mut out = format!("\n[accounts.{name}.{key}]\nhost = {}\n", q(&s.host));
    out += &format!(
        "port = {}\nsecurity = {}\n",
        s.port,
        q(&s.security.to_string())
    );
    if let Some(ca) = &s.ca_file {
        out += &format!(
            "ca_file = {}        # a certificate to trust besides the system's\n",
            q(ca)
        );
    }
    out
}
