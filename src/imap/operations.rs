//! What commands ask of a session, named for what it does: commands never build IMAP
//! command strings.

use std::future::Future;
use std::time::Duration;

use async_imap::types::{Fetch, Name, NameAttribute};
use futures::{Stream, StreamExt, TryStreamExt};

use super::ahead::{ENVELOPES, FIRST_PIECES};
use super::error::{Error, imap_error};
use super::fetched::Fetched;
use super::mailbox_state::{Access, MailboxInfo, SpecialUse};
use super::session::Session;
use super::tap::{Seen, Shared};
use super::uids::{Query, UidSet};
use super::utf7::{decode as decode_mailbox_name, encode as encode_mailbox_name};
use crate::date::Day;
use crate::mailbox::MailboxName;
use crate::net::{bounded, broken};

/// A mailbox as LIST shows it.
#[derive(Debug, Clone)]
pub struct ListedMailbox {
    /// The name as the server spells it (modified UTF-7), for commands.
    raw: String,
    /// The name decoded for people.
    pub name: String,
    /// `\Noselect` and `\NonExistent` mailboxes hold no messages.
    pub selectable: bool,
    /// What the server marks it for (`\Trash`, `\Sent`…), if anything.
    pub special_use: Option<SpecialUse>,
}

/// What `read` and `digest` download: the whole message, left unread.
const BODIES: &str = "(UID FLAGS RFC822.SIZE BODY.PEEK[])";

/// The most of one message `fetch` takes in one response: a larger one comes in pieces
/// of this size ([`Session::body_piece`]), so that fetch's memory stays flat whatever
/// the size of a message (async-imap holds a whole response in memory, twice over
/// while parsing it).
pub const PIECE: u32 = 8 << 20;

#[cfg(test)]
#[test]
fn the_first_piece_is_a_piece() {
    assert!(FIRST_PIECES.contains(&format!("<0.{PIECE}>")));
}

impl Session {
    /// How many commands the server has completed: taken before a command, to check
    /// after it that the server really completed it.
    pub(super) fn mark(&self) -> u64 {
        debug_assert!(
            self.pending.is_none(),
            "select the mailbox opened with the login first"
        );
        debug_assert!(
            self.speculated.is_none(),
            "read the envelopes fetched with the login first"
        );
        debug_assert!(
            self.searched.is_none(),
            "read the search sent with the login first"
        );
        debug_assert!(
            self.bodies_ahead.is_none(),
            "read the bodies fetched with the login first"
        );
        Seen::completions(&self.seen)
    }

    /// async-imap takes a connection closed between two responses for the end of an
    /// answer: an answer counts only when the server's tagged reply came.
    pub(super) fn ended(&self, step: &str, mark: u64) -> Result<(), Error> {
        ended(&self.seen, &self.addr, step, mark)
    }

    /// A command about to be sent, for [`collect`].
    pub(super) fn step(&self, name: &'static str) -> Step {
        Step {
            addr: self.addr.clone(),
            timeout: self.timeout,
            seen: self.seen.clone(),
            name,
            mark: self.mark(),
        }
    }

    /// Opens `mailbox`.
    pub async fn select(
        &mut self,
        mailbox: &MailboxName,
        access: Access,
    ) -> Result<MailboxInfo, Error> {
        if let Some(pending) = self.pending.take() {
            let opened = self.read_pending(&pending).await;
            if pending.is(mailbox, access) {
                return opened;
            }
            // Another mailbox after all: what became of the first does not matter.
            tracing::debug!("the mailbox opened in the login's write is not the one used");
            if let (Ok(_), Some(from)) = (&opened, self.speculated.take()) {
                self.speculated_envelopes(from, 0, 0, 0).await?;
            }
            if let (Ok(_), Some(_)) = (&opened, self.searched.take()) {
                // Its answer is not wanted, but its replies must be read.
                let _ = self.searched_uids().await;
            }
            if opened.is_ok() {
                self.pass_over_bodies_ahead().await?;
            }
        }
        let raw = encode_mailbox_name(mailbox.as_str());
        let (addr, t, mark) = (self.addr.clone(), self.timeout, self.mark());
        let step = match access {
            Access::ReadOnly => "EXAMINE",
            Access::ReadWrite => "SELECT",
        };
        let result = match access {
            Access::ReadOnly => bounded(&addr, t, step, self.inner.examine(&raw)).await?,
            Access::ReadWrite => bounded(&addr, t, step, self.inner.select(&raw)).await?,
        };
        let mb = match result {
            Ok(mb) => mb,
            Err(e) => return Err(self.not_opened(mailbox, step, mark, e).await),
        };
        self.ended(step, mark)?;
        let uidvalidity = mb.uid_validity.ok_or_else(|| Error::Broken {
            addr: addr.clone(),
            step: step.into(),
            reason: "the server sent no UIDVALIDITY".into(),
        })?;
        tracing::info!("opened {mailbox} with {step}: {} messages", mb.exists);
        Ok(MailboxInfo {
            uidvalidity,
            exists: mb.exists,
            uid_next: mb.uid_next,
        })
    }

