//! Submission over SMTP: connect, protect the connection, authenticate, hand over messages.
//!
//! lettre's connection type does the wire work; this module drives it one step at a time so
//! that every failure says which step failed (connect, TLS, AUTH, MAIL, RCPT of which
//! recipient, DATA) and whether trying again later can help. One [`Session`] can submit many
//! messages, which is how a queue is flushed over a single connection.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::config::{Password, Security, Server};
use crate::error::{Exit, Failure};
use crate::message::Outgoing;
use crate::net::{self, Idle};

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
    #[error("{addr} refused the login of user {user:?}: {reply}")]
    AuthRefused {
        addr: String,
        user: String,
        reply: String,
    },
    #[error("{addr}: {step}: no reply within {secs} s (timeout_secs)")]
    Timeout {
        addr: String,
        step: String,
        secs: u64,
    },
    #[error("{addr}: {step}: the server replied {reply}")]
    Rejected {
        addr: String,
        step: String,
        reply: String,
        code: u16,
    },
    #[error("{addr}: {step}: {reason}")]
    Broken {
        addr: String,
        step: String,
        reason: String,
    },
    #[error("{0}")]
    Password(String),
}

impl Error {
    /// The sysexits code for this failure.
    pub fn exit(&self) -> Exit {
        match self {
            Error::Net(e) => e.exit(),
            Error::Timeout { .. } | Error::Broken { .. } => Exit::TempFail,
            Error::NoStartTls { .. } | Error::NoMechanism { .. } => Exit::Unavailable,
            Error::Password(_) => Exit::Config,
            Error::AuthRefused { .. } => Exit::NoPerm,
            Error::Rejected { code, step, .. } => {
                if (400..500).contains(code) {
                    Exit::TempFail
                } else if step.starts_with("RCPT") || step == "DATA" {
                    // The address or the content was refused: fix the input, not the server.
                    Exit::Data
                } else {
                    Exit::Unavailable
                }
            }
        }
    }

    /// Whether the same submission may succeed later (a 4xx, a timeout, a refused connection).
    pub fn is_temporary(&self) -> bool {
        self.exit() == Exit::TempFail
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::new(e.exit(), crate::error::one_line(&e.to_string()))
    }
}

/// An open, authenticated SMTP session.
pub struct Session {
    conn: AsyncSmtpConnection,
    addr: String,
    timeout: Duration,
    /// Implicit TLS or STARTTLS succeeded (lettre cannot tell for a stream it was given).
    encrypted: bool,
}

