//! The mailbox a command works in, opened in the same write as the login (RFC 3501
//! 5.5: a client may send the next command without waiting): `LOGIN`, `ID` where the
//! greeting offered it, and `EXAMINE` or `SELECT` leave together, and the mailbox's
//! state is read when the command asks for it. One round trip less for `list`,
//! `fetch`, `read` and `digest`.
//!
//! Only after a greeting that listed the server's capabilities on the connection the
//! login goes over (implicit TLS, or none), and only with LOGIN: an AUTHENTICATE's
//! continuation would take the pipelined lines for its answer.

use async_imap::imap_proto::types::{MailboxDatum, Response, ResponseCode, Status};

use super::error::Error;
use super::operations::{Access, MailboxInfo};
use super::session::Session;
use super::tap::{Seen, Shared};
use super::utf7::encode as encode_mailbox_name;
use crate::mailbox::MailboxName;
use crate::net::{bounded, broken, io_failure};

/// The tag of the pipelined EXAMINE or SELECT; the tap keeps its refusal apart.
const TAG: &str = "E1";

/// A mailbox asked for in the login's write, whose replies are still to be read.
#[derive(Debug)]
pub struct Pending {
    mailbox: MailboxName,
    access: Access,
    /// Whether ID went in the same write.
    pub id_sent: bool,
}

impl Pending {
    /// Has the tap send ID (when `caps` offer it) and the mailbox's EXAMINE or SELECT
    /// right after the login. None where the name cannot go on a command line as a
    /// quoted string.
    pub fn send_after_login(
        seen: &Shared,
        caps: &[String],
        mailbox: &MailboxName,
        access: Access,
    ) -> Option<Pending> {
        let raw = encode_mailbox_name(mailbox.as_str());
        if !raw.bytes().all(|b| (b' '..=b'~').contains(&b)) {
            return None;
        }
        let quoted = raw.replace('\\', "\\\\").replace('"', "\\\"");
        let id_sent = caps.iter().any(|c| c.eq_ignore_ascii_case("ID"));
        let mut lines = String::new();
        if id_sent {
            lines.push_str(&super::session::id_command());
        }
        let verb = match access {
            Access::ReadOnly => "EXAMINE",
            Access::ReadWrite => "SELECT",
        };
        lines.push_str(&format!("{TAG} {verb} \"{quoted}\"\r\n"));
        Seen::follow_next_command(seen, lines.as_bytes());
        Some(Pending {
            mailbox: mailbox.clone(),
            access,
            id_sent,
        })
    }

    /// Whether this is the mailbox, opened as asked.
    pub fn is(&self, mailbox: &MailboxName, access: Access) -> bool {
        self.mailbox == *mailbox && self.access == access
    }
}

impl Session {
    /// Reads the replies to the pipelined EXAMINE or SELECT (passing over ID's), up to
    /// its tagged one: the mailbox's state, or why it did not open.
    pub(super) async fn read_pending(&mut self, pending: &Pending) -> Result<MailboxInfo, Error> {
        let step = match pending.access {
            Access::ReadOnly => "EXAMINE",
            Access::ReadWrite => "SELECT",
        };
        let (addr, t) = (self.addr.clone(), self.timeout);
        let (mut exists, mut uidvalidity, mut uid_next) = (None, None, None);
        loop {
            let response = match bounded(&addr, t, step, self.inner.read_response()).await? {
                Ok(Some(response)) => response,
                Ok(None) => return Err(broken(&addr, step, &"the server closed the connection")),
                Err(e) => return Err(io_failure(&addr, step, &e)),
            };
            match response.parsed() {
                Response::MailboxData(MailboxDatum::Exists(n)) => exists = Some(*n),
                Response::Data {
                    code: Some(ResponseCode::UidValidity(v)),
                    ..
                } => uidvalidity = Some(*v),
                Response::Data {
                    code: Some(ResponseCode::UidNext(n)),
                    ..
                } => uid_next = Some(*n),
                Response::Done {
                    tag,
                    status,
                    information,
                    ..
                } if tag.0 == TAG => {
                    if *status != Status::Ok {
                        let said = information.as_deref().unwrap_or("").to_string();
                        let reply = Seen::take_pipelined_refusal(&self.seen).unwrap_or(said);
                        return Err(self.mailbox_refused(&pending.mailbox, step, reply).await);
                    }
                    break;
                }
                _ => {}
            }
        }
        let missing = |what: &str| Error::Broken {
            addr: addr.clone(),
            step: step.into(),
            reason: format!("the server sent no {what}"),
        };
        let uidvalidity = uidvalidity.ok_or_else(|| missing("UIDVALIDITY"))?;
        let exists = exists.ok_or_else(|| missing("EXISTS"))?;
        tracing::info!("opened {} with {step}: {exists} messages", pending.mailbox);
        Ok(MailboxInfo {
            uidvalidity,
            exists,
            uid_next,
        })
    }
}
