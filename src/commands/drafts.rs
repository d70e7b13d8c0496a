//! `--draft`: a composed message saved in the mailbox the server marks `\Drafts`
//! (RFC 6154), flagged `\Draft` and `\Seen`, instead of sent; Bcc kept, as in the Sent
//! copy, since the draft is the sender's own.

use crate::config::Account;
use crate::error::{Exit, Failure};
use crate::imap::SpecialUse;
use crate::message::Outgoing;
use crate::message::sent_copy::sent_copy;

/// Saves `message` in Drafts; the mailbox's name.
pub async fn save(account: &Account, message: &Outgoing) -> Result<String, Failure> {
    super::with_imap(account, None, async |session| {
        let Some(drafts) = session.special_mailbox(SpecialUse::Drafts).await? else {
            return Err(Failure::new(
                Exit::Unavailable,
                "the server marks no mailbox \\Drafts: create one (`mailer mailboxes create Drafts` on servers that mark it), or send without --draft",
            ));
        };
        session.append(&drafts, "(\\Draft \\Seen)", &sent_copy(message)).await?;
        Ok(drafts.to_string())
    })
    .await
}
