//! Connections shared by the retrieval protocols (IMAP, POP3): TCP with a bounded
//! connect, and TLS through the system's OpenSSL with an optional extra trust anchor.
//! Certificates are always verified.

mod cork;
mod held;
mod idle;
pub mod limits;
pub mod probe;
pub mod progress;
#[cfg(not(any(target_os = "macos", target_os = "windows")))]
mod trust;
mod unsent;
pub mod wire;

use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::config::Server;
use crate::error::{Exit, Failure};

pub use cork::Cork;
pub use held::Held;
pub use idle::{Idle, IdleSwitch};
pub use unsent::Unsent;

/// TLS over a stream, the handshake's last flight sent with the first command (see
/// [`Held`]): OpenSSL's own where native-tls would run on it (see `trust`), so that
/// its context and roots are loaded once per process; native-tls on macOS and Windows.
#[cfg(not(any(target_os = "macos", target_os = "windows")))]
pub type TlsStream<S> = tokio_openssl::SslStream<Held<S>>;
#[cfg(any(target_os = "macos", target_os = "windows"))]
pub type TlsStream<S> = async_native_tls::TlsStream<Held<S>>;

/// Any byte stream a session can run over: TCP, or TLS over TCP.
pub trait Transport: AsyncRead + AsyncWrite + Unpin + Send + Sync + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync + Debug> Transport for T {}

/// A connection of either kind.
pub type Conn = Box<dyn Transport>;

/// A failure to reach or secure a server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("connecting to {addr}: {reason}")]
    Connect {
        addr: String,
        reason: String,
        temporary: bool,
    },
    #[error("TLS with {addr}: {reason}")]
    Tls { addr: String, reason: String },
    /// The connection ended or broke during the handshake: not the certificate, the
    /// network (or a server going away), so a later try may work.
    #[error("TLS with {addr}: {reason}")]
    TlsCut { addr: String, reason: String },
    #[error("reading ca_file {path}: {reason}")]
    CaFile { path: String, reason: String },
}

impl Error {
    pub fn exit(&self) -> Exit {
        match self {
            Error::Connect {
                temporary: true, ..
            }
            | Error::TlsCut { .. } => Exit::TempFail,
            Error::Connect { .. } | Error::Tls { .. } => Exit::Unavailable,
            Error::CaFile { .. } => Exit::Config,
        }
    }

    /// Whether trying again later may help (a refused or lost connection).
    pub fn is_temporary(&self) -> bool {
        matches!(
            self,
            Error::Connect {
                temporary: true,
                ..
            } | Error::TlsCut { .. }
        )
    }
}

/// A server refused the user name or password (SMTP, IMAP and POP3 alike).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{addr} refused the login of user {user:?}: {reply}")]
pub struct LoginRefused {
    pub addr: String,
    pub user: String,
    /// The server's own words.
    pub reply: String,
}

/// A failed step of a retrieval session (IMAP or POP3), naming the step and whether
/// trying again later can help.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Net(#[from] Error),
    #[error(transparent)]
    AuthRefused(LoginRefused),
    #[error(
        "{addr}: not sending a password over an unencrypted connection: use security = \"tls\" or \"starttls\", or set allow_insecure_auth = true"
    )]
    InsecureAuth { addr: String },
    #[error("{0}: no password configured: set password_command, password_env or password")]
    NoPassword(String),
    #[error("{addr}: {step}: no reply within {secs} s (timeout_secs)")]
    Timeout {
        addr: String,
        step: String,
        secs: u64,
    },
    #[error("{addr}: {}", no_mailbox(.mailbox, .known.as_deref(), .reply))]
    NoMailbox {
        addr: String,
        mailbox: String,
        /// The account's mailboxes, when the one asked for is not among them.
        known: Option<Vec<String>>,
        reply: String,
    },
    #[error("{addr}: {step}: the server replied {reply}")]
    Refused {
        addr: String,
        step: String,
        reply: String,
    },
    #[error("{addr}: {step}: {reason}")]
    Broken {
        addr: String,
        step: String,
        reason: String,
    },
    /// The server lacks what the step needs (an IMAP extension).
    #[error("{addr}: {reason}")]
    Unsupported { addr: String, reason: String },
    #[error(transparent)]
    Password(#[from] crate::config::Error),
    #[error(transparent)]
    Token(#[from] crate::oauth::Error),
    #[error(
        "{addr}: {step}: the server sent {limit}; giving up on it (a broken or hostile server)"
    )]
    Limit {
        addr: String,
        step: String,
        limit: limits::TooMuch,
    },
}

