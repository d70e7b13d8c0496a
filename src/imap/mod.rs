//! IMAP: connect (implicit TLS or STARTTLS), log in, and the few commands mailer needs,
//! each bounded by the server's timeout and mapped to an error that names its step.
//!
//! async-imap does the wire work; this module hides its types behind plain ones so that
//! commands never see protocol bytes.

mod utf7;

use std::time::Duration;

use async_imap::types::Fetch;
use futures::{Stream, StreamExt, TryStreamExt};

use crate::config::{Password, Security, Server};

pub use utf7::{decode as decode_mailbox_name, encode as encode_mailbox_name};

use crate::net::{self, Conn, bounded, broken};

/// A failed IMAP step.
pub type Error = net::SessionError;

/// The state of a selected mailbox.
#[derive(Debug, Clone, Copy)]
pub struct MailboxInfo {
    pub uidvalidity: u32,
    pub exists: u32,
    pub uid_next: Option<u32>,
}

/// A mailbox as LIST shows it.
#[derive(Debug, Clone)]
pub struct MailboxName {
    /// The name as the server spells it (modified UTF-7), for commands.
    pub raw: String,
    /// The name decoded for people.
    pub name: String,
    pub delimiter: Option<char>,
    /// `\Noselect` and `\NonExistent` mailboxes hold no messages.
    pub selectable: bool,
}

/// A fetched message as the server sent it.
#[derive(Debug)]
pub struct Fetched(Fetch);

impl Fetched {
    pub fn uid(&self) -> Option<u32> {
        self.0.uid
    }
    /// RFC822.SIZE: the size with CRLF line ends.
    pub fn size(&self) -> Option<u32> {
        self.0.size
    }
    pub fn body(&self) -> Option<&[u8]> {
        self.0.body()
    }
    pub fn header(&self) -> Option<&[u8]> {
        self.0.header()
    }
    /// Flags as IMAP spells them (`\Seen`, `$Label`), without `\Recent`.
    pub fn flags(&self) -> Vec<String> {
        use async_imap::types::Flag;
        self.0
            .flags()
            .filter_map(|f| match f {
                Flag::Seen => Some("\\Seen".to_string()),
                Flag::Answered => Some("\\Answered".to_string()),
                Flag::Flagged => Some("\\Flagged".to_string()),
                Flag::Deleted => Some("\\Deleted".to_string()),
                Flag::Draft => Some("\\Draft".to_string()),
                Flag::Recent => None,
                Flag::MayCreate => None,
                Flag::Custom(c) => Some(c.to_string()),
            })
            .collect()
    }
    /// Attachments as BODYSTRUCTURE describes them (sizes are estimates of the decoded size).
    pub fn attachments(&self) -> Vec<crate::message::parse::AttachmentInfo> {
        let mut out = Vec::new();
        if let Some(bs) = self.0.bodystructure() {
            collect_attachments(bs, &mut out);
        }
        out
    }
}

fn collect_attachments(
    bs: &async_imap::imap_proto::types::BodyStructure<'_>,
    out: &mut Vec<crate::message::parse::AttachmentInfo>,
) {
    use async_imap::imap_proto::types::{BodyStructure, ContentEncoding};
    let (common, other) = match bs {
        BodyStructure::Multipart { bodies, .. } => {
            for b in bodies {
                collect_attachments(b, out);
            }
            return;
        }
        BodyStructure::Basic { common, other, .. }
        | BodyStructure::Text { common, other, .. }
        | BodyStructure::Message { common, other, .. } => (common, other),
    };
    let param = |params: &Option<Vec<(std::borrow::Cow<'_, str>, std::borrow::Cow<'_, str>)>>,
                 key: &str| {
        params
            .iter()
            .flatten()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.to_string())
    };
    let disposition = common.disposition.as_ref();
    let is_attachment = disposition.is_some_and(|d| d.ty.eq_ignore_ascii_case("attachment"));
    let filename = disposition
        .and_then(|d| param(&d.params, "filename"))
        .or_else(|| param(&common.ty.params, "name"))
        .map(|n| crate::message::parse::decode_header_text(&n));
    // The same rule as message::parse::summary, so list and fetch agree.
    let is_message = matches!(bs, BodyStructure::Message { .. });
    let is_text = matches!(bs, BodyStructure::Text { .. });
    if !(is_attachment || is_message || (filename.is_some() && !is_text)) {
        return;
    }
    let octets = other.octets as usize;
    let size = match other.transfer_encoding {
        // Base64 lines carry 57 bytes in 76 characters plus CRLF.
        ContentEncoding::Base64 => octets * 57 / 78,
        _ => octets,
    };
    out.push(crate::message::parse::AttachmentInfo {
        filename,
        content_type: format!("{}/{}", common.ty.ty, common.ty.subtype).to_ascii_lowercase(),
        size,
    });
}

