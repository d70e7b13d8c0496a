//! Reading the replies to what went in the login's write (see `ahead`): the mailbox's
//! state, and the envelopes fetched with it.

use async_imap::imap_proto::types::{MailboxDatum, Response, ResponseCode, Status};

use super::ahead::{FETCH_TAG, Pending, TAG};
use super::error::Error;
use super::fetched::Fetched;
use super::mailbox_state::{Access, MailboxInfo};
use super::session::Session;
use super::tap::Seen;
use crate::net::{bounded, broken, io_failure};

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
        self.speculated = pending.newest_from.map(|from| from.max(1));
        Ok(MailboxInfo {
            uidvalidity,
            exists,
            uid_next,
        })
    }
}

impl Session {
    /// The newest envelopes from the FETCH pipelined with the login, which started at
    /// `from`: those the mailbox's real count calls for (`count` of `exists`, after
    /// the newest `skip`). When the mailbox shrank since, so that some of them come
    /// before `from`, they are fetched again the ordinary way.
    pub(super) async fn speculated_envelopes(
        &mut self,
        from: u32,
        count: u32,
        exists: u32,
        skip: u32,
    ) -> Result<Vec<Fetched>, Error> {
        let last = exists.saturating_sub(skip);
        let first = last.saturating_sub(count.saturating_sub(1)).max(1);
        let (addr, t) = (self.addr.clone(), self.timeout);
        let mut kept = Vec::new();
        let mut missed = false;
        loop {
            let response = match bounded(&addr, t, "FETCH", self.inner.read_response()).await? {
                Ok(Some(response)) => response,
                Ok(None) => {
                    return Err(broken(&addr, "FETCH", &"the server closed the connection"));
                }
                Err(e) => return Err(io_failure(&addr, "FETCH", &e)),
            };
            match response.parsed() {
                Response::Fetch(n, _) if (first..=last).contains(n) => {
                    kept.extend(Fetched::from_response(response.parsed()));
                }
                Response::Done {
                    tag,
                    status,
                    information,
                    ..
                } if tag.0 == FETCH_TAG => {
                    if *status != Status::Ok {
                        // Past the end of a mailbox that shrank (Dovecot refuses `7:*`
                        // with 3 messages): the guess failed, not the session.
                        let said = information.as_deref().unwrap_or("");
                        tracing::debug!("the FETCH sent with the login was refused: {said}");
                        missed = true;
                    }
                    break;
                }
                _ => {}
            }
        }
        if last == 0 || count == 0 {
            return Ok(Vec::new());
        }
        if from > first || missed {
            tracing::debug!("the mailbox shrank since the last list: fetching {first}:{last}");
            return self.envelopes_between(first, last, skip).await;
        }
        Ok(kept)
    }
}
