//! `mailer mailboxes`: every folder of the account with its message counts.

use serde::Serialize;

use crate::config::Account;
use crate::error::Failure;

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