    /// Why `mailbox` did not open. A refusal is known by the tagged NO the tap saw, also
    /// when async-imap could not parse the reply (Dovecot's names the mailbox in UTF-8);
    /// then the account's mailboxes are listed, to say which ones there are.
    pub(super) async fn not_opened(
        &mut self,
        mailbox: &MailboxName,
        step: &str,
        mark: u64,
        e: async_imap::error::Error,
    ) -> Error {
        let reply = match &e {
            async_imap::error::Error::No(reply) => super::error::refusal(&self.seen, reply),
            _ if self.mark() > mark => match Seen::take_refusal(&self.seen) {
                Some(reply) => reply,
                None => return self.error(step, e),
            },
            _ => return self.error(step, e),
        };
        self.mailbox_refused(mailbox, step, reply).await
    }

    /// A mailbox the server would not open, with the account's mailboxes when it is
    /// not among them.
    pub(super) async fn mailbox_refused(
        &mut self,
        mailbox: &MailboxName,
        step: &str,
        reply: String,
    ) -> Error {
        let known = match self.list().await {
            Ok(listed) if !listed.iter().any(|m| m.name == mailbox.as_str()) => {
                let mut names: Vec<String> = listed.into_iter().map(|m| m.name).collect();
                names.sort_by_key(|n| (n != "INBOX", n.clone()));
                Some(names)
            }
            Ok(_) => None,
            Err(e) => {
                tracing::debug!("listing the mailboxes after {step}: {e}");
                None
            }
        };
        Error::NoMailbox {
            addr: self.addr.clone(),
            mailbox: mailbox.to_string(),
            known,
            reply,
        }
    }

    /// UIDs matching `query`, ascending.
    pub async fn search(&mut self, query: &Query) -> Result<Vec<u32>, Error> {
        self.search_criteria(&query.to_string()).await
    }