/// A logged-in IMAP session.
pub struct Session {
    inner: async_imap::Session<Conn>,
    addr: String,
    timeout: Duration,
}

impl Session {
    /// Connects, secures, logs in, and identifies itself when the server supports ID
    /// (some providers, 163.com among them, refuse SELECT without it).
    pub async fn open(
        server: &Server,
        password: impl FnOnce() -> Result<Option<Password>, String>,
    ) -> Result<Session, Error> {
        let addr = server.address();
        let timeout = server.timeout;
        let step = |s: &str| s.to_string();

        let tcp = net::connect(server).await?;

        let mut client = match server.security {
            Security::Tls => {
                let tls =
                    bounded(&addr, timeout, "TLS handshake", net::tls_wrap(server, tcp)).await??;
                async_imap::Client::new(Box::new(tls) as Conn)
            }
            _ => async_imap::Client::new(Box::new(tcp) as Conn),
        };
        match bounded(&addr, timeout, "greeting", client.read_response()).await? {
            Ok(Some(_)) => tracing::debug!("greeting received"),
            Ok(None) => {
                return Err(Error::Broken {
                    addr,
                    step: step("greeting"),
                    reason: "the server closed the connection".into(),
                });
            }
            Err(e) => return Err(broken(&addr, "greeting", &e)),
        }
        if server.security == Security::Starttls {
            bounded(
                &addr,
                timeout,
                "STARTTLS",
                client.run_command_and_check_ok("STARTTLS", None),
            )
            .await?
            .map_err(|e| imap_error(&addr, "STARTTLS", e))?;
            let stream = client.into_inner();
            let tls = bounded(
                &addr,
                timeout,
                "TLS handshake",
                net::tls_wrap(server, stream),
            )
            .await??;
            client = async_imap::Client::new(Box::new(tls) as Conn);
        }

        let encrypted = server.security != Security::None;
        if !encrypted && !server.allow_insecure_auth {
            return Err(Error::InsecureAuth { addr });
        }
        let password = password()
            .map_err(Error::Password)?
            .ok_or_else(|| Error::NoPassword(addr.clone()))?;
        let login = client.login(&server.user, password.expose());
        let mut inner = match tokio::time::timeout(timeout, login).await {
            Err(_) => {
                return Err(Error::Timeout {
                    addr,
                    step: step("LOGIN"),
                    secs: timeout.as_secs(),
                });
            }
            Ok(Err((async_imap::error::Error::No(reply), _))) => {
                return Err(Error::AuthRefused {
                    addr,
                    user: server.user.clone(),
                    reply: server_text(&reply),
                });
            }
            Ok(Err((e, _))) => return Err(imap_error(&addr, "LOGIN", e)),
            Ok(Ok(s)) => s,
        };

        tracing::debug!("logged in as {}", server.user);
        let caps = bounded(&addr, timeout, "CAPABILITY", inner.capabilities())
            .await?
            .map_err(|e| imap_error(&addr, "CAPABILITY", e))?;
        if caps.has_str("ID") {
            let id = [
                ("name", Some("mailer")),
                ("version", Some(env!("CARGO_PKG_VERSION"))),
            ];
            bounded(&addr, timeout, "ID", inner.id(id))
                .await?
                .map_err(|e| imap_error(&addr, "ID", e))?;
        }
        tracing::debug!("session ready");
        Ok(Session {
            inner,
            addr,
            timeout,
        })
    }

