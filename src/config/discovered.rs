//! Servers found on the network for a domain without a preset: in its autoconfig file
//! or its SRV records. `account add` treats them as it treats a preset's.

use super::account::Security;

/// One server found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// The login name, when it is not the whole address (`%EMAILLOCALPART%`).
    pub user: Option<String>,
    /// The file says this server takes OAuth2.
    pub oauth2: bool,
}

/// What was found for a domain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovered {
    pub imap: Option<Found>,
    pub pop3: Option<Found>,
    pub smtp: Option<Found>,
    /// Where it came from: the autoconfig file's address, or the DNS records.
    pub url: String,
}
