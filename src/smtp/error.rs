//! A failed SMTP step: which step, what the server said (its reply code and text), and
//! what that means for the user: the exit code, and whether a retry may help.

use std::fmt;

use lettre::Address;

use crate::error::{Exit, Failure};
use crate::net;
use crate::net::limits::TooMuch;

/// A step of the SMTP dialogue, as errors name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Connect,
    Tls,
    Greeting,
    Ehlo,
    Starttls,
    Auth,
    MailFrom,
    RcptTo(Address),
    Data,
    Rset,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Connect => f.write_str("connect"),
            Step::Tls => f.write_str("TLS handshake"),
            Step::Greeting => f.write_str("greeting"),
            Step::Ehlo => f.write_str("EHLO"),
            Step::Starttls => f.write_str("STARTTLS"),
            Step::Auth => f.write_str("AUTH"),
            Step::MailFrom => f.write_str("MAIL FROM"),
            Step::RcptTo(a) => write!(f, "RCPT TO <{a}>"),
            Step::Data => f.write_str("DATA"),
            Step::Rset => f.write_str("RSET"),
        }
    }
}

/// A reply code (RFC 5321 4.2.1): 4xx says a later try may succeed, 5xx that it will not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code(pub u16);

impl Code {
    pub fn is_transient(self) -> bool {
        self.0 / 100 == 4
    }

    pub fn is_permanent(self) -> bool {
        self.0 / 100 == 5
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A failed SMTP step.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reaching or securing the server failed (shared with IMAP and POP3).
    #[error(transparent)]
    Net(#[from] net::Error),
    #[error(
        "{addr} does not offer STARTTLS; refusing to continue unencrypted (use security = \"tls\" if the server listens for implicit TLS)"
    )]
    NoStartTls { addr: String },
    #[error("{addr} offers no authentication mechanism mailer supports (PLAIN, LOGIN)")]
    NoMechanism { addr: String },
    #[error(
        "{addr}: not sending a token over an unencrypted connection: use security = \"tls\" or \"starttls\", or set allow_insecure_auth = true"
    )]
    InsecureToken { addr: String },
    #[error(transparent)]
    AuthRefused(net::LoginRefused),
    #[error("{addr}: {step}{hint}: no reply within {secs} s (timeout_secs)")]
    Timeout {
        addr: String,
        step: Step,
        secs: u64,
        /// What the user may have got wrong, when a silent server suggests it.
        hint: &'static str,
    },
    #[error("{addr}: {step}: the server replied {code} {text}")]
    Rejected {
        addr: String,
        step: Step,
        code: Code,
        text: String,
    },
    /// The message needs an extension the server lacks (SMTPUTF8, 8BITMIME).
    #[error("{addr}: MAIL FROM: the server replied (none): {what}")]
    Lacks { addr: String, what: &'static str },
    #[error(
        "{addr}: {step}: the server sent {limit}; giving up on it (a broken or hostile server)"
    )]
    Limit {
        addr: String,
        step: Step,
        limit: TooMuch,
    },
    #[error("{addr}: {step}: {reason}")]
    Broken {
        addr: String,
        step: Step,
        reason: String,
    },
    #[error(transparent)]
    Config(#[from] crate::config::Error),
    #[error(transparent)]
    Token(#[from] crate::oauth::Error),
}

impl Error {
    /// The sysexits code for this failure.
    pub fn exit(&self) -> Exit {
        match self {
            Error::Net(e) => e.exit(),
            Error::Timeout { .. } | Error::Broken { .. } => Exit::TempFail,
            Error::NoStartTls { .. }
            | Error::NoMechanism { .. }
            | Error::Lacks { .. }
            | Error::Limit { .. } => Exit::Unavailable,
            Error::Config(_) | Error::InsecureToken { .. } => Exit::Config,
            Error::AuthRefused(_) => Exit::NoPerm,
            Error::Token(e) => e.exit(),
            Error::Rejected { .. } if self.is_temporary() => Exit::TempFail,
            // The address or the content was refused: fix the input, not the server.
            Error::Rejected {
                step: Step::RcptTo(_) | Step::Data,
                ..
            } => Exit::Data,
            Error::Rejected { .. } => Exit::Unavailable,
        }
    }

    /// Whether only the user can make the submission work: mailer's own OAuth2 login
    /// has ended, or never happened. Messages are queued for after the new sign-in.
    pub fn needs_sign_in(&self) -> bool {
        matches!(
            self,
            Error::Token(crate::oauth::Error::NoLogin { .. } | crate::oauth::Error::Ended { .. })
        )
    }

    /// Whether the messages after this one in the same session should not be tried:
    /// the failure is the server's or the session's (temporary, or a refused login),
    /// not the message's.
    pub fn ends_session(&self) -> bool {
        self.is_temporary() || matches!(self, Error::AuthRefused(_))
    }

    /// Whether the same submission may succeed later (a 4xx, a timeout, a lost or
    /// refused connection).
    pub fn is_temporary(&self) -> bool {
        match self {
            Error::Net(e) => e.is_temporary(),
            Error::Timeout { .. } | Error::Broken { .. } => true,
            Error::Token(e) => e.is_temporary(),
            Error::Rejected { code, .. } => code.is_transient(),
            _ => false,
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::with_cause(e.exit(), e)
    }
}

/// A failure of the connection at `step`: a cap on what the server may send, the
/// server gone, or a reply that is none.
pub(super) fn io_error(addr: &str, step: Step, e: std::io::Error) -> Error {
    match TooMuch::of(&e) {
        Some(limit) => Error::Limit {
            addr: addr.to_string(),
            step,
            limit,
        },
        None => Error::Broken {
            addr: addr.to_string(),
            step,
            reason: e.to_string(),
        },
    }
}

/// A failure before the greeting was read: the network, not the server's answer (a
/// greeting cut short is worth another try), unless a cap was hit.
pub(super) fn greeting_error(addr: &str, e: std::io::Error) -> Error {
    if TooMuch::of(&e).is_some() || e.kind() == std::io::ErrorKind::InvalidData {
        return io_error(addr, Step::Greeting, e);
    }
    let reason = e.to_string();
    let temporary = crate::error::io_is_temporary(&e)
        || crate::error::name_lookup_failed(&reason)
        || e.kind() == std::io::ErrorKind::UnexpectedEof;
    net::Error::Connect {
        addr: addr.to_string(),
        reason,
        temporary,
    }
    .into()
}
