//! The TLS handshake of `mailer check`, which says what was agreed: the protocol
//! version and the cipher, where TLS is OpenSSL's (native-tls on macOS and Windows does
//! not expose them). The session then goes on over the same connection.

use tokio::net::TcpStream;

use super::{Error, Idle, Opened};
use crate::config::Server;

/// What the handshake agreed on, and the certificate it verified.
pub struct Handshake {
    pub opened: Opened,
    /// `TLSv1.3` and the like; None where it cannot be known.
    pub version: Option<String>,
    pub cipher: Option<String>,
    pub certificate: Option<Vec<u8>>,
}

/// The handshake every implicit-TLS connection makes, and what it agreed on.
pub async fn handshake(server: &Server, tcp: Idle<TcpStream>) -> Result<Handshake, Error> {
    let tls = super::tls_wrap(server, tcp).await?;
    let (version, cipher) = agreed(&tls);
    Ok(Handshake {
        version,
        cipher,
        certificate: super::peer_certificate(&tls),
        opened: Opened::Tls(tls),
    })
}

/// The protocol version and the cipher of a session.
#[cfg(not(any(target_os = "macos", target_os = "windows")))]
fn agreed(tls: &super::TlsStream<Idle<TcpStream>>) -> (Option<String>, Option<String>) {
    let ssl = tls.ssl();
    let cipher = ssl.current_cipher().map(|c| c.name().to_string());
    (Some(ssl.version_str().to_string()), cipher)
}

/// native-tls does not say.
#[cfg(any(target_os = "macos", target_os = "windows"))]
fn agreed(_: &super::TlsStream<Idle<TcpStream>>) -> (Option<String>, Option<String>) {
    (None, None)
}