    /// Opens `mailbox` (a name for people; encoded here). `read_only` uses EXAMINE, which
    /// guarantees nothing on the server changes.
    pub async fn select(&mut self, mailbox: &str, read_only: bool) -> Result<MailboxInfo, Error> {
        let raw = encode_mailbox_name(mailbox);
        let (addr, t) = (self.addr.clone(), self.timeout);
        let result = if read_only {
            bounded(&addr, t, "EXAMINE", self.inner.examine(&raw)).await?
        } else {
            bounded(&addr, t, "SELECT", self.inner.select(&raw)).await?
        };
        let mb = result.map_err(|e| match e {
            async_imap::error::Error::No(reply) => Error::NoMailbox {
                addr: addr.clone(),
                mailbox: mailbox.to_string(),
                reply: server_text(&reply),
            },
            e => imap_error(&addr, "SELECT", e),
        })?;
        let uidvalidity = mb.uid_validity.ok_or_else(|| Error::Broken {
            addr: addr.clone(),
            step: "SELECT".into(),
            reason: "the server sent no UIDVALIDITY".into(),
        })?;
        Ok(MailboxInfo {
            uidvalidity,
            exists: mb.exists,
            uid_next: mb.uid_next,
        })
    }

    /// UIDs matching a SEARCH query, ascending.
    pub async fn search(&mut self, query: &str) -> Result<Vec<u32>, Error> {
        let (addr, t) = (self.addr.clone(), self.timeout);
        let set = bounded(&addr, t, "UID SEARCH", self.inner.uid_search(query))
            .await?
            .map_err(|e| imap_error(&addr, "UID SEARCH", e))?;
        let mut uids: Vec<u32> = set.into_iter().collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// Streams `UID FETCH uids items`, one response at a time. A stalled server is caught
    /// by the connection's idle timeout, however long a single message takes to arrive.
    pub async fn fetch<'a>(
        &'a mut self,
        uids: &str,
        items: &str,
    ) -> Result<impl Stream<Item = Result<Fetched, Error>> + 'a, Error> {
        let (addr, t) = (self.addr.clone(), self.timeout);
        let stream = bounded(&addr, t, "UID FETCH", self.inner.uid_fetch(uids, items))
            .await?
            .map_err(|e| imap_error(&addr, "UID FETCH", e))?;
        Ok(stream.map(move |item| match item {
            Ok(f) => Ok(Fetched(f)),
            Err(e) => Err(imap_error(&addr, "UID FETCH", e)),
        }))
    }

    /// Fetches everything at once (small result sets: list, read).
    pub async fn fetch_all(&mut self, uids: &str, items: &str) -> Result<Vec<Fetched>, Error> {
        let stream = self.fetch(uids, items).await?;
        stream.try_collect().await
    }

    /// Fetches by sequence numbers (`FETCH 981:* ...`): the newest messages without
    /// knowing their UIDs, in one round trip.
    pub async fn fetch_by_position(
        &mut self,
        sequence_set: &str,
        items: &str,
    ) -> Result<Vec<Fetched>, Error> {
        let (addr, t) = (self.addr.clone(), self.timeout);
        let stream = bounded(&addr, t, "FETCH", self.inner.fetch(sequence_set, items))
            .await?
            .map_err(|e| imap_error(&addr, "FETCH", e))?;
        let all: Vec<Fetch> = bounded(&addr, t, "FETCH", stream.try_collect())
            .await?
            .map_err(|e| imap_error(&addr, "FETCH", e))?;
        Ok(all.into_iter().map(Fetched).collect())
    }

    /// Adds flags to messages (`+FLAGS.SILENT`).
    pub async fn add_flags(&mut self, uids: &str, flags: &str) -> Result<(), Error> {
        let (addr, t) = (self.addr.clone(), self.timeout);
        let query = format!("+FLAGS.SILENT ({flags})");
        let stream = bounded(&addr, t, "UID STORE", self.inner.uid_store(uids, &query))
            .await?
            .map_err(|e| imap_error(&addr, "UID STORE", e))?;
        let _: Vec<Fetch> = bounded(&addr, t, "UID STORE", stream.try_collect())
            .await?
            .map_err(|e| imap_error(&addr, "UID STORE", e))?;
        Ok(())
    }

    /// Every mailbox of the account.
    pub async fn list(&mut self) -> Result<Vec<MailboxName>, Error> {
        let names = self.list_names("*").await?;
        Ok(names
            .iter()
            .map(|n| {
                use async_imap::types::NameAttribute;
                let selectable = !n
                    .attributes()
                    .iter()
                    .any(|a| matches!(a, NameAttribute::NoSelect));
                MailboxName {
                    raw: n.name().to_string(),
                    name: decode_mailbox_name(n.name()),
                    delimiter: n.delimiter().and_then(|d| d.chars().next()),
                    selectable,
                }
            })
            .collect())
    }

    /// `LIST "" pattern`.
    async fn list_names(&mut self, pattern: &str) -> Result<Vec<async_imap::types::Name>, Error> {
        let (addr, t) = (self.addr.clone(), self.timeout);
        let stream = bounded(&addr, t, "LIST", self.inner.list(Some(""), Some(pattern)))
            .await?
            .map_err(|e| imap_error(&addr, "LIST", e))?;
        bounded(&addr, t, "LIST", stream.try_collect())
            .await?
            .map_err(|e| imap_error(&addr, "LIST", e))
    }

    /// MESSAGES and UNSEEN of a mailbox, by its raw name.
    pub async fn status(&mut self, raw: &str) -> Result<(u32, u32), Error> {
        let (addr, t) = (self.addr.clone(), self.timeout);
        let mb = bounded(
            &addr,
            t,
            "STATUS",
            self.inner.status(raw, "(MESSAGES UNSEEN)"),
        )
        .await?
        .map_err(|e| imap_error(&addr, "STATUS", e))?;
        Ok((mb.exists, mb.unseen.unwrap_or(0)))
    }

    /// The hierarchy delimiter of the account's mailboxes (`LIST "" ""`).
    pub async fn delimiter(&mut self) -> Result<Option<char>, Error> {
        let names = self.list_names("\"\"").await?;
        Ok(names
            .first()
            .and_then(|n| n.delimiter())
            .and_then(|d| d.chars().next()))
    }

    /// Logs out; nothing can be lost at this point, so failures are ignored.
    pub async fn logout(mut self) {
        let _ = tokio::time::timeout(self.timeout, self.inner.logout()).await;
    }
}

