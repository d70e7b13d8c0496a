//! The config file exactly as written, and its translation into [`Account`]s.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use lettre::Address;

use super::account::{Account, Auth, Protocol, Retrieval, Security, Server};
use super::error::Error;
use super::oauth2::FileOAuth2;
use super::paths::expand_tilde;
use super::secret::SecretSource;
use super::token::TokenSource;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    default_account: Option<Spanned<String>>,
    #[serde(default)]
    accounts: BTreeMap<String, FileAccount>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAccount {
    email: Spanned<String>,
    name: Option<String>,
    user: Option<String>,
    auth: Option<Spanned<Auth>>,
    oauth2: Option<Spanned<FileOAuth2>>,
    password_command: Option<Spanned<String>>,
    password_env: Option<Spanned<String>>,
    password: Option<Spanned<String>>,
    password_keyring: Option<Spanned<bool>>,
    maildir: Option<Spanned<String>>,
    save_sent: Option<bool>,
    sent_mailbox: Option<Spanned<String>>,
    poll_secs: Option<Spanned<u64>>,
    smtp: Option<FileServer>,
    imap: Option<FileServer>,
    pop3: Option<FileServer>,
}

/// The four ways a section can name its password; at most one may be set.
struct FileSecret<'a> {
    password_command: &'a Option<Spanned<String>>,
    password_env: &'a Option<Spanned<String>>,
    password: &'a Option<Spanned<String>>,
    password_keyring: &'a Option<Spanned<bool>>,
}

impl FileSecret<'_> {
    /// Where the first password key given is written.
    fn first_given(&self) -> Option<usize> {
        let strings = [self.password_command, self.password_env, self.password];
        let text = strings
            .iter()
            .copied()
            .flatten()
            .next()
            .map(|p| p.span().start);
        let keyring = self.password_keyring.as_ref().map(|k| k.span().start);
        text.or(keyring)
    }
}

impl FileAccount {
    fn secret(&self) -> FileSecret<'_> {
        FileSecret {
            password_command: &self.password_command,
            password_env: &self.password_env,
            password: &self.password,
            password_keyring: &self.password_keyring,
        }
    }
}

