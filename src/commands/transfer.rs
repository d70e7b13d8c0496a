//! `mailer move` and `mailer copy`: messages of one mailbox filed into another, on the
//! server, their bytes kept exactly (the server copies them; nothing passes through
//! mailer). The local Maildir is not changed: `fetch` stays its one writer.

use crate::config::Account;
use crate::error::{Exit, Failure};
use crate::imap::{Access, MoveKind, UidSet};
use crate::mailbox::MailboxName;

use super::search::Chosen;

/// What a move or copy did.
#[derive(Debug)]
pub struct Transferred {
    pub mailbox: String,
    pub target: String,
    /// True for `move`, false for `copy`.
    pub moved: bool,
    /// The messages moved or copied (of those asked for, the ones that are there).
    pub uids: Vec<u32>,
    /// A move on a server without MOVE or UIDPLUS: copied and marked `\Deleted` in the
    /// source, left there for the owner to expunge.
    pub left_marked: bool,
}

/// Moves (or copies) the messages `chosen` of `mailbox` into `target`: one UID SEARCH
/// to learn which are there, then one UID MOVE (or COPY) whatever their number.
pub async fn run(
    account: &Account,
    mailbox: &MailboxName,
    chosen: &Chosen,
    target: &MailboxName,
    moving: bool,
) -> Result<Transferred, Failure> {
    if mailbox == target {
        return Err(Failure::new(
            Exit::Usage,
            format!(
                "the messages are in {mailbox} already: name another mailbox, or -m the one they are in"
            ),
        ));
    }
    let access = if moving {
        Access::ReadWrite
    } else {
        Access::ReadOnly
    };
    let (uids, kind) = super::with_imap(account, Some((mailbox, access)), async |session| {
        let uids = super::search::chosen(session, chosen).await?;
        let mut kind = MoveKind::Moved;
        if !uids.is_empty() {
            let set = UidSet::from_sorted(&uids);
            match moving {
                true => kind = session.move_to(&set, target).await?,
                false => session.copy_to(&set, target).await?,
            }
        }
        Ok((uids, kind))
    })
    .await?;
    Ok(Transferred {
        mailbox: mailbox.to_string(),
        target: target.to_string(),
        moved: moving,
        uids,
        left_marked: moving && kind == MoveKind::CopiedAndMarked,
    })
}
