//! `mailer read`: one message, from the server by UID or from a local file.

use crate::config::Account;
use crate::error::{Exit, Failure};
use crate::imap::{Access, UidSet};
use crate::mailbox::MailboxName;
use crate::message::parse::{self, Full};

/// The raw bytes and flags of message `uid` of `mailbox`, without marking it read.
pub async fn fetch_raw(
    account: &Account,
    mailbox: &MailboxName,
    uid: u32,
) -> Result<(Vec<u8>, Vec<String>), Failure> {
    let mut session = super::imap_session(account).await?;
    let result = async {
        session.select(mailbox, Access::ReadOnly).await?;
        session.bodies(&UidSet::one(uid)).await
    }
    .await;
    session.logout().await;
    let fetched = result?;
    fetched
        .iter()
        .find(|f| f.uid() == Some(uid))
        .and_then(|f| f.body().map(|b| (b.to_vec(), f.flags())))
        .ok_or_else(|| {
            Failure::new(
                Exit::Data,
                format!("no message with UID {uid} in {mailbox}: see `mailer list`"),
            )
        })
}

/// Message `uid` of `mailbox`, parsed.
pub async fn from_server(
    account: &Account,
    mailbox: &MailboxName,
    uid: u32,
) -> Result<Full, Failure> {
    let (bytes, flags) = fetch_raw(account, mailbox, uid).await?;
    let mut full = parse::full(&bytes);
    full.envelope.flags = flags;
    full.envelope.id = uid.to_string();
    full.envelope.mailbox = mailbox.to_string();
    Ok(full)
}

/// A message file, parsed (offline).
pub fn from_file(path: &std::path::Path) -> Result<Full, Failure> {
    let limit = crate::net::limits::MESSAGE_FILE;
    if std::fs::metadata(path).is_ok_and(|m| m.len() > limit) {
        return Err(Failure::new(
            Exit::Data,
            format!(
                "reading message {}: larger than {} MiB, the most mailer reads as one message",
                path.display(),
                limit >> 20
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        Failure::new(
            Exit::NoInput,
            format!("reading message {}: {e}", path.display()),
        )
    })?;
    let mut full = parse::full(&bytes);
    full.envelope.path = Some(path.display().to_string());
    Ok(full)
}
