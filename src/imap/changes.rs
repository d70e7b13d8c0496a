//! Changes to what a mailbox holds: copy, move, delete for good; and to the mailboxes
//! themselves: create, rename, delete, subscribe.
//!
//! A move is `UID MOVE` (RFC 6851) where offered; else `UID COPY`, then `\Deleted` and
//! `UID EXPUNGE` of exactly those UIDs (UIDPLUS). A plain `EXPUNGE` is never sent: it
//! would also remove every other message someone marked deleted.

use async_imap::types::Fetch;
use tokio::io::AsyncWriteExt;

use super::error::Error;
use super::session::Session;
use super::uids::UidSet;
use super::utf7::encode as encode_mailbox_name;
use crate::mailbox::MailboxName;
use crate::net::bounded;

/// The largest message APPEND sends without waiting for the server's go-ahead: where
/// a round trip weighs most against the sending, and little is sent in vain when the
/// server refuses it.
const AT_ONCE_BYTES: usize = 256 << 10;

/// How a move was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveKind {
    /// `UID MOVE`, or copy and `UID EXPUNGE` of the copied: the messages are gone from
    /// the source.
    Moved,
    /// Copied and marked `\Deleted`, left for the owner to expunge: the server offers
    /// neither MOVE nor UIDPLUS, and a plain EXPUNGE would remove more.
    CopiedAndMarked,
}

impl Session {
    /// Whether the server listed `capability` after the login.
    pub fn offers(&self, capability: &str) -> bool {
        self.capabilities
            .iter()
            .any(|c| c.eq_ignore_ascii_case(capability))
    }

    /// Which of `uids` the open mailbox holds, ascending.
    pub async fn existing(&mut self, uids: &UidSet) -> Result<Vec<u32>, Error> {
        self.search_criteria(&format!("UID {}", uids.as_str()))
            .await
    }

    /// Copies `uids` of the open mailbox into `target`, their bytes, flags and dates
    /// kept.
    pub async fn copy_to(&mut self, uids: &UidSet, target: &MailboxName) -> Result<(), Error> {
        let raw = encode_mailbox_name(target.as_str());
        let (addr, t, mark) = (self.addr.clone(), self.timeout, self.mark());
        let copying = self.inner.uid_copy(uids.as_str(), &raw);
        match bounded(&addr, t, "UID COPY", copying).await? {
            Ok(()) => self.ended("UID COPY", mark),
            Err(e) => Err(self.not_opened(target, "UID COPY", mark, e).await),
        }
    }

    /// Moves `uids` of the open mailbox into `target` (see the module's doc).
    pub async fn move_to(
        &mut self,
        uids: &UidSet,
        target: &MailboxName,
    ) -> Result<MoveKind, Error> {
        if self.offers("MOVE") {
            let raw = encode_mailbox_name(target.as_str());
            let (addr, t, mark) = (self.addr.clone(), self.timeout, self.mark());
            let moving = self.inner.uid_mv(uids.as_str(), &raw);
            return match bounded(&addr, t, "UID MOVE", moving).await? {
                Ok(()) => self.ended("UID MOVE", mark).map(|()| MoveKind::Moved),
                Err(e) => Err(self.not_opened(target, "UID MOVE", mark, e).await),
            };
        }
        self.copy_to(uids, target).await?;
        self.mark_deleted(uids).await?;
        match self.offers("UIDPLUS") {
            true => {
                self.uid_expunge(uids).await?;
                Ok(MoveKind::Moved)
            }
            false => Ok(MoveKind::CopiedAndMarked),
        }
    }

    /// Removes `uids` of the open mailbox for good: `\Deleted`, then `UID EXPUNGE` of
    /// them alone (which needs UIDPLUS: checked first, so nothing is marked in vain).
    pub async fn expunge_uids(&mut self, uids: &UidSet) -> Result<(), Error> {
        if !self.offers("UIDPLUS") {
            return Err(Error::Unsupported {
                addr: self.addr.clone(),
                reason: "the server offers no UIDPLUS, without which only these messages cannot be expunged (a plain EXPUNGE would remove every message marked deleted)".into(),
            });
        }
        self.mark_deleted(uids).await?;
        self.uid_expunge(uids).await
    }

    async fn mark_deleted(&mut self, uids: &UidSet) -> Result<(), Error> {
        let step = self.step("UID STORE");
        let store = self
            .inner
            .uid_store(uids.as_str(), "+FLAGS.SILENT (\\Deleted)");
        let _: Vec<Fetch> = super::operations::collect(step, store).await?;
        Ok(())
    }

    async fn uid_expunge(&mut self, uids: &UidSet) -> Result<(), Error> {
        let step = self.step("UID EXPUNGE");
        let _: Vec<u32> =
            super::operations::collect(step, self.inner.uid_expunge(uids.as_str())).await?;
        Ok(())
    }

