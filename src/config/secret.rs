//! Passwords: where they come from, read only when a server asks for one, never shown.

use std::fmt;
use std::process::{Command, Stdio};

use super::Error;

/// A password. Its `Debug` and `Display` print a placeholder, so it cannot leak into a log
/// line or an error message by accident.
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

impl SecretSource {
    /// Reads the password now.
    pub fn read(&self) -> Result<Password, Error> {
        match self {
            SecretSource::Plain(p) => Ok(p.clone()),
            SecretSource::Env(var) => match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(Password(v)),
                Ok(_) => Err(Error::Secret(format!(
                    "password_env: environment variable {var} is empty: export the password in it"
                ))),
                Err(_) => Err(Error::Secret(format!(
                    "password_env: environment variable {var} is not set: export the password in it"
                ))),
            },
            SecretSource::Command(cmd) => run_command(cmd),
        }
    }
}

fn run_command(cmd: &str) -> Result<Password, Error> {
    let output = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .output()
        .map_err(|e| Error::Secret(format!("password_command: cannot run sh: {e}")))?;
    if !output.status.success() {
        let why = String::from_utf8_lossy(&output.stderr);
        let why = why
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        let status = match output.status.code() {
            Some(c) => format!("exit status {c}"),
            None => "killed by a signal".to_string(),
        };
        return Err(Error::Secret(format!(
            "password_command failed ({status}){}{why}",
            if why.is_empty() { "" } else { ": " }
        )));
    }
    let stdout = String::from_utf8(output.stdout).map_err(|_| {
        Error::Secret("password_command printed something that is not UTF-8".to_string())
    })?;
    let first = stdout.lines().next().unwrap_or("").trim_end_matches('\r');
    if first.is_empty() {
        return Err(Error::Secret(
            "password_command printed an empty first line".to_string(),
        ));
    }
    Ok(Password(first.to_string()))
}

#[cfg(test)]
mod tests;