impl SessionError {
    pub fn exit(&self) -> Exit {
        match self {
            SessionError::Net(e) => e.exit(),
            SessionError::Timeout { .. } | SessionError::Broken { .. } => Exit::TempFail,
            SessionError::Refused { .. }
            | SessionError::Limit { .. }
            | SessionError::Unsupported { .. } => Exit::Unavailable,
            SessionError::NoMailbox { .. } => Exit::Data,
            SessionError::AuthRefused(_) => Exit::NoPerm,
            SessionError::Token(e) => e.exit(),
            SessionError::InsecureAuth { .. }
            | SessionError::NoPassword(_)
            | SessionError::Password(_) => Exit::Config,
        }
    }
}

impl From<SessionError> for Failure {
    fn from(e: SessionError) -> Self {
        Failure::with_cause(e.exit(), e)
    }
}

/// A connection made before the session, by `mailer check` (which times the connect and
/// TLS steps on their own): the session then runs over it instead of connecting again.
pub enum Opened {
    /// TCP, for `security = "starttls"` or `"none"`.
    Plain(Idle<TcpStream>),
    /// TCP with the TLS handshake done, for `security = "tls"`.
    Tls(TlsStream<Idle<TcpStream>>),
}

/// A mailbox the server would not open: not there (with those that are), or there but
/// refused.
fn no_mailbox(mailbox: &str, known: Option<&[String]>, reply: &str) -> String {
    match known {
        Some(known) => format!(
            "no mailbox {mailbox:?} (the account has: {}); the server said: {reply}",
            known.join(", ")
        ),
        None => format!("mailbox {mailbox:?} cannot be opened: {reply}"),
    }
}

/// Opens a TCP connection, giving up after the server's timeout; reads on it fail after
/// the same time without data (see [`Idle`]).
pub async fn connect(server: &Server) -> Result<Idle<TcpStream>, Error> {
    let addr = server.address();
    let tcp = match tokio::time::timeout(server.timeout, open_tcp(server)).await {
        Err(_) => {
            return Err(Error::Connect {
                addr,
                reason: format!("no answer within {} s", server.timeout.as_secs()),
                temporary: true,
            });
        }
        Ok(Err(e)) => {
            return Err(Error::Connect {
                addr,
                reason: e.to_string(),
                temporary: crate::error::io_is_temporary(&e),
            });
        }
        Ok(Ok(s)) => s,
    };
    let _ = tcp.set_nodelay(true);
    tracing::info!("connected to {addr}");
    Ok(Idle::new(tcp, server.timeout))
}

/// TCP to the first of the host's addresses that takes it, as tokio's own connect does;
/// the TLS context is built while the first SYN is out, so that its few ms overlap the
/// network's round trip and the server's accepting rather than follow them. (Built
/// before the SYN, beside the lookup, it made `list` at no added delay 1.5 ms slower:
/// Dovecot then starts its login process only after it.)
async fn open_tcp(server: &Server) -> std::io::Result<TcpStream> {
    let mut last = None;
    let addrs = tokio::net::lookup_host((server.host.as_str(), server.port)).await?;
    for (i, addr) in addrs.enumerate() {
        let connecting = TcpStream::connect(addr);
        let attempt = match i {
            0 => alongside(connecting, || prepare_tls(server)).await,
            _ => connecting.await,
        };
        match attempt {
            Ok(tcp) => return Ok(tcp),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "the host name has no address")
    }))
}