    /// UIDs matching SEARCH `criteria` as IMAP spells them, ascending.
    pub(super) async fn search_criteria(&mut self, criteria: &str) -> Result<Vec<u32>, Error> {
        if let Some(sent) = self.searched.take() {
            // Sent with the login: its answer is this search's when it asked the same.
            let answer = self.searched_uids().await;
            if sent == criteria {
                return answer;
            }
            answer?;
            // Nor are the messages fetched with it, which came for that search.
            self.pass_over_bodies_ahead().await?;
        }
        let (addr, t, mark) = (self.addr.clone(), self.timeout, self.mark());
        tracing::debug!("UID SEARCH {}", criteria.escape_debug());
        let set = bounded(&addr, t, "UID SEARCH", self.inner.uid_search(criteria))
            .await?
            .map_err(|e| self.error("UID SEARCH", e))?;
        self.ended("UID SEARCH", mark)?;
        let mut uids: Vec<u32> = set.into_iter().collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// The UIDs above `after` (received since `since`, if given), ascending, as far as
    /// they can be trusted: none at or above UIDNEXT, and, when SEARCH finds nothing in
    /// a mailbox that is not empty (GNU Mailutils' imap4d) or fewer than EXISTS from UID
    /// 1 on, the UIDs a FETCH lists.
    pub async fn new_uids(
        &mut self,
        after: u32,
        since: Option<Day>,
        info: &MailboxInfo,
    ) -> Result<Vec<u32>, Error> {
        let from = after.saturating_add(1);
        let mut found = self.search(&Query::new_after(after, since)).await?;
        // "N:*" always matches the last message, so an empty answer without a date
        // means the server's SEARCH is broken; so does finding fewer than EXISTS
        // messages from UID 1 on.
        let short = found.is_empty() || (after == 0 && found.len() < info.exists as usize);
        if short && since.is_none() && info.exists > 0 {
            // A second opinion is a command: what was fetched with the login goes first.
            self.pass_over_bodies_ahead().await?;
            tracing::warn!(
                "the server's UID SEARCH found {} of the mailbox's {} message(s); asking with UID FETCH instead",
                found.len(),
                info.exists
            );
            let listed = self.uids_from(from).await?;
            if listed.len() > found.len() {
                found = listed;
            }
        }
        // "N:*" matches the last message even when its UID is below N.
        found.retain(|u| *u > after);
        if let Some(next) = info.uid_next {
            let bogus = found.iter().filter(|u| **u >= next).count();
            if bogus > 0 {
                tracing::warn!(
                    "ignoring {bogus} UID(s) at or above the mailbox's UIDNEXT {next}, which the server cannot have assigned"
                );
                found.retain(|u| *u < next);
            }
        }
        Ok(found)
    }

    /// The UIDs from `uid` on, as a FETCH lists them (`UID FETCH uid:* (UID)`): a second
    /// opinion when SEARCH says nothing.
    pub async fn uids_from(&mut self, uid: u32) -> Result<Vec<u32>, Error> {
        let range = UidSet::from_range(uid);
        let stream = self.uid_fetch(&range, "(UID)").await?;
        let fetched: Vec<Fetched> = stream.try_collect().await?;
        let mut uids: Vec<u32> = fetched.iter().filter_map(Fetched::uid).collect();
        uids.sort_unstable();
        uids.dedup();
        Ok(uids)
    }

    /// Streams the messages of `uids`, whole, one response at a time. A stalled server
    /// is caught by the connection's idle timeout, however long one message takes.
    pub async fn fetch_bodies<'a>(
        &'a mut self,
        uids: &UidSet,
    ) -> Result<impl Stream<Item = Result<Fetched, Error>> + 'a, Error> {
        self.uid_fetch(uids, FIRST_PIECES).await
    }

    /// `len` bytes of message `uid` from `offset` on (`BODY.PEEK[]<offset.len>`): a
    /// message larger than [`PIECE`] comes in pieces, so that no response holds more.
    /// None when the server sent no such part.
    pub async fn body_piece(
        &mut self,
        uid: u32,
        offset: u64,
        len: u32,
    ) -> Result<Option<Fetched>, Error> {
        let items = format!("(UID BODY.PEEK[]<{offset}.{len}>)");
        let stream = self.uid_fetch(&UidSet::one(uid), &items).await?;
        let fetched: Vec<Fetched> = stream.try_collect().await?;
        Ok(fetched.into_iter().find(|f| f.uid() == Some(uid)))
    }

    /// The messages of `uids`, whole, all at once (small sets: `read`, `digest`).
    pub async fn bodies(&mut self, uids: &UidSet) -> Result<Vec<Fetched>, Error> {
        let stream = self.uid_fetch(uids, BODIES).await?;
        stream.try_collect().await
    }

    /// The Message-ID header and size of each of `uids`, to recognise messages stored
    /// under an earlier UIDVALIDITY.
    pub async fn message_ids(&mut self, uids: &UidSet) -> Result<Vec<Fetched>, Error> {
        let items = "(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])";
        let stream = self.uid_fetch(uids, items).await?;
        stream.try_collect().await
    }

    /// Headers, flags, size and structure of the newest `count` of `exists` messages, by
    /// position (`FETCH 981:*`): no need to know their UIDs, one round trip.
    pub async fn newest_envelopes(
        &mut self,
        count: u32,
        exists: u32,
        skip: u32,
    ) -> Result<Vec<Fetched>, Error> {
        if let Some(from) = self.speculated.take() {
            return self.speculated_envelopes(from, count, exists, skip).await;
        }
        let last = exists.saturating_sub(skip);
        if last == 0 || count == 0 {
            return Ok(Vec::new());
        }
        let first = last.saturating_sub(count - 1).max(1);
        self.envelopes_between(first, last, skip).await
    }

    /// Headers, flags, size and structure of the messages `uids` (what `list` shows).
    pub async fn envelopes(&mut self, uids: &UidSet) -> Result<Vec<Fetched>, Error> {
        let stream = self.uid_fetch(uids, ENVELOPES).await?;
        stream.try_collect().await
    }

    /// The envelopes of positions `first` to `last` (`first:*` when nothing is skipped).
    pub(super) async fn envelopes_between(
        &mut self,
        first: u32,
        last: u32,
        skip: u32,
    ) -> Result<Vec<Fetched>, Error> {
        let range = match skip {
            0 => format!("{first}:*"),
            _ => format!("{first}:{last}"),
        };
        let step = self.step("FETCH");
        let all: Vec<Fetch> = collect(step, self.inner.fetch(&range, ENVELOPES)).await?;
        Ok(all.into_iter().map(Fetched::from).collect())
    }

    async fn uid_fetch<'a>(
        &'a mut self,
        uids: &UidSet,
        items: &str,
    ) -> Result<impl Stream<Item = Result<Fetched, Error>> + 'a, Error> {
        let (addr, t, mark) = (self.addr.clone(), self.timeout, self.mark());
        let seen = self.seen.clone();
        let fetching = self.inner.uid_fetch(uids.as_str(), items);
        let stream = match bounded(&addr, t, "UID FETCH", fetching).await? {
            Ok(stream) => stream,
            Err(e) => return Err(imap_error(&addr, "UID FETCH", e, &seen)),
        };
        let (end_seen, end_addr) = (seen.clone(), addr.clone());
        // After the last response: an error item if the tagged reply never came.
        let tail = futures::stream::once(async move {
            ended(&end_seen, &end_addr, "UID FETCH", mark)
                .err()
                .map(Err)
        });
        let items = stream.map(move |item| match item {
            Ok(f) => Some(Ok(Fetched::from(f))),
            Err(e) => Some(Err(imap_error(&addr, "UID FETCH", e, &seen))),
        });
        Ok(items.chain(tail).filter_map(futures::future::ready))
    }

    /// Adds `flag` to `uids`, or takes it away (`UID STORE +FLAGS`/`-FLAGS`); the UIDs
    /// the server changed, from its FETCH replies (a UID that is not there is none of
    /// them).
    pub async fn store_flag(
        &mut self,
        uids: &UidSet,
        flag: &str,
        add: bool,
    ) -> Result<Vec<u32>, Error> {
        let step = self.step("UID STORE");
        let sign = if add { '+' } else { '-' };
        let query = format!("{sign}FLAGS ({flag})");
        let changed: Vec<Fetch> =
            collect(step, self.inner.uid_store(uids.as_str(), &query)).await?;
        let mut uids: Vec<u32> = changed.iter().filter_map(|f| f.uid).collect();
        uids.sort_unstable();
        uids.dedup();
        Ok(uids)
    }

    /// Marks `uids` read (`+FLAGS.SILENT (\Seen)`).
    pub async fn mark_seen(&mut self, uids: &UidSet) -> Result<(), Error> {
        let step = self.step("UID STORE");
        let query = "+FLAGS.SILENT (\\Seen)";
        let _: Vec<Fetch> = collect(step, self.inner.uid_store(uids.as_str(), query)).await?;
        Ok(())
    }

    /// Every mailbox of the account.
    pub async fn list(&mut self) -> Result<Vec<ListedMailbox>, Error> {
        let names = self.list_names("*").await?;
        Ok(names
            .iter()
            .map(|n| ListedMailbox {
                raw: n.name().to_string(),
                name: decode_mailbox_name(n.name()),
                selectable: !n
                    .attributes()
                    .iter()
                    .any(|a| matches!(a, NameAttribute::NoSelect)),
                special_use: n.attributes().iter().find_map(special_use),
            })
            .collect())
    }

    /// The mailbox the server marks for `purpose`, if one is there.
    pub async fn special_mailbox(
        &mut self,
        purpose: SpecialUse,
    ) -> Result<Option<MailboxName>, Error> {
        let listed = self.list().await?;
        Ok(listed
            .into_iter()
            .find(|m| m.special_use == Some(purpose) && m.selectable)
            .map(|m| MailboxName::new(&m.name)))
    }

    /// The hierarchy delimiter of the account's mailboxes (`LIST "" ""`).
    pub async fn delimiter(&mut self) -> Result<Option<char>, Error> {
        let names = self.list_names("\"\"").await?;
        Ok(names
            .first()
            .and_then(|n| n.delimiter())
            .and_then(|d| d.chars().next()))
    }

    /// `LIST "" pattern`.
    async fn list_names(&mut self, pattern: &str) -> Result<Vec<Name>, Error> {
        let step = self.step("LIST");
        collect(step, self.inner.list(Some(""), Some(pattern))).await
    }

    /// MESSAGES and UNSEEN of the INBOX.
    pub async fn inbox_counts(&mut self) -> Result<(u32, u32), Error> {
        let inbox = ListedMailbox {
            raw: "INBOX".into(),
            name: "INBOX".into(),
            selectable: true,
            special_use: None,
        };
        self.status(&inbox).await
    }

    /// MESSAGES and UNSEEN of a listed mailbox.
    pub async fn status(&mut self, mailbox: &ListedMailbox) -> Result<(u32, u32), Error> {
        let (addr, t, mark) = (self.addr.clone(), self.timeout, self.mark());
        let asking = self.inner.status(&mailbox.raw, "(MESSAGES UNSEEN)");
        let mb = bounded(&addr, t, "STATUS", asking)
            .await?
            .map_err(|e| self.error("STATUS", e))?;
        self.ended("STATUS", mark)?;
        Ok((mb.exists, mb.unseen.unwrap_or(0)))
    }
}

