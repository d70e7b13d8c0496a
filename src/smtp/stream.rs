//! The connection SMTP runs over: our own TCP stream (TCP_NODELAY, TLS through `net`,
//! STARTTLS's too), with the caps on what the server may send and `-vv`'s transcript,
//! which sees the conversation in the clear on both sides of STARTTLS.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::config::Server;
use crate::net::limits::{self, LineGuard};
use crate::net::{self, Idle};

/// The connection: plain (until STARTTLS) or TLS, with the caps on what the server may
/// send in one line and one reply.
#[derive(Debug)]
pub(super) struct Stream {
    inner: Inner,
    cork: net::Cork,
    guard: LineGuard,
    /// The conversation, for `-vv`.
    wire: Option<net::wire::Transcript>,
}

#[derive(Debug)]
enum Inner {
    Plain(Idle<TcpStream>),
    Tls(net::TlsStream<Idle<TcpStream>>),
    /// After a failed STARTTLS handshake.
    Closed,
}

fn closed() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::NotConnected, "the connection is closed")
}

impl Stream {
    pub(super) fn plain(tcp: Idle<TcpStream>) -> Stream {
        let cork = net::Cork::of(tcp.get_ref());
        Stream::new(Inner::Plain(tcp), cork)
    }

    pub(super) fn tls(tls: net::TlsStream<Idle<TcpStream>>) -> Stream {
        let cork = net::Cork::of(tls.get_ref().get_ref().get_ref());
        Stream::new(Inner::Tls(tls), cork)
    }

    fn new(inner: Inner, cork: net::Cork) -> Stream {
        Stream {
            inner,
            cork,
            guard: LineGuard::new(limits::SMTP_LINE, limits::SMTP_REPLY),
            wire: net::wire::Transcript::new("smtp"),
        }
    }

    /// STARTTLS's handshake, verified as implicit TLS is; the caps and the transcript
    /// go on above it. A connection already secured is kept as it is; one whose
    /// handshake failed is closed.
    pub(super) async fn starttls(&mut self, server: &Server) -> Result<(), net::Error> {
        if let Inner::Plain(_) = self.inner
            && let Inner::Plain(tcp) = std::mem::replace(&mut self.inner, Inner::Closed)
        {
            self.inner = Inner::Tls(net::tls_wrap(server, tcp).await?);
        }
        Ok(())
    }

    /// Holds small writes back until uncorked, so that what is written in between
    /// leaves in one segment (see [`net::Cork`]).
    pub(super) fn cork(&self, on: bool) {
        self.cork.set(on);
    }

    /// What the server's certificate says, for `mailer check`'s STARTTLS step.
    pub(super) fn certificate_shown(&self, host: &str) -> String {
        match &self.inner {
            Inner::Tls(tls) => net::certificate_shown(tls, host),
            _ => format!("verified for {host}"),
        }
    }
}

impl AsyncRead for Stream {
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
            Inner::Closed => Poll::Ready(Err(closed())),
        };
        if let Poll::Ready(Ok(())) = r {
            let read = &buf.filled()[before..];
            if let Err(limit) = this.guard.read(read) {
                return Poll::Ready(Err(limit.into_io()));
            }
            if let Some(wire) = this.wire.as_mut() {
                wire.server(read);
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
            Inner::Closed => Poll::Ready(Err(closed())),
        };
        if let (Poll::Ready(Ok(n)), Some(wire)) = (&r, this.wire.as_mut()) {
            wire.client(&buf[..*n]);
        }
        r
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Plain(s) => Pin::new(s).poll_flush(cx),
            Inner::Tls(s) => Pin::new(s).poll_flush(cx),
            Inner::Closed => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Inner::Tls(s) => Pin::new(s).poll_shutdown(cx),
            Inner::Closed => Poll::Ready(Ok(())),
        }
    }
}
