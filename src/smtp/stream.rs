//! The connection lettre runs over: our own TCP stream (TCP_NODELAY, an idle bound on
//! reads, TLS through `net`), handed to lettre instead of letting it connect itself.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use lettre::transport::smtp::client::{AsyncTokioStream, Certificate, TlsParameters};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::error::Error;
use crate::config::Server;
use crate::net::limits::{self, LineGuard};
use crate::net::{self, Idle};

/// The connection lettre runs over: plain (until STARTTLS) or implicit TLS, with the
/// caps on what the server may send in one line and one reply.
#[derive(Debug)]
pub(super) struct Stream {
    inner: Inner,
    peer: SocketAddr,
    guard: LineGuard,
    heard: Option<Heard>,
    /// The conversation, for `-vv`.
    wire: Option<net::wire::Transcript>,
    /// STARTTLS was sent: once the server agrees, lettre's TLS runs above this stream.
    starttls: bool,
}

/// What the server said before lettre took over the dialogue (its greeting and EHLO
/// reply, in the clear), kept while `mailer check` records, for its greeting step:
/// lettre keeps only the EHLO keywords it uses.
#[derive(Debug, Clone, Default)]
pub(super) struct Heard(Arc<Mutex<Option<Vec<u8>>>>);

/// More than any greeting and EHLO reply; what a server sends beyond it is not shown.
const HEARD_CAP: usize = 64 * 1024;

impl Heard {
    /// The bytes heard so far; nothing more is kept after this.
    pub(super) fn take(&self) -> Vec<u8> {
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        kept.take().unwrap_or_default()
    }

    fn keep(&self, bytes: &[u8]) {
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(kept) = kept.as_mut() {
            let room = HEARD_CAP.saturating_sub(kept.len());
            kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
    }

    fn new() -> Heard {
        Heard(Arc::new(Mutex::new(Some(Vec::new()))))
    }
}

#[derive(Debug)]
enum Inner {
    Plain(Idle<TcpStream>),
    Tls(async_native_tls::TlsStream<Idle<TcpStream>>),
    Secured(net::Conn),
}

impl Stream {
    pub(super) fn plain(tcp: Idle<TcpStream>, peer: SocketAddr) -> Stream {
        Stream::new(Inner::Plain(tcp), peer)
    }

    pub(super) fn tls(
        tls: async_native_tls::TlsStream<Idle<TcpStream>>,
        peer: SocketAddr,
    ) -> Stream {
        Stream::new(Inner::Tls(tls), peer)
    }

    /// Over a connection secured elsewhere (`mailer check`'s own handshake).
    pub(super) fn secured(conn: net::Conn, peer: SocketAddr) -> Stream {
        Stream::new(Inner::Secured(conn), peer)
    }

    fn new(inner: Inner, peer: SocketAddr) -> Stream {
        Stream {
            inner,
            peer,
            guard: LineGuard::new(limits::SMTP_LINE, limits::SMTP_REPLY),
            heard: net::progress::is_recording().then(Heard::new),
            wire: net::wire::Transcript::new("smtp"),
            starttls: false,
        }
    }

    /// Where the greeting and EHLO reply are kept, when they are (see [`Heard`]).
    pub(super) fn heard(&self) -> Option<Heard> {
        self.heard.clone()
    }
}

impl AsyncRead for Stream {
    /// After STARTTLS, lettre's own TLS runs over this stream, so the caps count
    /// ciphertext: the reply cap still bounds memory.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = match &mut this.inner {
            Inner::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Inner::Tls(s) => Pin::new(s).poll_read(cx, buf),
            Inner::Secured(s) => Pin::new(s).poll_read(cx, buf),
        };
        if let Poll::Ready(Ok(())) = r {
            let read = &buf.filled()[before..];
            if let Err(limit) = this.guard.read(read) {
                return Poll::Ready(Err(limit.into_io()));
            }
            if let Some(heard) = &this.heard {
                heard.keep(read);
            }
            if let Some(wire) = this.wire.as_mut() {
                wire.server(read);
                if this.starttls && read.starts_with(b"220") {
                    wire.stop("lettre's TLS after STARTTLS; with security = \"tls\" all is shown");
                }
            }
        }
        r
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        this.guard.wrote();
        let r = match &mut this.inner {
            Inner::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Inner::Tls(s) => Pin::new(s).poll_write(cx, buf),
            Inner::Secured(s) => Pin::new(s).poll_write(cx, buf),
        };
        if let (Poll::Ready(Ok(n)), Some(wire)) = (&r, this.wire.as_mut()) {
            this.starttls |= matches!(this.inner, Inner::Plain(_)) && buf.starts_with(b"STARTTLS");
            wire.client(&buf[..*n]);
        }
        r
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Plain(s) => Pin::new(s).poll_flush(cx),
            Inner::Tls(s) => Pin::new(s).poll_flush(cx),
            Inner::Secured(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Inner::Tls(s) => Pin::new(s).poll_shutdown(cx),
            Inner::Secured(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

impl AsyncTokioStream for Stream {
    fn peer_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.peer)
    }
}

/// lettre's TLS parameters for STARTTLS: the system's roots plus the server's `ca_file`.
pub(super) fn tls_parameters(server: &Server) -> Result<TlsParameters, Error> {
    let mut builder = TlsParameters::builder(server.host.clone());
    if let Some(path) = &server.ca_file {
        let pem = net::ca_pem(path)?;
        let cert = Certificate::from_pem(&pem).map_err(|e| net::Error::CaFile {
            path: path.display().to_string(),
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
