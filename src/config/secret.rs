//! Passwords and tokens from helpers: where they come from, read only when a server asks
//! for one, never shown.

use std::fmt;
use std::process::Stdio;
use std::time::Duration;

/// A password. Its `Debug` prints a placeholder, so it cannot leak into a log line or an
/// error message by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Password {
    fn from(s: String) -> Self {
        Password(s)
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Where a server's password comes from.
#[derive(Debug, Clone)]
pub enum SecretSource {
    /// A shell command whose first line of output is the password (`pass show mail`,
    /// `secret-tool lookup ...` for the desktop keyring, `security find-generic-password -w ...`).
    Command(String),
    /// An environment variable holding the password.
    Env(String),
    /// The password itself, allowed only in a file readable by its owner alone.
    Plain(Password),
    /// The OS keyring's entry for service "mailer" and this login user
    /// (`mailer auth set-password` stores it).
    Keyring(String),
}

/// The keyring service passwords are stored under.
pub const KEYRING_SERVICE: &str = "mailer";

/// Why a password could not be read. No variant carries the password.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("password_env: environment variable {0} is empty: export the password in it")]
    EnvEmpty(String),
    #[error("password_env: environment variable {0} is not set: export the password in it")]
    EnvUnset(String),
    #[error("{0}: cannot run sh: {1}")]
    Spawn(&'static str, std::io::Error),
    #[error("{what} failed ({status}){}{why}", if why.is_empty() { "" } else { ": " })]
    Failed {
        what: &'static str,
        status: String,
        why: String,
    },
    #[error("{0} printed something that is not UTF-8")]
    NotUtf8(&'static str),
    #[error("password_command printed an empty first line")]
    Empty,
    #[error(
        "{what} {command:?} gave no answer within {secs} s (the server's timeout_secs): make it answer without waiting for input"
    )]
    Timeout {
        what: &'static str,
        command: String,
        secs: u64,
    },
    #[error(
        "password_keyring: the keyring has no password for {0:?}: store one with \"mailer auth set-password\""
    )]
    KeyringMissing(String),
    #[error(
        "password_keyring: {0}: under cron or over SSH, where no keyring is unlocked, use password_command or password_env instead"
    )]
    Keyring(crate::keyring::Error),
    #[error("no token source: set [oauth2] token_command or client_id")]
    NoToken,
    #[error("{0} printed an empty first line")]
    EmptyOutput(&'static str),
    #[error("token_command printed {0}: print the access token, or JSON with access_token")]
    BadToken(&'static str),
}

impl SecretSource {
    /// Reads the password now; a command gets at most `timeout` to print it.
    pub async fn read(&self, timeout: Duration) -> Result<Password, SecretError> {
        match self {
            SecretSource::Plain(p) => Ok(p.clone()),
            SecretSource::Env(var) => match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(Password(v)),
                Ok(_) => Err(SecretError::EnvEmpty(var.clone())),
                Err(_) => Err(SecretError::EnvUnset(var.clone())),
            },
            SecretSource::Keyring(user) => {
                match crate::keyring::get(KEYRING_SERVICE, user, timeout).await {
                    Ok(Some(p)) => Ok(Password(p)),
                    Ok(None) => Err(SecretError::KeyringMissing(user.clone())),
                    Err(e) => Err(SecretError::Keyring(e)),
                }
            }
            SecretSource::Command(cmd) => {
                let stdout = bounded("password_command", cmd, timeout).await?;
                let first = stdout.lines().next().unwrap_or("").trim_end_matches('\r');
                if first.is_empty() {
                    return Err(SecretError::Empty);
                }
                Ok(Password(first.to_string()))
            }
        }
    }
}

/// An access token. Like [`Password`], it never prints.
#[derive(Clone)]
pub struct Token {
    pub access: Password,
    /// When it expires (Unix time), if the helper said.
    pub expires_at: Option<i64>,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token(<redacted>, expires_at: {:?})", self.expires_at)
    }
}

/// Runs a token helper now; it gets at most `timeout` to answer.
pub async fn run_token_command(command: &str, timeout: Duration) -> Result<Token, SecretError> {
    let stdout = bounded("token_command", command, timeout).await?;
    parse_token(&stdout)
}

/// Runs a command that prints a secret other than the password (an OAuth2 client
/// secret): its first line.
pub async fn run_secret_command(
    what: &'static str,
    command: &str,
    timeout: Duration,
) -> Result<Password, SecretError> {
    let stdout = bounded(what, command, timeout).await?;
    match stdout.lines().next().map(|l| l.trim_end_matches('\r')) {
        Some(first) if !first.is_empty() => Ok(Password(first.to_string())),
        _ => Err(SecretError::EmptyOutput(what)),
    }
}

/// The helper's output: the bare token on the first line, or a JSON object with
/// `access_token` and optionally `expires_in` (seconds) or `expires_at` (Unix time).
fn parse_token(stdout: &str) -> Result<Token, SecretError> {
    let text = stdout.trim();
    if !text.starts_with('{') {
        let first = text.lines().next().unwrap_or("").trim();
        if first.is_empty() {
            return Err(SecretError::BadToken("nothing"));
        }
        if first.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(SecretError::BadToken("a line with spaces in it"));
        }
        let access = Password(first.to_string());
        return Ok(Token {
            access,
            expires_at: None,
        });
    }
    let json: serde_json::Value = serde_json::from_str(text)
        .map_err(|_| SecretError::BadToken("JSON that does not parse"))?;
    let access = json
        .get("access_token")
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
        .ok_or(SecretError::BadToken("JSON without access_token"))?;
    let now = crate::date::unix_now();
    let expires_at = json
        .get("expires_at")
        .and_then(serde_json::Value::as_i64)
        .or_else(|| {
            json.get("expires_in")
                .and_then(serde_json::Value::as_i64)
                .map(|s| now + s)
        });
    Ok(Token {
        access: Password(access.to_string()),
        expires_at,
    })
}

/// Runs a helper command with `timeout`; its standard output.
async fn bounded(what: &'static str, cmd: &str, timeout: Duration) -> Result<String, SecretError> {
    match tokio::time::timeout(timeout, run(what, cmd)).await {
        Ok(result) => result,
        Err(_) => Err(SecretError::Timeout {
            what,
            command: shorten(cmd),
            secs: timeout.as_secs(),
        }),
    }
}

/// Runs the command off the async executor (a child process the runtime waits on), so a
/// slow keyring never blocks other work; it is killed if the caller gives up.
async fn run(what: &'static str, cmd: &str) -> Result<String, SecretError> {
    let output = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| SecretError::Spawn(what, e))?;
    if !output.status.success() {
        let why = String::from_utf8_lossy(&output.stderr);
        let why = why.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let status = match output.status.code() {
            Some(c) => format!("exit status {c}"),
            None => "killed by a signal".to_string(),
        };
        return Err(SecretError::Failed {
            what,
            status,
            why: why.trim().to_string(),
        });
    }
    String::from_utf8(output.stdout).map_err(|_| SecretError::NotUtf8(what))
}

/// The command as an error names it: its first 60 characters.
fn shorten(cmd: &str) -> String {
    match cmd.char_indices().nth(60) {
        Some((i, _)) => format!("{}...", &cmd[..i]),
        None => cmd.to_string(),
    }
}

#[cfg(test)]
mod tests;
