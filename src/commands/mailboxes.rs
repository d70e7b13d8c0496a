//! `mailer mailboxes`: every folder of the account with its message counts; and
//! `mailboxes create|rename|delete`.

use serde::Serialize;

use crate::config::Account;
use crate::error::{Exit, Failure};
use crate::imap::{self, MailboxChange};
use crate::mailbox::MailboxName;

#[derive(Debug, Serialize)]
pub struct MailboxCount {
    pub name: String,
    pub total: Option<u32>,
    pub unseen: Option<u32>,
}

pub async fn run(account: &Account) -> Result<Vec<MailboxCount>, Failure> {
    let mut session = super::imap_session(account).await?;
    let result = async {
        let names = session.list().await?;
        let mut out = Vec::with_capacity(names.len());
        for n in names {
            let (total, unseen) = if n.selectable {
                let (t, u) = session.status(&n).await?;
                (Some(t), Some(u))
            } else {
                (None, None)
            };
            out.push(MailboxCount {
                name: n.name,
                total,
                unseen,
            });
        }
        Ok::<_, crate::imap::Error>(out)
    }
    .await;
    session.logout().await;
    Ok(result?)
}

/// What `mailboxes create|rename|delete` asks.
#[derive(Debug)]
pub struct Change {
    pub change: MailboxChange,
    /// `create --subscribe`: subscribed too, as other clients show only subscribed ones.
    pub subscribe: bool,
    /// `delete --force`: a mailbox that still holds messages is deleted with them.
    pub force: bool,
}

/// Creates, renames or deletes a mailbox. A mailbox that holds messages is deleted only
/// with `force`; the INBOX never.
pub async fn change(account: &Account, asked: &Change) -> Result<(), Failure> {
    if let MailboxChange::Delete(m) | MailboxChange::Rename(m, _) = &asked.change
        && m.is_inbox()
    {
        return Err(Failure::new(
            Exit::Usage,
            "the INBOX cannot be deleted or renamed: move its messages with `mailer move`",
        ));
    }
    super::with_imap(account, None, async |session| {
        if let (MailboxChange::Delete(m), false) = (&asked.change, asked.force) {
            let held = held_messages(session, m).await?;
            if held > 0 {
                return Err(Failure::new(
                    Exit::Usage,
                    format!("{m} holds {held} message(s): move them first, or give --force to delete them with it"),
                ));
            }
        }
        session.manage(&asked.change).await?;
        if let (MailboxChange::Create(m), true) = (&asked.change, asked.subscribe) {
            session.manage(&MailboxChange::Subscribe(m.clone())).await?;
        }
        Ok(())
    })
    .await
}

/// How many messages `mailbox` holds (STATUS); 0 when the server knows no such mailbox,
/// so that its own refusal of the DELETE says so.
async fn held_messages(session: &mut imap::Session, mailbox: &MailboxName) -> Result<u32, Failure> {
    let listed = session.list().await?;
    match listed.iter().find(|l| l.name == mailbox.as_str()) {
        Some(l) if l.selectable => Ok(session.status(l).await?.0),
        _ => Ok(0),
    }
}
