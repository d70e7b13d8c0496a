//! `mailer read`: one message, from the server by its id (an IMAP UID, a POP3 UIDL) or
//! from a local file.

use crate::config::{Account, Retrieval, Server};
use crate::error::{Exit, Failure};
use crate::imap::{Access, UidSet};
use crate::mailbox::MailboxName;
use crate::message::parse::{self, Full};

/// The raw bytes and flags of message `id` of `mailbox`, without marking it read: an
/// IMAP UID, or over POP3 the id `mailer list` shows (the UIDL).
pub async fn fetch_raw(
    account: &Account,
    mailbox: &MailboxName,
    id: &str,
) -> Result<(Vec<u8>, Vec<String>), Failure> {
    match account.retrieval()? {
        Retrieval::Pop3(_) if !mailbox.is_inbox() => {
            Err(super::pop3_has_only_the_inbox(account, mailbox))
        }
        Retrieval::Pop3(server) => Ok((from_pop3(server, id).await?, Vec::new())),
        Retrieval::Imap(_) => {
            let uid = id.parse::<u32>().map_err(|_| {
                Failure::new(
                    Exit::Usage,
                    format!("{id:?} is not a UID: give the number `mailer list` shows"),
                )
            })?;
            from_imap(account, mailbox, uid).await
        }
    }
}

async fn from_imap(
    account: &Account,
    mailbox: &MailboxName,
    uid: u32,
) -> Result<(Vec<u8>, Vec<String>), Failure> {
    let server = account.imap()?;
    let expected = super::expected_of(account);
    let mut session =
        crate::imap::Session::open_in(server, mailbox, Access::ReadOnly, &expected).await?;
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

/// The message whose UIDL is `id` (or, on a server without UIDL, whose number it is),
/// by RETR; nothing is deleted.
async fn from_pop3(server: &Server, id: &str) -> Result<Vec<u8>, Failure> {
    let mut session = crate::pop3::Session::open(server).await?;
    let found = match session.uidl().await? {
        Some(uidls) => uidls.into_iter().find(|(_, u)| u == id).map(|(n, _)| n),
        None => id.parse().ok(),
    };
    let Some(n) = found else {
        session.leave().await;
        return Err(Failure::new(
            Exit::Data,
            format!("no message {id:?} in the POP3 inbox: see `mailer list`"),
        ));
    };
    let mut bytes = Vec::new();
    session.send_retr(n).await?;
    session.read_retr(&mut bytes).await?;
    session.leave().await;
    Ok(bytes)
}

/// Message `id` of `mailbox`, parsed.
pub async fn from_server(
    account: &Account,
    mailbox: &MailboxName,
    id: &str,
) -> Result<Full, Failure> {
    let (bytes, flags) = fetch_raw(account, mailbox, id).await?;
    let mut full = parse::full(&bytes);
    let pop3 = matches!(account.retrieval(), Ok(Retrieval::Pop3(_)));
    full.envelope.flags_known = !pop3;
    full.envelope.flags = flags;
    match id.parse() {
        Ok(uid) if !pop3 => full.envelope.set_uid(uid),
        _ => full.envelope.set_uidl(id),
    }
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
    if !crate::message::raw::looks_like_message(&bytes) {
        return Err(Failure::new(
            Exit::Data,
            format!(
                "{}: {}",
                path.display(),
                crate::message::raw::Error::NotAMessage
            ),
        ));
    }
    let mut full = parse::full(&bytes);
    full.envelope.path = Some(path.display().to_string());
    Ok(full)
}
