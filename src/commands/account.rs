//! `mailer account add`: from an address to an account in the config file. The servers
//! come from a built-in preset (by the address's domain, or `--preset`) or from the
//! command line, and the report says where each one came from.

use std::path::Path;

use crate::config::edit::{self, NewAccount, NewSecret, NewServer};
use crate::config::presets::{self, Endpoint, Login, Preset};
use crate::config::{Protocol, Provider, Security};
use crate::error::{Exit, Failure};

/// What the user asked for; every field but the address may be left out.
#[derive(Debug, Default)]
pub struct AddRequest {
    pub email: String,
    pub account: Option<String>,
    pub name: Option<String>,
    pub preset: Option<String>,
    pub pop3: bool,
    pub secret: Option<NewSecret>,
    pub maildir: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub security: Option<Security>,
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    pub smtp_security: Option<Security>,
    pub ca_file: Option<String>,
    /// What the domain's autoconfig file said, when it was looked up.
    pub discovered: Option<crate::autoconfig::Discovered>,
    /// Where it was looked for in vain.
    pub looked_up: Vec<String>,
}

/// The account written, and what the user should know about it.
#[derive(Debug)]
pub struct Added {
    pub account: NewAccount,
    /// Where each server came from: (section, "host:port security", source).
    pub servers: Vec<(&'static str, String, String)>,
    /// What to do before the first login.
    pub hints: Vec<String>,
}

fn usage(message: String) -> Failure {
    Failure::new(Exit::Usage, message)
}

/// Works out the account, without touching any file.
pub fn plan(request: &AddRequest) -> Result<Added, Failure> {
    let email = request.email.trim();
    let address: lettre::Address = email.parse().map_err(|_| {
        usage(format!(
            "{email:?} is not an email address (like alice@example.org)"
        ))
    })?;
    let domain = address.domain().to_ascii_lowercase();
    let preset = match &request.preset {
        Some(id) => Some(presets::by_id(id).ok_or_else(|| {
            let ids: Vec<&str> = presets::PRESETS.iter().map(|p| p.id).collect();
            usage(format!(
                "no preset {id:?}; the presets are: {}",
                ids.join(", ")
            ))
        })?),
        None => presets::for_domain(&domain),
    };
    let name = request
        .account
        .clone()
        .unwrap_or_else(|| default_name(&domain));
    let protocol = if request.pop3 {
        Protocol::Pop3
    } else {
        Protocol::Imap
    };
    let (retrieval, from_r) = server(request, preset, protocol, &domain)?;
    let (smtp, from_s) = server(request, preset, Protocol::Smtp, &domain)?;
    let (secret, hints) = secret_and_hints(request, preset, &name);
    check_login(&secret, &domain)?;
    let source = match (preset, &request.discovered) {
        (Some(p), _) => format!("servers from mailer's preset for {}", p.name),
        (None, Some(d)) => format!("servers from {}", d.url),
        (None, None) => "servers given on the command line".to_string(),
    };
    let account = NewAccount {
        maildir: request
            .maildir
            .clone()
            .unwrap_or_else(|| format!("~/Mail/{name}")),
        name,
        email: address.to_string(),
        display_name: request.name.clone().filter(|n| !n.trim().is_empty()),
        secret,
        retrieval: (protocol, retrieval.clone()),
        smtp: smtp.clone(),
        sasl_ir: preset.is_none_or(|p| p.sasl_ir),
        user: discovered_user(request, protocol),
        source,
    };
    let shown = |s: &NewServer| format!("{}:{} {}", s.host, s.port, s.security);
    Ok(Added {
        servers: vec![
            (protocol.key(), shown(&retrieval), from_r),
            ("smtp", shown(&smtp), from_s),
        ],
        account,
        hints,
    })
}

/// An OAuth2 login that cannot work as asked: Google's without its secret, or one with
/// neither a preset nor a client id.
fn check_login(secret: &NewSecret, domain: &str) -> Result<(), Failure> {
    match secret {
        NewSecret::Login {
            provider: Some(Provider::Google),
            client_id: Some(_),
            client_secret_command: None,
            ..
        } => {
            return Err(usage(
                "Google's OAuth2 clients have a secret: give --client-secret-command too".into(),
            ));
        }
        // Without a preset, the endpoints are not known: only the client id can say.
        NewSecret::Login {
            provider: None,
            client_id: None,
            ..
        } => {
            return Err(usage(format!(
                "mailer has no OAuth2 preset for {domain}: give --client-id with --auth-url and --token-url (docs/oauth2.md), or --token-command"
            )));
        }
        _ => {}
    }
    Ok(())
}

/// How the account logs in, and what the user must do first.
fn secret_and_hints(
    request: &AddRequest,
    preset: Option<&Preset>,
    name: &str,
) -> (NewSecret, Vec<String>) {
    let mut hints = Vec::new();
    let secret = match (&request.secret, preset.map(|p| p.login)) {
        // A client id on the command line, for a provider mailer has a preset for.
        (
            Some(NewSecret::Login {
                provider: None,
                client_id,
                client_secret_command,
                endpoints: None,
            }),
            Some(Login::OAuth2(provider)),
        ) => NewSecret::Login {
            provider: Some(provider),
            client_id: client_id.clone(),
            client_secret_command: client_secret_command.clone(),
            endpoints: None,
        },
        (Some(s), _) => s.clone(),
        (None, Some(Login::OAuth2(provider))) => NewSecret::Login {
            provider: Some(provider),
            client_id: None,
            client_secret_command: None,
            endpoints: None,
        },
        (None, _) => {
            hints.push(format!(
                "store the password in the OS keyring: mailer auth set-password -a {name}"
            ));
            NewSecret::Keyring
        }
    };
    if let Some(p) = preset.filter(|p| !p.hint.is_empty()) {
        let hint = p.hint.replace("accounts.NAME", &format!("accounts.{name}"));
        hints.insert(0, format!("{}: {}", p.name, hint));
    }
    if request.discovered.as_ref().is_some_and(|d| {
        [&d.imap, &d.pop3, &d.smtp]
            .iter()
            .any(|f| f.as_ref().is_some_and(|f| f.oauth2))
    }) && request.secret.is_none()
    {
        hints.push("the provider takes OAuth2: for mailer's own sign-in, add client_id and the endpoints in [oauth2] (docs/oauth2.md)".into());
    }
    (secret, hints)
}

/// A server as a preset or the domain's autoconfig file gives it, and where from.
struct Base {
    host: String,
    port: u16,
    security: Security,
    source: String,
}

/// The preset's or the autoconfig file's server for `protocol`.
fn base(r: &AddRequest, preset: Option<&Preset>, protocol: Protocol) -> Option<Base> {
    if let Some(p) = preset {
        let e: Endpoint = match protocol {
            Protocol::Smtp => Some(p.smtp),
            Protocol::Imap => p.imap,
            Protocol::Pop3 => p.pop3,
        }?;
        let source = format!("preset {}", p.name);
        return Some(Base {
            host: e.host.to_string(),
            port: e.port,
            security: e.security,
            source,
        });
    }
    let d = r.discovered.as_ref()?;
    let f = match protocol {
        Protocol::Smtp => d.smtp.as_ref(),
        Protocol::Imap => d.imap.as_ref(),
        Protocol::Pop3 => d.pop3.as_ref(),
    }?;
    Some(Base {
        host: f.host.clone(),
        port: f.port,
        security: f.security,
        source: match d.url.starts_with("https://") {
            true => format!("autoconfig {}", d.url),
            false => d.url.clone(),
        },
    })
}

/// One server: the preset's (or the autoconfig file's), with what the command line
/// overrides.
fn server(
    r: &AddRequest,
    preset: Option<&Preset>,
    protocol: Protocol,
    domain: &str,
) -> Result<(NewServer, String), Failure> {
    let (host, port, security) = match protocol {
        Protocol::Smtp => (&r.smtp_host, r.smtp_port, r.smtp_security),
        _ => (&r.host, r.port, r.security),
    };
    let flag = match protocol {
        Protocol::Smtp => "--smtp-host",
        _ => "--host",
    };
    let base = base(r, preset, protocol);
    let mut source = match (host, &base) {
        (Some(h), _) => format!("{flag} {h}"),
        (None, Some(b)) => b.source.clone(),
        (None, None) => return Err(no_server(r, preset, protocol, domain, flag)),
    };
    let base = base.filter(|_| host.is_none());
    let security = security
        .or(base.as_ref().map(|b| b.security))
        .unwrap_or(Security::Tls);
    let port = match (port, &base) {
        (Some(p), _) => {
            source += &format!(", port {p} from the command line");
            p
        }
        (None, Some(b)) if b.security == security => b.port,
        _ => protocol.default_port(security),
    };
    let host = host.clone().or(base.map(|b| b.host)).unwrap_or_default();
    let needs_ca = preset.is_some_and(|p| p.needs_ca_file);
    let ca_file = r
        .ca_file
        .clone()
        .or(needs_ca.then(|| "~/.config/mailer/proton-bridge.pem".to_string()));
    Ok((
        NewServer {
            host,
            port,
            security,
            ca_file,
        },
        source,
    ))
}

fn no_server(
    r: &AddRequest,
    preset: Option<&Preset>,
    protocol: Protocol,
    domain: &str,
    flag: &str,
) -> Failure {
    let key = protocol.key();
    if let Some(p) = preset {
        return usage(format!(
            "{} has no {key} server: leave out --{key}, or give {flag}",
            p.name
        ));
    }
    let looked = match (&r.discovered, r.looked_up.is_empty()) {
        (Some(d), _) => format!("; {} names no {key} server", d.url),
        (None, false) => format!("; looked up: {}", r.looked_up.join("; ")),
        (None, true) => String::new(),
    };
    usage(format!(
        "mailer has no preset for {domain}{looked}: give the servers with --host and --smtp-host (and --port, --security as needed), or a preset with --preset"
    ))
}

/// The login name the autoconfig file gives, when it is not the whole address.
fn discovered_user(request: &AddRequest, protocol: Protocol) -> Option<String> {
    let d = request.discovered.as_ref()?;
    let f = match protocol {
        Protocol::Pop3 => d.pop3.as_ref(),
        _ => d.imap.as_ref(),
    };
    f.and_then(|f| f.user.clone())
}

/// An account name from the domain: `gmail` for gmail.com.
fn default_name(domain: &str) -> String {
    let label = domain.split('.').next().unwrap_or("mail");
    let clean: String = label
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    if clean.is_empty() {
        "mail".into()
    } else {
        clean
    }
}

/// Writes the planned account into the config file at `path`.
pub fn write(path: &Path, added: &Added, force: bool, default: bool) -> Result<(), Failure> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::store::create_private_dir(dir)
            .map_err(|e| Failure::io(format!("creating {}", dir.display()), e))?;
    }
    edit::add_account(path, &added.account, force, default).map_err(|e| {
        let exit = match e {
            edit::EditError::Exists { .. } => Exit::CantCreat,
            edit::EditError::Unreadable { .. } => Exit::Config,
            edit::EditError::Write { .. } => Exit::Io,
        };
        Failure::with_cause(exit, e)
    })
}