fn special_use(attribute: &NameAttribute<'_>) -> Option<SpecialUse> {
    Some(match attribute {
        NameAttribute::Trash => SpecialUse::Trash,
        NameAttribute::Sent => SpecialUse::Sent,
        NameAttribute::Drafts => SpecialUse::Drafts,
        NameAttribute::Archive => SpecialUse::Archive,
        NameAttribute::Junk => SpecialUse::Junk,
        NameAttribute::All => SpecialUse::All,
        NameAttribute::Flagged => SpecialUse::Flagged,
        _ => return None,
    })
}

/// An error unless the server completed a command since `mark` (see [`Session::ended`]).
fn ended(seen: &Shared, addr: &str, step: &str, mark: u64) -> Result<(), Error> {
    match Seen::completions(seen) > mark {
        true => Ok(()),
        false => Err(broken(
            addr,
            step,
            &"the server closed the connection before completing the command",
        )),
    }
}

/// A command about to be sent: where its answer comes from and how to name a failure.
pub(super) struct Step {
    addr: String,
    timeout: Duration,
    seen: Shared,
    name: &'static str,
    /// Commands completed before it was sent.
    mark: u64,
}

/// Sends a command whose answer is a stream of responses (`start`) and collects them:
/// each wait bounded, each failure named for the step, and the server's tagged reply
/// required at the end.
pub(super) async fn collect<T, S>(
    step: Step,
    start: impl Future<Output = async_imap::error::Result<S>>,
) -> Result<Vec<T>, Error>
where
    S: Stream<Item = async_imap::error::Result<T>>,
{
    let Step {
        addr,
        timeout,
        seen,
        name,
        mark,
    } = step;
    let fail = |e| imap_error(&addr, name, e, &seen);
    let stream = bounded(&addr, timeout, name, start).await?.map_err(fail)?;
    let all: Result<Vec<T>, _> = bounded(&addr, timeout, name, stream.try_collect()).await?;
    let all = all.map_err(fail)?;
    ended(&seen, &addr, name, mark)?;
    Ok(all)
}
