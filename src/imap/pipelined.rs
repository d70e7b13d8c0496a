//! Reading the replies to what went in the login's write (see `ahead`): the mailbox's
//! state, and the envelopes fetched with it.

use async_imap::imap_proto::types::{MailboxDatum, Response, ResponseCode, Status};

use super::ahead::{Ahead, BODIES_TAG, FETCH_TAG, Interleaved, Pending, SEARCH_TAG, TAG};
use super::error::Error;
use super::fetched::{Fetched, Kept};
use super::mailbox_state::{Access, MailboxInfo};
use super::session::Session;
use super::tap::Seen;
use crate::net::{bounded, broken, io_failure};

/// One response to the SEARCH or the FETCH sent with the login.
enum Heard {
    Message(Fetched),
    Found(Vec<u32>),
    /// The SEARCH's tagged reply: its text when it refused.
    SearchEnd(Option<String>),
    BodiesEnd(Ahead),
    Other,
}

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
            .read_until(step, TAG, |response| match response.parsed() {
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
        self.bodies_ahead = pending.bodies_from;
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
                if let Response::Fetch(n, _) = response.parsed()
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
        if self.bodies_ahead.is_some() {
            return self.searched_interleaved().await;
        }
        let mut uids = Vec::new();
        let refused = self
            .read_until("UID SEARCH", SEARCH_TAG, |response| {
                if let Response::MailboxData(MailboxDatum::Search(found)) = response.parsed() {
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

    /// Where the UID FETCH of bodies sent with the login starts, while its replies are
    /// still to be read: no other command may be sent until they are.
    pub fn bodies_ahead(&self) -> Option<u32> {
        self.bodies_ahead
    }

    /// The SEARCH's answer while the FETCH of bodies sent with it may be running: the
    /// messages that come first are kept for [`Session::next_body_ahead`].
    async fn searched_interleaved(&mut self) -> Result<Vec<u32>, Error> {
        loop {
            let i = &mut self.interleaved;
            if let Some(reply) = i.search_refused.take() {
                return Err(Error::Refused {
                    addr: self.addr.clone(),
                    step: "UID SEARCH".into(),
                    reply,
                });
            }
            if let Some(mut found) = i.found.take() {
                found.sort_unstable();
                found.dedup();
                return Ok(found);
            }
            if i.search_ended {
                return Ok(Vec::new());
            }
            if let Some(fetched) = self.read_interleaved().await? {
                self.interleaved.keep_early(fetched);
            }
        }
    }

    /// The next message of the UID FETCH of bodies sent with the login (responses that
    /// hold no message are passed over), its end, or the server's refusal of it. Its
    /// end comes once the SEARCH's tagged reply came too, so that the next command's
    /// replies are the next to come.
    pub async fn next_body_ahead(&mut self) -> Result<Ahead, Error> {
        if self.bodies_ahead.is_none() {
            return Ok(Ahead::Done);
        }
        loop {
            if let Some(fetched) = self.interleaved.early.pop_front() {
                return Ok(Ahead::Message(fetched));
            }
            if self.interleaved.search_ended
                && let Some(end) = self.interleaved.bodies_end.take()
            {
                self.bodies_ahead = None;
                return Ok(end);
            }
            if let Some(fetched) = self.read_interleaved().await? {
                return Ok(Ahead::Message(fetched));
            }
        }
    }

    /// The messages the FETCH sent with the login had to leave out (see
    /// [`Interleaved::keep_early`]): to be fetched again.
    pub fn bodies_dropped(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.interleaved.dropped)
    }

    /// Reads what is left of the UID FETCH of bodies sent with the login, keeping
    /// none of it: for when what it fetched is not what is wanted after all.
    pub async fn pass_over_bodies_ahead(&mut self) -> Result<(), Error> {
        if self.bodies_ahead.is_some() {
            tracing::debug!("passing over the bodies fetched with the login");
        }
        while let Ahead::Message(_) = self.next_body_ahead().await? {}
        self.interleaved = Interleaved::default();
        Ok(())
    }

    /// Reads one response to the SEARCH or the FETCH sent with the login: a message,
    /// or None when it was another of their responses (noted in `interleaved`).
    async fn read_interleaved(&mut self) -> Result<Option<Fetched>, Error> {
        let heard = self
            .read_until_picked("UID FETCH", |response| {
                let text = |info: &Option<std::borrow::Cow<'_, str>>| {
                    info.as_deref().unwrap_or("").to_string()
                };
                Some(match response.parsed() {
                    Response::MailboxData(MailboxDatum::Search(found)) => {
                        Heard::Found(found.clone())
                    }
                    Response::Done {
                        tag,
                        status,
                        information,
                        ..
                    } if tag.0 == SEARCH_TAG => {
                        Heard::SearchEnd((*status != Status::Ok).then(|| text(information)))
                    }
                    Response::Done {
                        tag,
                        status,
                        information,
                        ..
                    } if tag.0 == BODIES_TAG => Heard::BodiesEnd(match status {
                        Status::Ok => Ahead::Done,
                        _ => Ahead::Refused(text(information)),
                    }),
                    _ => Fetched::from_response(response).map_or(Heard::Other, Heard::Message),
                })
            })
            .await?;
        let i = &mut self.interleaved;
        match heard {
            Heard::Message(fetched) => return Ok(Some(fetched)),
            Heard::Found(found) => i.found.get_or_insert_with(Vec::new).extend(found),
            Heard::SearchEnd(refused) => {
                i.search_ended = true;
                i.search_refused = refused;
            }
            Heard::BodiesEnd(end) => i.bodies_end = Some(end),
            Heard::Other => {}
        }
        Ok(None)
    }

    /// Reads responses, each shown to `each`, up to the one tagged `tag`: None when it
    /// is OK, else its text.
    pub(super) async fn read_until(
        &mut self,
        step: &str,
        tag: &str,
        mut each: impl FnMut(Kept),
    ) -> Result<Option<String>, Error> {
        self.read_until_picked(step, |response| match response.parsed() {
            Response::Done {
                tag: done,
                status,
                information,
                ..
            } if done.0 == tag => {
                let text = information.as_deref().unwrap_or("").to_string();
                Some((*status != Status::Ok).then_some(text))
            }
            _ => {
                each(response);
                None
            }
        })
        .await
    }

    /// Reads responses until `pick` makes something of one.
    async fn read_until_picked<R>(
        &mut self,
        step: &str,
        mut pick: impl FnMut(Kept) -> Option<R>,
    ) -> Result<R, Error> {
        let (addr, t) = (self.addr.clone(), self.timeout);
        loop {
            let response = match bounded(&addr, t, step, self.inner.read_response()).await? {
                Ok(Some(response)) => response,
                Ok(None) => return Err(broken(&addr, step, &"the server closed the connection")),
                Err(e) => return Err(io_failure(&addr, step, &e)),
            };
            let bytes = response.borrow_owner().capacity();
            if let Some(picked) = pick(Kept::new(response, |r| r.parsed(), bytes)) {
                return Ok(picked);
            }
        }
    }
}