impl Session {
    /// Connects, secures and authenticates. `password` is called only if the server offers
    /// AUTH and the connection is protected (or insecure auth is allowed).
    pub async fn open(
        server: &Server,
        password: impl FnOnce() -> Result<Option<Password>, String>,
    ) -> Result<Session, Error> {
        let addr = server.address();
        let timeout = server.timeout;
        let hello = ClientId::default();
        let tls = || tls_parameters(server);

        // Our own connection (TCP_NODELAY, an idle timeout on reads, TLS through net.rs)
        // handed to lettre: without NODELAY, the final "." of each message waits on a
        // delayed ACK, 40 ms per message when flushing a queue.
        let mut tcp = net::connect(server).await.map_err(Error::from)?;
        // Each SMTP step has its own bound, DATA's growing with the message size. The idle
        // bound must not fire first: while a large message drains from the kernel's buffer
        // over a slow link, the server is silent, and a false timeout would queue a message
        // the server is about to accept, sending it twice.
        tcp.set_timeout(Duration::from_secs(24 * 3600));
        let peer = tcp.get_ref().peer_addr().map_err(|e| net::Error::Connect {
            addr: addr.clone(),
            reason: e.to_string(),
            temporary: true,
        })?;
        let stream: Box<dyn AsyncTokioStream> = match server.security {
            Security::Tls => {
                let tls = match tokio::time::timeout(timeout, net::tls_wrap(server, tcp)).await {
                    Err(_) => {
                        return Err(Error::Timeout {
                            addr,
                            step: "TLS handshake".into(),
                            secs: timeout.as_secs(),
                        });
                    }
                    Ok(r) => r.map_err(Error::from)?,
                };
                Box::new(Stream::Tls(tls, peer))
            }
            _ => Box::new(Stream::Plain(tcp, peer)),
        };
        let connecting = AsyncSmtpConnection::connect_with_transport(stream, &hello);
        let timed_out = |e: &lettre::transport::smtp::Error| {
            find_io_error(e).is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        };
        let mut conn = match tokio::time::timeout(timeout, connecting).await {
            Ok(Err(e)) if !timed_out(&e) => return Err(connect_error(&addr, e)),
            Err(_) | Ok(Err(_)) => {
                // A port that expects implicit TLS stays silent until the client's hello.
                let step = match server.security {
                    Security::Tls => "greeting".to_string(),
                    _ => "greeting (if the port expects implicit TLS, set security = \"tls\")"
                        .to_string(),
                };
                return Err(Error::Timeout {
                    addr,
                    step,
                    secs: timeout.as_secs(),
                });
            }
            Ok(Ok(c)) => c,
        };

        if server.security == Security::Starttls {
            if !conn.can_starttls() {
                conn.abort().await;
                return Err(Error::NoStartTls { addr });
            }
            let params = tls()?;
            match tokio::time::timeout(timeout, conn.starttls(params, &hello)).await {
                Err(_) => {
                    return Err(Error::Timeout {
                        addr,
                        step: "STARTTLS".into(),
                        secs: timeout.as_secs(),
                    });
                }
                Ok(Err(e)) if tls_failure(&e).is_some() => {
                    return Err(net::Error::Tls {
                        addr,
                        reason: tls_failure(&e).unwrap_or_default(),
                    }
                    .into());
                }
                Ok(Err(e)) => return Err(step_error(&addr, "STARTTLS", e)),
                Ok(Ok(())) => {}
            }
        }

        let mut session = Session {
            conn,
            addr,
            timeout,
            encrypted: server.security != Security::None,
        };
        session.authenticate(server, password).await?;
        Ok(session)
    }

