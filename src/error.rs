//! The error every command returns, and the exit code it maps to.
//!
//! Library modules have their own typed errors (`config::Error`, `smtp::Error`,
//! `message::compose::Error`); each converts into [`Failure`], which carries the one-line
//! message a user reads and the sysexits code a script branches on.

use std::fmt;

/// Exit codes from BSD's sysexits.h: the convention cron jobs and MTAs already understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 64: the command line is wrong (flag, address or header syntax).
    Usage = 64,
    /// 65: the input data is wrong (a message that cannot be parsed, a body that is not UTF-8,
    /// a recipient or message the server permanently refused).
    Data = 65,
    /// 66: an input file is missing or unreadable.
    NoInput = 66,
    /// 69: the server is unavailable or refused the session for good.
    Unavailable = 69,
    /// 70: a bug in mailer.
    Software = 70,
    /// 74: a local I/O error.
    Io = 74,
    /// 75: a temporary failure; running again later may succeed.
    TempFail = 75,
    /// 77: the server refused the credentials.
    NoPerm = 77,
    /// 78: the configuration is wrong.
    Config = 78,
}

/// A failed command: what went wrong, in one line, and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

impl Failure {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Failure {
            exit,
            message: message.into(),
        }
    }

    /// Prefixes the message with what was being done, keeping the exit code.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// Joins an error and its sources into one line, the way a user reads it.
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut line = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = s.source();
    }
    one_line(&line)
}

/// Collapses line breaks so that every error stays on one line of stderr.
pub fn one_line(text: &str) -> String {
    text.split(['\r', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