/// Polls `work` once, so that it is under way, and runs `meanwhile` before awaiting the
/// rest of it (not at all when `work` is done at once).
async fn alongside<F: Future>(work: F, meanwhile: impl FnOnce()) -> F::Output {
    let mut work = std::pin::pin!(work);
    if let Poll::Ready(done) = std::future::poll_fn(|cx| Poll::Ready(work.as_mut().poll(cx))).await
    {
        return done;
    }
    meanwhile();
    work.await
}

/// Where the session will use TLS, builds its TLS context (once per process): OpenSSL's
/// context, the roots' directory and the `ca_file` take a few ms of CPU (see
/// [`open_tcp`]). Nothing is reported here; [`tls_wrap`] reports what fails.
#[cfg(not(any(target_os = "macos", target_os = "windows")))]
fn prepare_tls(server: &Server) {
    if server.security == crate::config::Security::None {
        return;
    }
    let pem = server.ca_file.as_deref().map(ca_pem).and_then(Result::ok);
    if server.ca_file.is_none() || pem.is_some() {
        trust::prepare(server.ca_file.as_deref().zip(pem.as_deref()));
    }
}

#[cfg(any(target_os = "macos", target_os = "windows"))]
fn prepare_tls(_server: &Server) {}

/// Runs the TLS handshake over `stream`, verifying the server's certificate against the
/// system's roots plus `ca_file`. The caller bounds it with its timeout.
#[cfg(not(any(target_os = "macos", target_os = "windows")))]
pub async fn tls_wrap<S>(server: &Server, stream: S) -> Result<TlsStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let failed = |text: String| tls_error(server.address(), &text);
    let pem = server.ca_file.as_deref().map(ca_pem).transpose()?;
    let ca = server.ca_file.as_deref().zip(pem.as_deref());
    let ssl = trust::client(&server.host, ca).map_err(|e| match e {
        trust::Failure::Library(e) => failed(e.to_string()),
        trust::Failure::NotPem(e) => Error::CaFile {
            path: ca
                .map(|(path, _)| path.display().to_string())
                .unwrap_or_default(),
            reason: format!("not a PEM certificate ({e})"),
        },
    })?;
    let mut tls =
        tokio_openssl::SslStream::new(ssl, Held::new(stream)).map_err(|e| failed(e.to_string()))?;
    if let Err(e) = std::pin::Pin::new(&mut tls).connect().await {
        let verify = tls.ssl().verify_result();
        return Err(failed(match verify.as_raw() {
            0 => e.to_string(),
            _ => format!("certificate verify failed: {}", verify.error_string()),
        }));
    }
    tls.get_mut().handshake_done();
    tracing::info!("TLS established with {}", server.address());
    Ok(tls)
}

/// Runs the TLS handshake over `stream`, verifying the server's certificate against the
/// system's roots plus `ca_file`. The caller bounds it with its timeout.
#[cfg(any(target_os = "macos", target_os = "windows"))]
pub async fn tls_wrap<S>(server: &Server, stream: S) -> Result<TlsStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut connector = async_native_tls::TlsConnector::new();
    if let Some(path) = &server.ca_file {
        let pem = ca_pem(path)?;
        let cert = async_native_tls::Certificate::from_pem(&pem).map_err(|e| Error::CaFile {
            path: path.display().to_string(),
            reason: format!("not a PEM certificate ({e})"),
        })?;
        connector = connector.add_root_certificate(cert);
    }
    let mut tls = connector
        .connect(&server.host, Held::new(stream))
        .await
        .map_err(|e| tls_error(server.address(), &e.to_string()))?;
    tls.get_mut().handshake_done();
    tracing::info!("TLS established with {}", server.address());
    Ok(tls)
}

/// What the certificate of a verified TLS session says, for `mailer check`'s STARTTLS
/// step (the implicit-TLS step makes its own handshake, which also knows the cipher).
pub fn certificate_shown<S>(tls: &TlsStream<S>, host: &str) -> String
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match peer_certificate(tls) {
        Some(der) => crate::tls::describe_certificate(&der, host),
        None => format!("verified for {host}"),
    }
}

