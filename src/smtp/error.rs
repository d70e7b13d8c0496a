//! A failed SMTP step: which step, what the server said (as lettre's typed reply code),
//! and what that means for the user: the exit code, and whether a retry may help.

use std::fmt;

use lettre::Address;
use lettre::transport::smtp::response::{Code, Severity};

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

    /// Whether the same submission may succeed later (a 4xx, a timeout, a lost or
    /// refused connection).
    pub fn is_temporary(&self) -> bool {
        match self {
            Error::Net(e) => e.is_temporary(),
            Error::Timeout { .. } | Error::Broken { .. } => true,
            Error::Token(e) => e.is_temporary(),
            Error::Rejected { code, .. } => code.severity == Severity::TransientNegativeCompletion,
            _ => false,
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::with_cause(e.exit(), e)
    }
}

type LettreError = lettre::transport::smtp::Error;

/// A failure of lettre at `step`: the server's reply when there is one, else a broken
/// session.
pub(super) fn step_error(addr: &str, step: Step, e: LettreError) -> Error {
    match e.status() {
        Some(code) => Error::Rejected {
            addr: addr.to_string(),
            step,
            code,
            text: reply_text(&e),
        },
        None => match find_io_error(&e).and_then(TooMuch::of) {
            Some(limit) => Error::Limit {
                addr: addr.to_string(),
                step,
                limit,
            },
            None => Error::Broken {
                addr: addr.to_string(),
                step,
                reason: crate::error::chain(&e),
            },
        },
    }
}

/// A failure before the greeting: TLS, a reply, or the connection itself.
pub(super) fn connect_error(addr: &str, e: LettreError) -> Error {
    if let Some(text) = tls_text(&e) {
        return net::tls_error(addr.to_string(), &text).into();
    }
    if e.status().is_some() || find_io_error(&e).and_then(TooMuch::of).is_some() {
        return step_error(addr, Step::Greeting, e);
    }
    let io = find_io_error(&e);
    let reason = match io {
        Some(io) => io.to_string(),
        None => crate::error::chain(&e),
    };
    // A greeting or EHLO cut short ("incomplete response") is the network, not the
    // server's answer: worth another try.
    let temporary = io.is_some_and(crate::error::io_is_temporary)
        || crate::error::name_lookup_failed(&reason)
        || e.is_response();
    net::Error::Connect {
        addr: addr.to_string(),
        reason,
        temporary,
    }
    .into()
}

/// Whether lettre gave up because our stream's idle bound fired.
pub(super) fn timed_out(e: &LettreError) -> bool {
    find_io_error(e).is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
}

/// OpenSSL's text of a failed TLS handshake, if that is what `e` is.
pub(super) fn tls_text(e: &LettreError) -> Option<String> {
    let mut source = std::error::Error::source(e);
    let mut found = e.is_tls().then(|| crate::error::chain(e));
    while let Some(s) = source {
        if s.downcast_ref::<native_tls::Error>().is_some() {
            found = Some(s.to_string());
        }
        source = s.source();
    }
    found
}

fn find_io_error(e: &LettreError) -> Option<&std::io::Error> {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        source = s.source();
    }
    None
}

/// The server's text of a negative reply, which lettre keeps as the error's source.
fn reply_text(e: &LettreError) -> String {
    std::error::Error::source(e)
        .map(|s| crate::error::one_line(&s.to_string()))
        .unwrap_or_default()
}
