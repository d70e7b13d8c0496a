//! The error every command returns, and the exit code it maps to.
//!
//! Library modules have their own typed errors (`config::Error`, `smtp::Error`,
//! `net::SessionError`, `message::compose::Error`); each converts into [`Failure`], which
//! keeps the typed error and its source chain, the context it was met in, and the
//! sysexits code a script branches on. Only printing flattens it into the one line a user
//! reads, as cargo's `CliError` does.

use std::fmt;

/// Exit codes from BSD's sysexits.h: the convention cron jobs and MTAs already understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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
    /// 73: an output file cannot be created (an account of that name is already there).
    CantCreat = 73,
    /// 74: a local I/O error.
    Io = 74,
    /// 75: a temporary failure; running again later may succeed.
    TempFail = 75,
    /// 77: the server refused the credentials.
    NoPerm = 77,
    /// 78: the configuration is wrong.
    Config = 78,
}

/// The boxed cause a [`Failure`] carries.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A failed command: the typed cause with its source chain, what was being done, and the
/// exit code.
#[derive(Debug)]
pub struct Failure {
    exit: Exit,
    /// What was being done, outermost first (`alice`, `QUIT failed ...`).
    context: Vec<String>,
    cause: Cause,
}

/// A cause that is only a sentence: what the command itself found wrong.
#[derive(Debug)]
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Message {}

impl Failure {
    /// A failure whose cause is a sentence of mailer's own.
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Failure::with_cause(exit, Message(message.into()))
    }

    /// A failure caused by a typed error, kept with its sources.
    pub fn with_cause(exit: Exit, cause: impl Into<Cause>) -> Self {
        Failure {
            exit,
            context: Vec::new(),
            cause: cause.into(),
        }
    }

    /// An I/O failure while doing `what` (exit 74).
    pub fn io(what: impl fmt::Display, e: std::io::Error) -> Self {
        Failure::with_cause(Exit::Io, e).context(what)
    }

    /// The sysexits code this failure ends the command with.
    pub fn exit(&self) -> Exit {
        self.exit
    }

    /// The typed cause, for a caller that must tell cases apart.
    pub fn cause(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.cause
    }

    /// Prefixes the message with what was being done, keeping the exit code and cause.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.context.insert(0, what.to_string());
        self
    }
}

impl fmt::Display for Failure {
    /// The one line a user reads: the context, then the cause and its sources.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for what in &self.context {
            write!(f, "{}: ", one_line(what))?;
        }
        f.write_str(&chain(&*self.cause))
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.cause)
    }
}

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

/// Whether an I/O error is worth retrying: the network or the peer failed, not the
/// configuration. The one place SMTP, IMAP and POP3 decide this.
pub fn io_is_temporary(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused
            | TimedOut
            | ConnectionReset
            | ConnectionAborted
            | UnexpectedEof
            | BrokenPipe
            | HostUnreachable
            | NetworkUnreachable
            | NetworkDown
            | Interrupted
    ) || name_lookup_failed(&e.to_string())
}

/// A host name that does not resolve is most often a network outage for a configured
/// host, so it counts as temporary.
pub fn name_lookup_failed(text: &str) -> bool {
    text.contains("failed to lookup address") || text.contains("Temporary failure")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_prints_context_then_cause_and_keeps_its_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let f = Failure::io("writing the Maildir", io).context("alice");
        assert_eq!(f.to_string(), "alice: writing the Maildir: no such file");
        assert_eq!(f.exit(), Exit::Io);
        assert!(f.cause().downcast_ref::<std::io::Error>().is_some());
    }

    #[test]
    fn temporary_io_errors() {
        let e = |k| std::io::Error::new(k, "x");
        assert!(io_is_temporary(&e(std::io::ErrorKind::ConnectionRefused)));
        assert!(io_is_temporary(&e(std::io::ErrorKind::UnexpectedEof)));
        assert!(!io_is_temporary(&e(std::io::ErrorKind::PermissionDenied)));
        assert!(io_is_temporary(&std::io::Error::other(
            "failed to lookup address information"
        )));
    }
}
