//! Reading the replies to what went in the login's write (see `ahead`): the mailbox's
//! state, and the envelopes fetched with it.

use async_imap::imap_proto::types::{MailboxDatum, Response, ResponseCode, Status};

use super::ahead::{FETCH_TAG, Pending, SEARCH_TAG, TAG};
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
        let (mut exists, mut uidvalidity, mut uid_next) = (None, None, None);
        let refused = self
            .read_until(step, TAG, |response| match response {
                Response::MailboxData(MailboxDatum::Exists(n)) => exists = Some(*n),
                Response::Data {
                    code: Some(ResponseCode::UidValidity(v)),
                    ..
                } => uidvalidity = Some(*v),
                Response::Data {
                    code: Some(ResponseCode::UidNext(n)),
                    ..
                } => uid_next = Some(*n),
                _ => {}
            })
            .await?;
        if let Some(said) = refused {
            let reply = Seen::take_pipelined_refusal(&self.seen).unwrap_or(said);
            return Err(self.mailbox_refused(&pending.mailbox, step, reply).await);
        }
        let missing = |what: &str| Error::Broken {
            addr: self.addr.clone(),
            step: step.into(),
            reason: format!("the server sent no {what}"),
        };
        let uidvalidity = uidvalidity.ok_or_else(|| missing("UIDVALIDITY"))?;
        let exists = exists.ok_or_else(|| missing("EXISTS"))?;
        tracing::info!("opened {} with {step}: {exists} messages", pending.mailbox);
        self.speculated = pending.newest_from.map(|from| from.max(1));
        self.searched = pending.search.clone();
        Ok(MailboxInfo {
            uidvalidity,
            exists,
            uid_next,
        })
    }

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
        let mut kept = Vec::new();
        let refused = self
            .read_until("FETCH", FETCH_TAG, |response| {
                if let Response::Fetch(n, _) = response
                    && (first..=last).contains(n)
                {
                    kept.extend(Fetched::from_response(response));
                }
            })
            .await?;
        if let Some(said) = &refused {
            // Past the end of a mailbox that shrank (Dovecot refuses `7:*` with 3
            // messages): the guess failed, not the session.
            tracing::debug!("the FETCH sent with the login was refused: {said}");
        }
        if last == 0 || count == 0 {
            return Ok(Vec::new());
        }
        if from > first || refused.is_some() {
            tracing::debug!("the mailbox shrank since the last list: fetching {first}:{last}");
            return self.envelopes_between(first, last, skip).await;
        }
        Ok(kept)
    }

    /// The answer to the UID SEARCH sent with the login: its UIDs, ascending, or the
    /// server's refusal.
    pub(super) async fn searched_uids(&mut self) -> Result<Vec<u32>, Error> {
        let mut uids = Vec::new();
        let refused = self
            .read_until("UID SEARCH", SEARCH_TAG, |response| {
                if let Response::MailboxData(MailboxDatum::Search(found)) = response {
                    uids.extend_from_slice(found);
                }
            })
            .await?;
        if let Some(said) = refused {
            let reply = Seen::take_pipelined_refusal(&self.seen).unwrap_or(said);
            return Err(Error::Refused {
                addr: self.addr.clone(),
                step: "UID SEARCH".into(),
                reply,
            });
        }
        uids.sort_unstable();
        uids.dedup();
        Ok(uids)
    }

    /// Reads responses, each shown to `each`, up to the one tagged `tag`: None when it
    /// is OK, else its text.
    async fn read_until(
        &mut self,
        step: &str,
        tag: &str,
        mut each: impl FnMut(&Response<'_>),
    ) -> Result<Option<String>, Error> {
        let (addr, t) = (self.addr.clone(), self.timeout);
        loop {
            let response = match bounded(&addr, t, step, self.inner.read_response()).await? {
                Ok(Some(response)) => response,
                Ok(None) => return Err(broken(&addr, step, &"the server closed the connection")),
                Err(e) => return Err(io_failure(&addr, step, &e)),
            };
            match response.parsed() {
                Response::Done {
                    tag: done,
                    status,
                    information,
                    ..
                } if done.0 == tag => {
                    let text = information.as_deref().unwrap_or("").to_string();
                    return Ok((*status != Status::Ok).then_some(text));
                }
                other => each(other),
            }
        }
    }
}