impl FileServer {
    fn secret(&self) -> FileSecret<'_> {
        FileSecret {
            password_command: &self.password_command,
            password_env: &self.password_env,
            password: &self.password,
            password_keyring: &self.password_keyring,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileServer {
    host: Spanned<String>,
    port: Option<Spanned<u16>>,
    security: Option<Security>,
    ca_file: Option<String>,
    user: Option<String>,
    auth: Option<Spanned<Auth>>,
    password_command: Option<Spanned<String>>,
    password_env: Option<Spanned<String>>,
    password: Option<Spanned<String>>,
    password_keyring: Option<Spanned<bool>>,
    #[serde(default)]
    allow_insecure_auth: bool,
    delete_after_fetch: Option<Spanned<bool>>,
    timeout_secs: Option<Spanned<u64>>,
    sasl_ir: Option<Spanned<bool>>,
}

/// Default bound on connecting and on each reply.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A validated file: its accounts, in name order, and the default account's name.
pub(super) struct Parsed {
    pub default_account: Option<String>,
    pub accounts: Vec<Account>,
}

/// Builds errors that point at a place in the file.
struct Places<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Places<'_> {
    fn at(&self, offset: usize, key: &str, message: &str) -> Error {
        let (line, col) = line_col(self.text, offset);
        Error::Invalid(format!(
            "{}:{line}:{col}: {key}: {message}",
            self.path.display()
        ))
    }

    /// A serde error, named by its key path when it has one.
    fn serde(&self, e: serde_path_to_error::Error<toml::de::Error>) -> Error {
        let key = e.path().to_string();
        let inner = e.inner();
        let message = inner.message().trim().to_string();
        let offset = inner.span().map(|s| s.start).unwrap_or(0);
        if key == "." || key.is_empty() {
            let (line, col) = line_col(self.text, offset);
            Error::Invalid(format!("{}:{line}:{col}: {message}", self.path.display()))
        } else {
            self.at(offset, &key, &message)
        }
    }
}

pub(super) fn parse(path: &Path, text: &str, private: bool) -> Result<Parsed, Error> {
    let places = Places { path, text };
    let deserializer = toml::Deserializer::new(text);
    let raw: FileConfig =
        serde_path_to_error::deserialize(deserializer).map_err(|e| places.serde(e))?;
    let accounts = raw
        .accounts
        .iter()
        .map(|(name, acc)| account(&places, path, name, acc, private))
        .collect::<Result<Vec<_>, _>>()?;
    let default_account = match &raw.default_account {
        Some(d) if !raw.accounts.contains_key(d.get_ref()) => {
            let known = raw.accounts.keys().cloned().collect::<Vec<_>>().join(", ");
            return Err(places.at(
                d.span().start,
                "default_account",
                &format!("no account named {:?} (accounts: {known})", d.get_ref()),
            ));
        }
        Some(d) => Some(d.get_ref().clone()),
        None => None,
    };
    Ok(Parsed {
        default_account,
        accounts,
    })
}

fn account(
    places: &Places<'_>,
    path: &Path,
    name: &str,
    acc: &FileAccount,
    private: bool,
) -> Result<Account, Error> {
    let key = format!("accounts.{name}");
    let email_text = acc.email.get_ref().trim();
    let email: Address = email_text.parse().map_err(|_| {
        places.at(
            acc.email.span().start,
            &format!("{key}.email"),
            &format!("{email_text:?} is not an email address (like alice@example.org)"),
        )
    })?;
    let inherited = Inherited {
        user: acc.user.clone().unwrap_or_else(|| email.to_string()),
        secret: secret_source(&acc.secret(), &key, private, places)?,
        auth: acc
            .auth
            .as_ref()
            .map(|a| (*a.get_ref(), a.span().start))
            .or_else(|| {
                let o = acc.oauth2.as_ref()?;
                Some((o.get_ref().default_auth()?, o.span().start))
            }),
        token: acc
            .oauth2
            .as_ref()
            .map(|o| {
                let at = |offset: usize, key: &str, message: &str| places.at(offset, key, message);
                o.get_ref().resolve(&at, name, &key, o.span().start)
            })
            .transpose()?,
    };
    check_account_auth(places, &key, acc, &inherited)?;
    let section = |s: &Option<FileServer>, protocol| -> Result<Option<Server>, Error> {
        s.as_ref()
            .map(|s| server(places, &key, s, protocol, &inherited, private))
            .transpose()
    };
    let imap = section(&acc.imap, Protocol::Imap)?;
    let pop3 = section(&acc.pop3, Protocol::Pop3)?;
    Ok(Account {
        name: name.to_string(),
        email,
        display_name: acc.name.clone().filter(|n| !n.trim().is_empty()),
        maildir: acc
            .maildir
            .as_ref()
            .map(|m| maildir_path(places, &key, m))
            .transpose()?,
        token: inherited.token.clone(),
        save_sent: acc.save_sent,
        poll_secs: match &acc.poll_secs {
            Some(p) if *p.get_ref() == 0 => {
                let why = "must be at least 1: how many seconds `watch` waits between NOOPs where IDLE is not offered (60 if left out)";
                return Err(places.at(p.span().start, &format!("{key}.poll_secs"), why));
            }
            p => p.as_ref().map(|p| *p.get_ref()),
        },
        sent_mailbox: match &acc.sent_mailbox {
            Some(m) if m.get_ref().trim().is_empty() => {
                let why = "is empty: name the mailbox sent mail is kept in, or leave the key out";
                return Err(places.at(m.span().start, &format!("{key}.sent_mailbox"), why));
            }
            m => m.as_ref().map(|m| m.get_ref().clone()),
        },
        smtp: section(&acc.smtp, Protocol::Smtp)?,
        retrieval: match (imap, pop3) {
            (Some(imap), _) => Some(Retrieval::Imap(imap)),
            (None, Some(pop3)) => Some(Retrieval::Pop3(pop3)),
            (None, None) => None,
        },
        config_path: path.to_path_buf(),
    })
}

/// The Maildir, as a full path: a `~` that cannot be expanded (no HOME, as under
/// `env -i` in cron) or a relative path would put the mail wherever the command happens
/// to run.
fn maildir_path(places: &Places<'_>, key: &str, m: &Spanned<String>) -> Result<PathBuf, Error> {
    let text = m.get_ref();
    let path = expand_tilde(text);
    if path.is_absolute() {
        return Ok(path);
    }
    let why = match text.starts_with('~') {
        true => {
            format!("{text:?} starts with ~ but HOME is not set: write the full path, or set HOME")
        }
        false => format!("{text:?} is relative: write the full path (or ~/...)"),
    };
    Err(places.at(m.span().start, &format!("{key}.maildir"), &why))
}

/// What a server section takes from its account unless it says otherwise.
struct Inherited {
    user: String,
    secret: Option<SecretSource>,
    /// The account's `auth`, and where it is written.
    auth: Option<(Auth, usize)>,
    token: Option<TokenSource>,
}

/// An account whose `auth` is a bearer token needs a token source and no password.
fn check_account_auth(
    places: &Places<'_>,
    key: &str,
    acc: &FileAccount,
    inherited: &Inherited,
) -> Result<(), Error> {
    let Some((auth, at)) = inherited.auth else {
        return Ok(());
    };
    if auth == Auth::Password {
        return Ok(());
    }
    if inherited.token.is_none() {
        return Err(places.at(
            at,
            &format!("{key}.auth"),
            &format!("auth = \"{auth}\" needs [{key}.oauth2] with token_command or client_id"),
        ));
    }
    if let Some(at) = acc.secret().first_given() {
        return Err(places.at(
            at,
            key,
            &format!("a password is not used with auth = \"{auth}\": remove it, or give the server that needs one auth = \"password\""),
        ));
    }
    Ok(())
}

/// The server's way of logging in, and the token source when it is a bearer token.
fn server_auth(
    places: &Places<'_>,
    key: &str,
    s: &FileServer,
    inherited: &Inherited,
) -> Result<(Auth, Option<TokenSource>), Error> {
    let own = s.auth.as_ref().map(|a| (*a.get_ref(), a.span().start));
    let Some((auth, at)) = own.or(inherited.auth) else {
        return Ok((Auth::Password, None));
    };
    if auth == Auth::Password {
        return Ok((auth, None));
    }
    let Some(token) = inherited.token.clone() else {
        let section = key.rsplit_once('.').map_or(key, |(a, _)| a);
        return Err(places.at(
            at,
            &format!("{key}.auth"),
            &format!("auth = \"{auth}\" needs [{section}.oauth2] with token_command or client_id"),
        ));
    };
    if let Some(at) = s.secret().first_given() {
        return Err(places.at(
            at,
            key,
            &format!("a password is not used with auth = \"{auth}\": remove it"),
        ));
    }
    Ok((auth, Some(token)))
}

fn server(
    places: &Places<'_>,
    account_key: &str,
    s: &FileServer,
    protocol: Protocol,
    inherited: &Inherited,
    private: bool,
) -> Result<Server, Error> {
    let key = format!("{account_key}.{}", protocol.key());
    let host = s.host.get_ref().trim().to_string();
    if host.is_empty() {
        let at = s.host.span().start;
        return Err(places.at(
            at,
            &format!("{key}.host"),
            "is empty: set the server's host name",
        ));
    }
    let security = s.security.unwrap_or(Security::Tls);
    if let Some(d) = &s.delete_after_fetch
        && protocol != Protocol::Pop3
    {
        let key = format!("{key}.delete_after_fetch");
        return Err(places.at(d.span().start, &key, "only applies to [pop3] sections"));
    }
    if let Some(d) = &s.sasl_ir
        && protocol != Protocol::Imap
    {
        let key = format!("{key}.sasl_ir");
        return Err(places.at(d.span().start, &key, "only applies to [imap] sections"));
    }
    if let Some(port) = s.port.as_ref().filter(|p| *p.get_ref() == 0) {
        let at = port.span().start;
        return Err(places.at(at, &format!("{key}.port"), "0 is not a port"));
    }
    let (auth, token) = server_auth(places, &key, s, inherited)?;
    let user = s.user.clone().unwrap_or_else(|| inherited.user.clone());
    let secret = match auth {
        Auth::Password => {
            secret_source(&s.secret(), &key, private, places)?.or(inherited.secret.clone())
        }
        _ => None,
    }
    .map(|source| match source {
        SecretSource::Keyring(_) => SecretSource::Keyring(user.clone()),
        other => other,
    });
    let timeout = match &s.timeout_secs {
        Some(t) if *t.get_ref() == 0 => {
            let key = format!("{key}.timeout_secs");
            return Err(places.at(t.span().start, &key, "must be at least 1"));
        }
        Some(t) => Duration::from_secs(*t.get_ref()),
        None => DEFAULT_TIMEOUT,
    };
    Ok(Server {
        host,
        port: s
            .port
            .as_ref()
            .map_or(protocol.default_port(security), |p| *p.get_ref()),
        security,
        ca_file: s.ca_file.as_deref().map(expand_tilde),
        user,
        secret,
        allow_insecure_auth: s.allow_insecure_auth,
        delete_after_fetch: s.delete_after_fetch.as_ref().is_some_and(|d| *d.get_ref()),
        timeout,
        key,
        auth,
        token,
        sasl_ir: s.sasl_ir.as_ref().is_none_or(|v| *v.get_ref()),
    })
}

/// The one secret source a section names, if any. Two at once is ambiguous, and a
/// plain-text password in a file others can read is refused, as OpenSSH refuses such keys.
fn secret_source(
    s: &FileSecret<'_>,
    key: &str,
    private: bool,
    places: &Places<'_>,
) -> Result<Option<SecretSource>, Error> {
    let at = |offset, key: &str, message: &str| places.at(offset, key, message);
    if let Some(k) = s.password_keyring {
        if let Some(other) = s.first_given().filter(|at| *at != k.span().start) {
            let msg = "only one of password_command, password_env, password and password_keyring may be set";
            let at = other.max(k.span().start);
            return Err(places.at(at, key, msg));
        }
        // The user is the server's, filled in when the server is resolved.
        return Ok(k.get_ref().then(|| SecretSource::Keyring(String::new())));
    }
    let given: Vec<(&str, &Spanned<String>)> = [
        ("password_command", s.password_command),
        ("password_env", s.password_env),
        ("password", s.password),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
    .collect();
    match given.as_slice() {
        [] => Ok(None),
        [(k, v)] => {
            let k = *k;
            let value = v.get_ref().clone();
            if value.trim().is_empty() {
                return Err(at(v.span().start, &format!("{key}.{k}"), "is empty"));
            }
            match k {
                "password_command" => Ok(Some(SecretSource::Command(value))),
                "password_env" => Ok(Some(SecretSource::Env(value))),
                _ if !private => Err(at(
                    v.span().start,
                    &format!("{key}.password"),
                    "plain-text password in a file that group or others can read: \
                     run `chmod 600` on the file, or use password_command",
                )),
                _ => Ok(Some(SecretSource::Plain(value.into()))),
            }
        }
        [_, (k, v), ..] => Err(at(
            v.span().start,
            &format!("{key}.{k}"),
            "only one of password_command, password_env and password may be set",
        )),
    }
}

/// 1-based line and column of a byte offset, counting characters as editors do.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

#[cfg(test)]
mod tests;
