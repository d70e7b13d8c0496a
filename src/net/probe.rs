//! The TLS handshake of `mailer check`, done so that it can say what was agreed: the
//! protocol version and the cipher, which native-tls does not expose. Where native-tls
//! runs on OpenSSL, the handshake is OpenSSL's own, verified as native-tls verifies (the
//! system's roots plus `ca_file`, the host name checked); elsewhere it is native-tls's,
//! without those two details.

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

#[cfg(not(any(target_os = "macos", target_os = "windows")))]
pub async fn handshake(server: &Server, tcp: Idle<TcpStream>) -> Result<Handshake, Error> {
    use std::pin::Pin;
    let peer = tcp.get_ref().peer_addr().map_err(|e| Error::Connect {
        addr: server.address(),
        reason: e.to_string(),
        temporary: true,
    })?;
    let failed = |text: String| super::tls_error(server.address(), &text);
    let mut builder = openssl::ssl::SslConnector::builder(openssl::ssl::SslMethod::tls_client())
        .map_err(|e| failed(e.to_string()))?;
    if let Some(path) = &server.ca_file {
        let pem = super::ca_pem(path)?;
        let cert = openssl::x509::X509::from_pem(&pem).map_err(|e| Error::CaFile {
            path: path.display().to_string(),
            reason: format!("not a PEM certificate ({e})"),
        })?;
        builder
            .cert_store_mut()
            .add_cert(cert)
            .map_err(|e| failed(e.to_string()))?;
    }
    let ssl = builder
        .build()
        .configure()
        .and_then(|c| c.into_ssl(&server.host))
        .map_err(|e| failed(e.to_string()))?;
    let cork = super::Cork::of(tcp.get_ref());
    let mut stream = tokio_openssl::SslStream::new(ssl, tcp).map_err(|e| failed(e.to_string()))?;
    if let Err(e) = Pin::new(&mut stream).connect().await {
        let verify = stream.ssl().verify_result();
        let text = match verify.as_raw() {
            0 => e.to_string(),
            _ => format!("certificate verify failed: {}", verify.error_string()),
        };
        return Err(failed(text));
    }
    let ssl = stream.ssl();
    Ok(Handshake {
        version: Some(ssl.version_str().to_string()),
        cipher: ssl.current_cipher().map(|c| c.name().to_string()),
        certificate: ssl.peer_certificate().and_then(|c| c.to_der().ok()),
        opened: Opened::Secured(Box::new(stream), peer, cork),
    })
}

#[cfg(any(target_os = "macos", target_os = "windows"))]
pub async fn handshake(server: &Server, tcp: Idle<TcpStream>) -> Result<Handshake, Error> {
    let tls = super::tls_wrap(server, tcp).await?;
    let certificate = tls
        .peer_certificate()
        .ok()
        .flatten()
        .and_then(|c| c.to_der().ok());
    Ok(Handshake {
        version: None,
        cipher: None,
        certificate,
        opened: Opened::Tls(tls),
    })
}
