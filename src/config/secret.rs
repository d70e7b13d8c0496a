//! Passwords: where they come from, read only when a server asks for one, never shown.

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
}

/// Why a password could not be read. No variant carries the password.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("password_env: environment variable {0} is empty: export the password in it")]
    EnvEmpty(String),
    #[error("password_env: environment variable {0} is not set: export the password in it")]
    EnvUnset(String),
    #[error("password_command: cannot run sh: {0}")]
    Spawn(std::io::Error),
    #[error("password_command failed ({status}){}{why}", if why.is_empty() { "" } else { ": " })]
    Failed { status: String, why: String },
    #[error("password_command printed something that is not UTF-8")]
    NotUtf8,
    #[error("password_command printed an empty first line")]
    Empty,
    #[error(
        "password_command {command:?} gave no password within {secs} s (the server's timeout_secs): make it answer without waiting for input"
    )]
    Timeout { command: String, secs: u64 },
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
            SecretSource::Command(cmd) => match tokio::time::timeout(timeout, run(cmd)).await {
                Ok(result) => result,
                Err(_) => Err(SecretError::Timeout {
                    command: shorten(cmd),
                    secs: timeout.as_secs(),
                }),
            },
        }
    }
}

/// Runs the command off the async executor (a child process the runtime waits on), so a
/// slow keyring never blocks other work; it is killed if the caller gives up.
async fn run(cmd: &str) -> Result<Password, SecretError> {
    let output = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(SecretError::Spawn)?;
    if !output.status.success() {
        let why = String::from_utf8_lossy(&output.stderr);
        let why = why.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let status = match output.status.code() {
            Some(c) => format!("exit status {c}"),
            None => "killed by a signal".to_string(),
        };
        return Err(SecretError::Failed {
            status,
            why: why.trim().to_string(),
        });
    }
    let stdout = String::from_utf8(output.stdout).map_err(|_| SecretError::NotUtf8)?;
    let first = stdout.lines().next().unwrap_or("").trim_end_matches('\r');
    if first.is_empty() {
        return Err(SecretError::Empty);
    }
    Ok(Password(first.to_string()))
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