    /// Adds `bytes` to `mailbox` as a message with `flags` (`(\Seen)`) (APPEND). Not bounded
    /// as a whole, since a large message takes long to send: the connection's idle
    /// bound catches a server that stalls.
    pub async fn append(
        &mut self,
        mailbox: &MailboxName,
        flags: &str,
        bytes: &[u8],
    ) -> Result<(), Error> {
        let raw = encode_mailbox_name(mailbox.as_str());
        // Up to AT_ONCE_BYTES only: a server that refuses a message (over quota, too
        // large) can say so before a synchronising literal's bytes go, not after.
        let at_once = (bytes.len() <= AT_ONCE_BYTES && self.offers("LITERAL+"))
            || (bytes.len() <= 4096 && self.offers("LITERAL-"));
        if at_once && super::ahead::is_one_line(&raw) {
            return self.append_at_once(mailbox, &raw, flags, bytes).await;
        }
        if std::mem::take(&mut self.id_unread) {
            // The replies to ID first, by a command whose reading passes over them.
            self.noop().await?;
        }
        let mark = self.mark();
        match self.inner.append(&raw, Some(flags), None, bytes).await {
            Ok(()) => self.ended("APPEND", mark),
            Err(e) => Err(self.not_opened(mailbox, "APPEND", mark, e).await),
        }
    }

    /// APPEND with a non-synchronising literal (RFC 7888: `{n+}`): the command and the
    /// message leave together, with no wait for the server's go-ahead, and the reading
    /// of its reply passes over ID's, so no NOOP goes first: one round trip where the
    /// synchronising literal takes two or three. The message goes as bytes, whatever
    /// its charset.
    async fn append_at_once(
        &mut self,
        mailbox: &MailboxName,
        raw: &str,
        flags: &str,
        bytes: &[u8],
    ) -> Result<(), Error> {
        self.id_unread = false;
        let mark = self.mark();
        let quoted = raw.replace('\\', "\\\\").replace('"', "\\\"");
        let command = format!("APPEND \"{quoted}\" {flags} {{{}+}}", bytes.len());
        let sent = async {
            let tag = self.inner.run_command(&command).await?;
            let stream = self.inner.get_mut();
            stream.write_all(bytes).await?;
            stream.write_all(b"\r\n").await?;
            stream.flush().await?;
            Ok::<_, async_imap::error::Error>(tag)
        };
        let tag = match sent.await {
            Ok(tag) => tag,
            Err(e) => return Err(self.error("APPEND", e)),
        };
        match self.read_until("APPEND", &tag.0, |_| {}).await? {
            None => self.ended("APPEND", mark),
            Some(refused) => {
                let e = async_imap::error::Error::No(refused);
                Err(self.not_opened(mailbox, "APPEND", mark, e).await)
            }
        }
    }

    /// Whether the open mailbox holds a message with this Message-ID.
    pub async fn holds_message_id(&mut self, message_id: &str) -> Result<bool, Error> {
        let quoted = message_id.replace('\\', "\\\\").replace('"', "\\\"");
        let found = self
            .search_criteria(&format!("HEADER Message-ID \"{quoted}\""))
            .await?;
        Ok(!found.is_empty())
    }

    /// Leaves the open mailbox (CLOSE: after EXAMINE it expunges nothing).
    pub async fn close_mailbox(&mut self) -> Result<(), Error> {
        let (addr, t, mark) = (self.addr.clone(), self.timeout, self.mark());
        bounded(&addr, t, "CLOSE", self.inner.close())
            .await?
            .map_err(|e| self.error("CLOSE", e))?;
        self.ended("CLOSE", mark)
    }

    /// `CREATE`, `DELETE` or `RENAME` of a mailbox, and `SUBSCRIBE` to one.
    pub async fn manage(&mut self, change: &MailboxChange) -> Result<(), Error> {
        let (addr, t, mark) = (self.addr.clone(), self.timeout, self.mark());
        let raw = |m: &MailboxName| encode_mailbox_name(m.as_str());
        let (step, result) = match change {
            MailboxChange::Create(m) => (
                "CREATE",
                bounded(&addr, t, "CREATE", self.inner.create(raw(m))).await?,
            ),
            MailboxChange::Delete(m) => (
                "DELETE",
                bounded(&addr, t, "DELETE", self.inner.delete(raw(m))).await?,
            ),
            MailboxChange::Rename(a, b) => (
                "RENAME",
                bounded(&addr, t, "RENAME", self.inner.rename(raw(a), raw(b))).await?,
            ),
            MailboxChange::Subscribe(m) => (
                "SUBSCRIBE",
                bounded(&addr, t, "SUBSCRIBE", self.inner.subscribe(raw(m))).await?,
            ),
        };
        result.map_err(|e| self.error(step, e))?;
        self.ended(step, mark)
    }
}

/// A change to the mailboxes of an account.
#[derive(Debug, Clone)]
pub enum MailboxChange {
    Create(MailboxName),
    Delete(MailboxName),
    Rename(MailboxName, MailboxName),
    Subscribe(MailboxName),
}