    async fn authenticate(
        &mut self,
        server: &Server,
        password: impl FnOnce() -> Result<Option<Password>, String>,
    ) -> Result<(), Error> {
        let info = self.conn.server_info();
        let offers_auth = [Mechanism::Plain, Mechanism::Login]
            .iter()
            .any(|m| info.supports_auth_mechanism(*m));
        let any_auth = offers_auth || info.supports_auth_mechanism(Mechanism::Xoauth2);
        if !any_auth {
            tracing::info!(
                "{} offers no AUTH; submitting without logging in",
                self.addr
            );
            return Ok(());
        }
        if !self.encrypted && !server.allow_insecure_auth {
            tracing::warn!(
                "{}: not sending a password over an unencrypted connection (set allow_insecure_auth = true to allow it)",
                self.addr
            );
            return Ok(());
        }
        let Some(password) = password().map_err(Error::Password)? else {
            tracing::info!(
                "{}: no password configured; submitting without logging in",
                self.addr
            );
            return Ok(());
        };
        if !offers_auth {
            return Err(Error::NoMechanism {
                addr: self.addr.clone(),
            });
        }
        let credentials = Credentials::new(server.user.clone(), password.expose().to_string());
        let mechanisms = [Mechanism::Plain, Mechanism::Login];
        let result = bounded(
            &self.addr,
            self.timeout,
            "AUTH",
            self.conn.auth(&mechanisms, &credentials),
        )
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(Error::Rejected { code, reply, .. }) if code >= 500 => Err(Error::AuthRefused {
                addr: self.addr.clone(),
                user: server.user.clone(),
                reply,
            }),
            Err(e) => Err(e),
        }
    }

    /// Submits one message. A refused recipient aborts the whole transaction (RSET), so a
    /// message is never delivered to only some of its recipients.
    pub async fn send(&mut self, message: &Outgoing) -> Result<(), Error> {
        let info = self.conn.server_info();
        let mut params = Vec::new();
        if message
            .recipients
            .iter()
            .chain([&message.sender])
            .any(|a| !AsRef::<str>::as_ref(a).is_ascii())
        {
            if !info.supports_feature(Extension::SmtpUtfEight) {
                return Err(Error::Rejected {
                    addr: self.addr.clone(),
                    step: "MAIL FROM".into(),
                    reply: "(none): an address is not ASCII and the server does not offer SMTPUTF8"
                        .into(),
                    code: 550,
                });
            }
            params.push(MailParameter::SmtpUtfEight);
        }
        if !message.bytes.is_ascii() {
            if !info.supports_feature(Extension::EightBitMime) {
                return Err(Error::Rejected {
                    addr: self.addr.clone(),
                    step: "MAIL FROM".into(),
                    reply: "(none): the message has 8-bit content and the server does not offer 8BITMIME".into(),
                    code: 554,
                });
            }
            params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }

        let result = self.transaction(message, params).await;
        if let Err(Error::Rejected { .. }) = &result {
            let _ = bounded(&self.addr, self.timeout, "RSET", self.conn.command(Rset)).await;
        }
        result
    }

    async fn transaction(
        &mut self,
        message: &Outgoing,
        params: Vec<MailParameter>,
    ) -> Result<(), Error> {
        let mail = Mail::new(Some(message.sender.clone()), params);
        bounded(
            &self.addr,
            self.timeout,
            "MAIL FROM",
            self.conn.command(mail),
        )
        .await?;
        for rcpt in &message.recipients {
            let step = format!("RCPT TO <{rcpt}>");
            bounded(
                &self.addr,
                self.timeout,
                &step,
                self.conn.command(Rcpt::new(rcpt.clone(), vec![])),
            )
            .await?;
        }
        bounded(&self.addr, self.timeout, "DATA", self.conn.command(Data)).await?;
        // Large messages take longer than one reply: allow for a slow 16 KiB/s link.
        let budget = self.timeout + Duration::from_secs(message.bytes.len() as u64 / 16_384);
        // lettre ends DATA with CRLF "." CRLF itself; a message's own final CRLF would
        // otherwise become an extra blank line at the recipient.
        let bytes = message
            .bytes
            .strip_suffix(b"\r\n")
            .unwrap_or(&message.bytes);
        match tokio::time::timeout(budget, self.conn.message(bytes)).await {
            Err(_) => Err(Error::Timeout {
                addr: self.addr.clone(),
                step: "DATA".into(),
                secs: budget.as_secs(),
            }),
            Ok(Err(e)) => Err(step_error(&self.addr, "DATA", e)),
            Ok(Ok(_)) => Ok(()),
        }
    }

    /// Ends the session politely; errors here cannot lose anything, so they are ignored.
    pub async fn quit(mut self) {
        let _ = tokio::time::timeout(self.timeout, self.conn.quit()).await;
    }
}

/// Awaits one step of the dialogue, bounded by the server's timeout.
async fn bounded<T>(
    addr: &str,
    timeout: Duration,
    step: &str,
    fut: impl Future<Output = Result<T, lettre::transport::smtp::Error>>,
) -> Result<T, Error> {
    match tokio::time::timeout(timeout, fut).await {
        Err(_) => Err(Error::Timeout {
            addr: addr.to_string(),
            step: step.into(),
            secs: timeout.as_secs(),
        }),
        Ok(Err(e)) => Err(step_error(addr, step, e)),
        Ok(Ok(v)) => Ok(v),
    }
}

