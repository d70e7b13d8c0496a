//! The last way `account add` finds a domain's servers: the names providers use
//! (`imap.`, `smtp.`, `mail.` of the domain, and of its MX host's domain), each kept only
//! when a connection to its implicit-TLS port and a verified TLS handshake succeed.

use std::time::Duration;

use tokio::net::TcpStream;

use crate::config::Security;
use crate::config::discovered::{Discovered, Found};
use crate::dns::Dns;

/// The guesses that answered, or None when none did.
pub async fn guess(
    dns: &Dns,
    domain: &str,
    ca_file: Option<&std::path::Path>,
    timeout: Duration,
) -> Option<Discovered> {
    let mut domains = vec![domain.to_string()];
    if let Some(provider) = dns.mx_domain(domain).await {
        domains.push(provider);
    }
    let first = async |prefixes: &[&str], port: u16| {
        for d in &domains {
            for prefix in prefixes {
                let host = format!("{prefix}.{d}");
                if answers(dns, &host, port, ca_file, timeout).await {
                    return Some(Found {
                        host,
                        port,
                        security: Security::Tls,
                        user: None,
                        oauth2: false,
                    });
                }
            }
        }
        None
    };
    let found = Discovered {
        imap: first(&["imap", "mail"], 993).await,
        pop3: None,
        smtp: first(&["smtp", "mail"], 465).await,
        url: format!(
            "a guess, checked with a TLS handshake (domains: {})",
            domains.join(", ")
        ),
    };
    (found.imap.is_some() || found.smtp.is_some()).then_some(found)
}

/// Whether `host:port` takes a connection and a TLS handshake verified for `host`.
async fn answers(
    dns: &Dns,
    host: &str,
    port: u16,
    ca_file: Option<&std::path::Path>,
    timeout: Duration,
) -> bool {
    let mut connector = async_native_tls::TlsConnector::new();
    if let Some(path) = ca_file {
        let Ok(pem) = std::fs::read(path) else {
            return false;
        };
        let Ok(cert) = async_native_tls::Certificate::from_pem(&pem) else {
            return false;
        };
        connector = connector.add_root_certificate(cert);
    }
    for ip in dns.addresses(host).await {
        let attempt = async {
            let tcp = TcpStream::connect((ip, port)).await.ok()?;
            connector.connect(host, tcp).await.ok()
        };
        if let Ok(Some(_)) = tokio::time::timeout(timeout, attempt).await {
            tracing::debug!("guess {host}:{port} answered with TLS");
            return true;
        }
    }
    false
}