/// A compact UID set (`1:5,7,9:12`) for sorted `uids`.
pub fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end + 1 {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// The server's own words from async-imap's NO/BAD text, which is a debug rendering
/// (`code: Some(..), info: Some("...")`) of the status response.
fn server_text(raw: &str) -> String {
    let info = raw
        .split_once("info: Some(\"")
        .and_then(|(_, rest)| rest.rsplit_once("\")"))
        .map(|(text, _)| text.replace("\\\"", "\""));
    let code = raw
        .split_once("code: Some(")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(c, _)| c.trim());
    let text = match (code, info) {
        (Some(c), Some(i)) if !i.starts_with('[') => format!("[{}] {i}", c.to_uppercase()),
        (_, Some(i)) => i,
        (_, None) => raw.to_string(),
    };
    crate::error::one_line(&text)
}

fn imap_error(addr: &str, step: &str, e: async_imap::error::Error) -> Error {
    use async_imap::error::Error as E;
    match e {
        E::No(reply) | E::Bad(reply) => Error::Refused {
            addr: addr.to_string(),
            step: step.to_string(),
            reply: server_text(&reply),
        },
        E::ConnectionLost => broken(addr, step, &"the server closed the connection"),
        E::Io(e) => broken(addr, step, &e),
        e => broken(addr, step, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_is_the_servers_words() {
        assert_eq!(
            server_text(
                "code: None, info: Some(\"[AUTHENTICATIONFAILED] Authentication failed.\")"
            ),
            "[AUTHENTICATIONFAILED] Authentication failed."
        );
        assert_eq!(server_text("plain words"), "plain words");
    }

    #[test]
    fn uid_sets_are_compact() {
        assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(uid_set(&[4]), "4");
        assert_eq!(uid_set(&[]), "");
    }
}
