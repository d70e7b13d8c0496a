//! `mailer delete`: messages moved to the mailbox the server marks `\Trash` (RFC 6154),
//! or with `--expunge` removed for good, only those (`UID EXPUNGE`, never a plain
//! EXPUNGE). The local Maildir is not changed.

use crate::config::Account;
use crate::error::{Exit, Failure};
use crate::imap::{self, Access, MoveKind, SpecialUse, UidSet};
use crate::mailbox::MailboxName;

use super::search::Chosen;

/// What a delete did.
#[derive(Debug)]
pub struct Deleted {
    pub mailbox: String,
    /// Where they went; None when expunged.
    pub trash: Option<String>,
    pub uids: Vec<u32>,
    /// Moved to the Trash by copy and `\Deleted` (no MOVE, no UIDPLUS): still in the
    /// mailbox until it is expunged.
    pub left_marked: bool,
}

pub async fn run(
    account: &Account,
    mailbox: &MailboxName,
    chosen: &Chosen,
    expunge: bool,
) -> Result<Deleted, Failure> {
    let opened = Some((mailbox, Access::ReadWrite));
    let (uids, trash, kind) = super::with_imap(account, opened, async |session| {
        let uids = super::search::chosen(session, chosen).await?;
        if uids.is_empty() {
            return Ok((uids, None, MoveKind::Moved));
        }
        let set = UidSet::from_sorted(&uids);
        if expunge {
            session.expunge_uids(&set).await?;
            return Ok((uids, None, MoveKind::Moved));
        }
        let trash = trash(session, mailbox).await?;
        let kind = session.move_to(&set, &trash).await?;
        Ok((uids, Some(trash.to_string()), kind))
    })
    .await?;
    Ok(Deleted {
        mailbox: mailbox.to_string(),
        trash,
        uids,
        left_marked: kind == MoveKind::CopiedAndMarked,
    })
}

/// The server's `\Trash` mailbox, which must not be the one the messages are in.
async fn trash(session: &mut imap::Session, mailbox: &MailboxName) -> Result<MailboxName, Failure> {
    match session.special_mailbox(SpecialUse::Trash).await? {
        Some(trash) if trash == *mailbox => Err(Failure::new(
            Exit::Usage,
            format!(
                "the messages are in {mailbox}, the Trash, already: --expunge removes them for good"
            ),
        )),
        Some(trash) => Ok(trash),
        None => Err(Failure::new(
            Exit::Unavailable,
            "the server marks no mailbox as \\Trash: `mailer move UID… NAME` files them where you like, --expunge removes them for good",
        )),
    }
}
