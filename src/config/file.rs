//! The config file exactly as written, and its translation into [`Account`]s.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{Account, Error, Protocol, SecretSource, Security, Server, expand_tilde};

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
    password_command: Option<Spanned<String>>,
    password_env: Option<Spanned<String>>,
    password: Option<Spanned<String>>,
    maildir: Option<String>,
    smtp: Option<FileServer>,
    imap: Option<FileServer>,
    pop3: Option<FileServer>,
}

/// The three ways a section can name its password; at most one may be set.
struct FileSecret {
    password_command: Option<Spanned<String>>,
    password_env: Option<Spanned<String>>,
    password: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileServer {
    host: Spanned<String>,
    port: Option<u16>,
    security: Option<Security>,
    ca_file: Option<String>,
    user: Option<String>,
    password_command: Option<Spanned<String>>,
    password_env: Option<Spanned<String>>,
    password: Option<Spanned<String>>,
    #[serde(default)]
    allow_insecure_auth: bool,
    delete_after_fetch: Option<Spanned<bool>>,
    timeout_secs: Option<Spanned<u64>>,
}

/// Default bound on connecting and on each reply.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

pub(super) fn parse(path: &Path, text: &str, private: bool) -> Result<super::Config, Error> {
    let at = |offset: usize, key: &str, message: &str| -> Error {
        let (line, col) = line_col(text, offset);
        Error::Invalid(format!("{}:{line}:{col}: {key}: {message}", path.display()))
    };

    let deserializer = toml::Deserializer::new(text);
    let raw: FileConfig = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.inner();
        let message = inner.message().trim().to_string();
        let offset = inner.span().map(|s| s.start).unwrap_or(0);
        if key == "." || key.is_empty() {
            let (line, col) = line_col(text, offset);
            Error::Invalid(format!("{}:{line}:{col}: {message}", path.display()))
        } else {
            at(offset, &key, &message)
        }
    })?;

    let mut accounts = Vec::new();
    for (name, acc) in &raw.accounts {
        let key = format!("accounts.{name}");
        let email = acc.email.get_ref().trim().to_string();
        if email.parse::<lettre::Address>().is_err() {
            return Err(at(
                acc.email.span().start,
                &format!("{key}.email"),
                &format!("{email:?} is not an email address (like alice@example.org)"),
            ));
        }
        let user = acc.user.clone().unwrap_or_else(|| email.clone());
        let own = FileSecret {
            password_command: acc.password_command.clone(),
            password_env: acc.password_env.clone(),
            password: acc.password.clone(),
        };
        let account_secret = secret_source(&own, &key, private, &at)?;
        let server =
            |section: &Option<FileServer>, protocol: Protocol| -> Result<Option<Server>, Error> {
                let Some(s) = section else { return Ok(None) };
                let skey = format!("{key}.{}", protocol.key());
                let host = s.host.get_ref().trim().to_string();
                if host.is_empty() {
                    return Err(at(
                        s.host.span().start,
                        &format!("{skey}.host"),
                        "is empty: set the server's host name",
                    ));
                }
                let security = s.security.unwrap_or(Security::Tls);
                if let Some(d) = &s.delete_after_fetch
                    && protocol != Protocol::Pop3
                {
                    return Err(at(
                        d.span().start,
                        &format!("{skey}.delete_after_fetch"),
                        "only applies to [pop3] sections",
                    ));
                }
                if s.port == Some(0) {
                    return Err(at(
                        s.host.span().start,
                        &format!("{skey}.port"),
                        "0 is not a port",
                    ));
                }
                let own = FileSecret {
                    password_command: s.password_command.clone(),
                    password_env: s.password_env.clone(),
                    password: s.password.clone(),
                };
                let secret = secret_source(&own, &skey, private, &at)?.or(account_secret.clone());
                let timeout = match &s.timeout_secs {
                    Some(t) if *t.get_ref() == 0 => {
                        return Err(at(
                            t.span().start,
                            &format!("{skey}.timeout_secs"),
                            "must be at least 1",
                        ));
                    }
                    Some(t) => Duration::from_secs(*t.get_ref()),
                    None => DEFAULT_TIMEOUT,
                };
                Ok(Some(Server {
                    host,
                    port: s.port.unwrap_or(protocol.default_port(security)),
                    security,
                    ca_file: s.ca_file.as_deref().map(expand_tilde),
                    user: s.user.clone().unwrap_or_else(|| user.clone()),
                    secret,
                    allow_insecure_auth: s.allow_insecure_auth,
                    delete_after_fetch: s.delete_after_fetch.as_ref().is_some_and(|d| *d.get_ref()),
                    timeout,
                }))
            };
        accounts.push(Account {
            name: name.clone(),
            email,
            display_name: acc.name.clone().filter(|n| !n.trim().is_empty()),
            maildir: acc.maildir.as_deref().map(expand_tilde),
            smtp: server(&acc.smtp, Protocol::Smtp)?,
            imap: server(&acc.imap, Protocol::Imap)?,
            pop3: server(&acc.pop3, Protocol::Pop3)?,
            config_path: path.to_path_buf(),
        });
    }

    let default_account = match &raw.default_account {
        Some(d) => {
            let name = d.get_ref();
            if !raw.accounts.contains_key(name) {
                let known = raw.accounts.keys().cloned().collect::<Vec<_>>().join(", ");
                return Err(at(
                    d.span().start,
                    "default_account",
                    &format!("no account named {name:?} (accounts: {known})"),
                ));
            }
            Some(name.clone())
        }
        None => None,
    };

    Ok(super::Config {
        path: path.to_path_buf(),
        default_account,
        accounts,
    })
}

/// The one secret source a section names, if any. Two at once is ambiguous, and a
/// plain-text password in a file others can read is refused, as OpenSSH refuses such keys.
fn secret_source(
    s: &FileSecret,
    key: &str,
    private: bool,
    at: &dyn Fn(usize, &str, &str) -> Error,
) -> Result<Option<SecretSource>, Error> {
    let given: Vec<(&str, &Spanned<String>)> = [
        ("password_command", &s.password_command),
        ("password_env", &s.password_env),
        ("password", &s.password),
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