/// The connection lettre runs over: plain (until STARTTLS) or implicit TLS.
#[derive(Debug)]
enum Stream {
    Plain(Idle<TcpStream>, SocketAddr),
    Tls(async_native_tls::TlsStream<Idle<TcpStream>>, SocketAddr),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s, _) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s, _) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s, _) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s, _) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s, _) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s, _) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s, _) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s, _) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

impl AsyncTokioStream for Stream {
    fn peer_addr(&self) -> std::io::Result<SocketAddr> {
        match self {
            Stream::Plain(_, a) | Stream::Tls(_, a) => Ok(*a),
        }
    }
}

fn tls_parameters(server: &Server) -> Result<TlsParameters, Error> {
    let mut builder = TlsParameters::builder(server.host.clone());
    if let Some(path) = &server.ca_file {
        let shown = path.display().to_string();
        let pem = std::fs::read(path).map_err(|e| net::Error::CaFile {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        let cert = Certificate::from_pem(&pem).map_err(|e| net::Error::CaFile {
            path: shown,
            reason: format!("not a PEM certificate ({})", crate::error::chain(&e)),
        })?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build_native().map_err(|e| {
        net::Error::Tls {
            addr: server.address(),
            reason: crate::error::chain(&e),
        }
        .into()
    })
}

fn connect_error(addr: &str, e: lettre::transport::smtp::Error) -> Error {
    if let Some(reason) = tls_failure(&e) {
        return net::Error::Tls {
            addr: addr.to_string(),
            reason,
        }
        .into();
    }
    if e.status().is_some() {
        return step_error(addr, "greeting", e);
    }
    let io = find_io_error(&e);
    let reason = match io {
        Some(io) => io.to_string(),
        None => crate::error::chain(&e),
    };
    let temporary = match io.map(|io| io.kind()) {
        Some(std::io::ErrorKind::ConnectionRefused)
        | Some(std::io::ErrorKind::TimedOut)
        | Some(std::io::ErrorKind::ConnectionReset)
        | Some(std::io::ErrorKind::ConnectionAborted)
        | Some(std::io::ErrorKind::UnexpectedEof)
        | Some(std::io::ErrorKind::HostUnreachable)
        | Some(std::io::ErrorKind::NetworkUnreachable) => true,
        // A name that does not resolve is most often a network outage for a configured host.
        _ => reason.contains("failed to lookup address") || reason.contains("Temporary failure"),
    };
    net::Error::Connect {
        addr: addr.to_string(),
        reason,
        temporary,
    }
    .into()
}

fn step_error(addr: &str, step: &str, e: lettre::transport::smtp::Error) -> Error {
    match e.status() {
        Some(code) => {
            let code_num: u16 = code.to_string().parse().unwrap_or(500);
            let text = reply_text(&e);
            Error::Rejected {
                addr: addr.to_string(),
                step: step.to_string(),
                reply: format!("{code_num} {text}"),
                code: code_num,
            }
        }
        None => Error::Broken {
            addr: addr.to_string(),
            step: step.to_string(),
            reason: crate::error::chain(&e),
        },
    }
}

/// The reason of a failed TLS handshake, if that is what `e` is, without OpenSSL's
/// internal function and file names.
fn tls_failure(e: &lettre::transport::smtp::Error) -> Option<String> {
    let mut source = std::error::Error::source(e);
    let mut found = e.is_tls().then(|| crate::error::chain(e));
    while let Some(s) = source {
        if s.downcast_ref::<native_tls::Error>().is_some() {
            found = Some(s.to_string());
        }
        source = s.source();
    }
    found.map(|text| crate::tls::describe_failure(&text))
}

fn find_io_error(e: &lettre::transport::smtp::Error) -> Option<&std::io::Error> {
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
fn reply_text(e: &lettre::transport::smtp::Error) -> String {
    std::error::Error::source(e)
        .map(|s| crate::error::one_line(&s.to_string()))
        .unwrap_or_default()
}