/// The server's certificate, DER-encoded, from a verified session.
#[cfg(not(any(target_os = "macos", target_os = "windows")))]
pub fn peer_certificate<S>(tls: &TlsStream<S>) -> Option<Vec<u8>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    tls.ssl().peer_certificate().and_then(|c| c.to_der().ok())
}

/// The server's certificate, DER-encoded, from a verified session.
#[cfg(any(target_os = "macos", target_os = "windows"))]
pub fn peer_certificate<S>(tls: &TlsStream<S>) -> Option<Vec<u8>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    tls.peer_certificate()
        .ok()
        .flatten()
        .and_then(|c| c.to_der().ok())
}

/// The certificate a server presents, read without trusting it: only for telling the
/// user what a certificate that failed verification says (`mailer check`). The
/// connection is closed right after the handshake; nothing is ever sent over it.
pub async fn untrusted_certificate(server: &Server) -> Option<Vec<u8>> {
    let tcp = connect(server).await.ok()?;
    let connector = async_native_tls::TlsConnector::new()
        .danger_accept_invalid_certs(true)
        .danger_accept_invalid_hostnames(true);
    let handshake = connector.connect(&server.host, tcp);
    let tls = tokio::time::timeout(server.timeout, handshake)
        .await
        .ok()?
        .ok()?;
    tls.peer_certificate().ok()??.to_der().ok()
}

/// A failed handshake: cut short (temporary), or refused (the certificate, the protocol).
pub fn tls_error(addr: String, text: &str) -> Error {
    let reason = crate::tls::describe_failure(text);
    match crate::tls::is_cut(text) {
        true => Error::TlsCut { addr, reason },
        false => Error::Tls { addr, reason },
    }
}

/// The bytes of a `ca_file`, read once per process however many connections use it.
pub fn ca_pem(path: &Path) -> Result<Arc<[u8]>, Error> {
    static READ: Mutex<Option<HashMap<PathBuf, Arc<[u8]>>>> = Mutex::new(None);
    let mut cache = READ.lock().unwrap_or_else(|e| e.into_inner());
    let cache = cache.get_or_insert_with(HashMap::new);
    if let Some(pem) = cache.get(path) {
        return Ok(pem.clone());
    }
    let pem: Arc<[u8]> = std::fs::read(path)
        .map_err(|e| Error::CaFile {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?
        .into();
    cache.insert(path.to_path_buf(), pem.clone());
    Ok(pem)
}

/// Awaits one step of a session, bounded by the server's timeout.
pub async fn bounded<T>(
    addr: &str,
    timeout: Duration,
    step: &str,
    fut: impl Future<Output = T>,
) -> Result<T, SessionError> {
    tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| SessionError::Timeout {
            addr: addr.to_string(),
            step: step.to_string(),
            secs: timeout.as_secs(),
        })
}

/// A read or write that failed mid-step: a limit the server passed, or a broken session.
pub fn io_failure(addr: &str, step: &str, e: &std::io::Error) -> SessionError {
    match limits::TooMuch::of(e) {
        Some(limit) => SessionError::Limit {
            addr: addr.to_string(),
            step: step.to_string(),
            limit,
        },
        None => broken(addr, step, e),
    }
}

/// A session that broke mid-step; the reason is cut to one short line, since parsers
/// may quote whole server responses.
pub fn broken(addr: &str, step: &str, e: &dyn std::fmt::Display) -> SessionError {
    let mut reason = crate::error::one_line(&e.to_string());
    if reason.len() > 200 {
        let cut = (0..=200)
            .rev()
            .find(|&i| reason.is_char_boundary(i))
            .unwrap_or(0);
        reason.truncate(cut);
        reason.push_str("...");
    }
    SessionError::Broken {
        addr: addr.to_string(),
        step: step.to_string(),
        reason,
    }
}
