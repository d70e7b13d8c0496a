//! The connection lettre runs over: our own TCP stream (TCP_NODELAY, an idle bound on
//! reads, TLS through `net`), handed to lettre instead of letting it connect itself.

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use lettre::transport::smtp::client::{AsyncTokioStream, Certificate, TlsParameters};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::error::Error;
use crate::config::Server;
use crate::net::{self, Idle};

/// The connection lettre runs over: plain (until STARTTLS) or implicit TLS.
#[derive(Debug)]
pub(super) enum Stream {
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
