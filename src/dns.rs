//! DNS for `account add`: the RFC 6186 / RFC 8314 SRV records that name a domain's mail
//! servers, through hickory's resolver. It asks the system's name servers, or the one
//! `--dns-server` names (a private setup's); the autoconfig lookups then go through
//! it too, so that one option decides where every name is asked.

use std::net::SocketAddr;
use std::sync::Arc;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;

use crate::config::Security;
use crate::config::discovered::{Discovered, Found};

/// A resolver: the system's, or one name server's.
#[derive(Clone)]
pub struct Dns {
    resolver: TokioResolver,
}

impl Dns {
    pub fn new(server: Option<SocketAddr>) -> Result<Dns, String> {
        let builder = match server {
            None => TokioResolver::builder_tokio().map_err(|e| e.to_string())?,
            Some(addr) => {
                let mut udp = ConnectionConfig::udp();
                udp.port = addr.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = addr.port();
                let server = NameServerConfig::new(addr.ip(), true, vec![udp, tcp]);
                let config = ResolverConfig::from_name_servers(vec![server]);
                TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
            }
        };
        let resolver = builder.build().map_err(|e| e.to_string())?;
        Ok(Dns { resolver })
    }

    /// The best target of an SRV name (lowest priority, then highest weight); None when
    /// there is none, or it says "no such service" (a target of ".").
    pub async fn srv(&self, name: &str) -> Option<(String, u16)> {
        let lookup = self.resolver.srv_lookup(name).await.ok()?;
        let mut targets: Vec<(u16, u16, String, u16)> = lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::SRV(srv) => Some((
                    srv.priority,
                    srv.weight,
                    srv.target.to_utf8().trim_end_matches('.').to_string(),
                    srv.port,
                )),
                _ => None,
            })
            .collect();
        targets.sort_by_key(|(priority, weight, _, _)| (*priority, u16::MAX - weight));
        let (_, _, host, port) = targets.into_iter().next()?;
        (!host.is_empty() && port != 0).then_some((host, port))
    }

    /// The domain of `domain`'s preferred MX host (`google.com` for `aspmx.l.google.com`),
    /// when it differs from `domain`: the mail provider, for guessing.
    pub async fn mx_domain(&self, domain: &str) -> Option<String> {
        let lookup = self.resolver.mx_lookup(format!("{domain}.")).await.ok()?;
        let host = lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::MX(mx) => Some((mx.preference, mx.exchange.to_utf8())),
                _ => None,
            })
            .min()?
            .1;
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let labels: Vec<&str> = host.split('.').collect();
        let provider = labels.get(labels.len().saturating_sub(2)..)?.join(".");
        (labels.len() >= 2 && provider != domain).then_some(provider)
    }

    /// The addresses of `host`.
    pub async fn addresses(&self, host: &str) -> Vec<std::net::IpAddr> {
        match self.resolver.lookup_ip(host).await {
            Ok(ips) => ips.iter().collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The servers `domain`'s SRV records name: implicit TLS preferred over STARTTLS
    /// (RFC 8314), plain-text services never taken.
    pub async fn mail_servers(&self, domain: &str) -> Option<Discovered> {
        let pick = async |tls: &str, starttls: &str| {
            if let Some((host, port)) = self.srv(&format!("{tls}._tcp.{domain}.")).await {
                return Some(found(host, port, Security::Tls));
            }
            let (host, port) = self.srv(&format!("{starttls}._tcp.{domain}.")).await?;
            Some(found(host, port, Security::Starttls))
        };
        let found = Discovered {
            imap: pick("_imaps", "_imap").await,
            pop3: pick("_pop3s", "_pop3").await,
            smtp: pick("_submissions", "_submission").await,
            url: format!("DNS SRV records of {domain}"),
        };
        let any = found.imap.is_some() || found.pop3.is_some() || found.smtp.is_some();
        any.then_some(found)
    }
}

fn found(host: String, port: u16, security: Security) -> Found {
    Found {
        host,
        port,
        security,
        user: None,
        oauth2: false,
    }
}

/// reqwest resolves the autoconfig hosts through the same resolver.
impl reqwest::dns::Resolve for Dns {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = self.resolver.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let ips = resolver.lookup_ip(host.as_str()).await?;
            let addrs: Vec<SocketAddr> = ips.iter().map(|ip| SocketAddr::new(ip, 0)).collect();
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Shared between the SRV lookups and reqwest.
pub type Shared = Arc<Dns>;
