//! The servers of a domain without a preset, from its autoconfig file (Thunderbird's
//! `config-v1.1.xml`, RFC-less but what providers publish): the domain's own, then
//! Mozilla's ISPDB. HTTPS only, no redirects followed, answers capped at 1 MiB.

use std::time::Duration;

use quick_xml::events::Event;

use crate::config::Security;

pub use crate::config::discovered::{Discovered, Found};

/// Where to look for `email`'s domain, in order: the domain's autoconfig host, its
/// well-known path, Mozilla's ISPDB.
pub fn urls(email: &str, domain: &str) -> Vec<String> {
    let address: String = oauth2::url::form_urlencoded::byte_serialize(email.as_bytes()).collect();
    vec![
        format!("https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={address}"),
        format!("https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml"),
        format!("https://autoconfig.thunderbird.net/v1.1/{domain}"),
    ]
}

/// The first of `urls` that answers with a file naming servers; what was tried, when
/// none does. `ca_file` is trusted besides the system's roots (a private setup).
pub async fn discover(
    email: &str,
    urls: &[String],
    ca_file: Option<&std::path::Path>,
    dns: Option<crate::dns::Shared>,
    timeout: Duration,
) -> Result<Discovered, Vec<String>> {
    let mut tried = Vec::new();
    let client = match client(ca_file, dns, timeout) {
        Ok(c) => c,
        Err(e) => return Err(vec![e]),
    };
    for url in urls {
        match fetch(&client, url).await {
            Ok(text) => match parse(&text, email) {
                Some(mut found) => {
                    found.url = url.clone();
                    return Ok(found);
                }
                None => tried.push(format!("{url}: names no IMAP, POP3 or SMTP server")),
            },
            Err(why) => tried.push(format!("{url}: {why}")),
        }
    }
    Err(tried)
}

fn client(
    ca_file: Option<&std::path::Path>,
    dns: Option<crate::dns::Shared>,
    timeout: Duration,
) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .https_only(true)
        .timeout(timeout)
        .user_agent(concat!("mailer/", env!("CARGO_PKG_VERSION")));
    if let Some(dns) = dns {
        builder = builder.dns_resolver(dns);
    }
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        let cert = reqwest::Certificate::from_pem(&pem)
            .map_err(|e| format!("{} is not a PEM certificate: {e}", path.display()))?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build().map_err(|e| e.to_string())
}

/// The innermost cause of a request's failure: "Connection refused", "dns error: ...".
fn cause(e: &reqwest::Error) -> String {
    let mut inner: &dyn std::error::Error = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    crate::error::one_line(&inner.to_string())
}

async fn fetch(client: &reqwest::Client, url: &str) -> Result<String, String> {
    let mut response = client.get(url).send().await.map_err(|e| cause(&e))?;
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| crate::error::chain(&e))?
    {
        if body.len() + chunk.len() > 1 << 20 {
            return Err("longer than 1 MiB".into());
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| "not UTF-8".to_string())
}

/// A server element being read.
#[derive(Default)]
struct Element {
    kind: String,
    host: String,
    port: String,
    socket: String,
    user: String,
    auth: Vec<String>,
}

/// The first IMAP, POP3 and SMTP servers of the file that mailer can use (TLS or
/// STARTTLS; never a plain-text one). None when it names none, or is not XML.
pub fn parse(text: &str, email: &str) -> Option<Discovered> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut found = Discovered::default();
    let mut current: Option<Element> = None;
    let mut field = String::new();
    let mut depth = 0usize;
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                depth += 1;
                if depth > 64 {
                    return None;
                }
                let name = e.local_name().as_ref().to_string();
                if name == "incomingServer" || name == "outgoingServer" {
                    let kind = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.local_name().as_ref() == "type")
                        .map(|a| a.value.to_ascii_lowercase());
                    current = Some(Element {
                        kind: kind.unwrap_or_default(),
                        ..Element::default()
                    });
                }
                field = name;
            }
            Event::Text(t) => {
                if let Some(el) = current.as_mut() {
                    let value = t.trim().to_string();
                    match field.as_str() {
                        "hostname" => el.host = value,
                        "port" => el.port = value,
                        "socketType" => el.socket = value,
                        "username" => el.user = value,
                        "authentication" => el.auth.push(value),
                        _ => {}
                    }
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                let name = e.local_name();
                if (name.as_ref() == "incomingServer" || name.as_ref() == "outgoingServer")
                    && let Some(el) = current.take()
                {
                    keep(&mut found, el, email);
                }
                field.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let any = found.imap.is_some() || found.pop3.is_some() || found.smtp.is_some();
    any.then_some(found)
}

/// Records `el` when it is the first usable server of its kind.
fn keep(found: &mut Discovered, el: Element, email: &str) {
    let security = match el.socket.to_ascii_uppercase().as_str() {
        "SSL" | "TLS" => Security::Tls,
        "STARTTLS" => Security::Starttls,
        _ => return,
    };
    let Ok(port) = el.port.parse::<u16>() else {
        return;
    };
    let valid_host = !el.host.is_empty()
        && el.host.len() < 256
        && el
            .host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if !valid_host || port == 0 {
        return;
    }
    let local = email.split('@').next().unwrap_or(email);
    let user = match el.user.as_str() {
        "%EMAILLOCALPART%" => Some(local.to_string()),
        "" | "%EMAILADDRESS%" => None,
        other if other.contains('%') => None,
        other => Some(other.to_string()),
    };
    let oauth2 = el.auth.iter().any(|a| a.eq_ignore_ascii_case("OAuth2"));
    let server = Found {
        host: el.host,
        port,
        security,
        user,
        oauth2,
    };
    let slot = match el.kind.as_str() {
        "imap" => &mut found.imap,
        "pop3" => &mut found.pop3,
        "smtp" => &mut found.smtp,
        _ => return,
    };
    if slot.is_none() {
        *slot = Some(server);
    }
}

#[cfg(test)]
mod tests;
