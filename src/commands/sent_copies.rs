//! A copy of what mailer sends in the account's Sent mailbox, so that other clients show
//! it: the exact bytes submitted (a `Bcc:` header added, in this copy only), flagged
//! `\Seen`, appended over IMAP after the SMTP server accepted the message.
//!
//! The copy is kept on disk first ([`crate::store::sent`]), the moment the server
//! accepts the message; it is appended after the SMTP session, and removed once the
//! IMAP server holds it. When that fails the send still succeeded (a warning, exit 0),
//! and the next `send`, `sendmail` or `queue flush` appends what waits, first looking
//! in the Sent mailbox for a copy whose APPEND had begun: never two copies.
//!
//! Which mailbox: `sent_mailbox` in the account's section, else the one the server
//! marks `\Sent` (RFC 6154). `save_sent = false` turns copies off; left unset, a server
//! with no `\Sent` mailbox, or Gmail's (X-GM-EXT-1, which files sent mail itself), gets
//! none.

use std::time::{Duration, Instant};

use crate::config::{Account, Retrieval};
use crate::error::{Exit, Failure};
use crate::imap::{self, Access, SpecialUse};
use crate::mailbox::MailboxName;
use crate::store::sent::{Copy, SentCopies};

/// Where the account's copies wait; None when it keeps none (`save_sent = false`, or
/// no IMAP server to keep them on).
pub fn waiting(account: &Account) -> Result<Option<SentCopies>, Failure> {
    if account.save_sent == Some(false) || !matches!(account.retrieval, Some(Retrieval::Imap(_))) {
        return Ok(None);
    }
    let dir = crate::store::account_dir(&account.name)?;
    Ok(Some(SentCopies::new(dir.join("sent-copies"))))
}

/// The IMAP session for the copies, opened while the message was being submitted (see
/// [`beside`]), or why it could not be; and when.
pub struct Ahead {
    session: Result<imap::Session, Failure>,
    opened: Instant,
}

/// How long a session opened ahead is used after it was opened: a submission that took
/// longer may have outlasted a server's patience with a silent client, and the copy
/// gets a session of its own rather than an APPEND over a connection the server let go.
const FRESH_FOR: Duration = Duration::from_secs(60);

/// Runs `submission` with the copies' IMAP session opening beside it, so that the copy
/// does not wait for a connection and login of its own after it: only where copies are
/// kept and the login takes a password (a bearer token's refresh is not raced with the
/// SMTP session's). The session, when `sent` says the submission succeeded; else it is
/// let go, unfinished if need be, so that a failed send does not wait for it.
pub async fn beside<T>(
    account: &Account,
    submission: impl Future<Output = T>,
    sent: impl Fn(&T) -> bool,
) -> (T, Option<Ahead>) {
    let opening = open_ahead(account);
    tokio::pin!(opening, submission);
    let mut opened = None;
    let done = loop {
        tokio::select! {
            done = &mut submission => break done,
            ahead = &mut opening, if opened.is_none() => opened = Some(ahead),
        }
    };
    if !sent(&done) {
        leave(opened.flatten()).await;
        return (done, None);
    }
    let ahead = match opened {
        Some(ahead) => ahead,
        None => opening.await,
    };
    (done, ahead)
}

async fn open_ahead(account: &Account) -> Option<Ahead> {
    let Ok(Some(_)) = waiting(account) else {
        return None;
    };
    let Some(Retrieval::Imap(server)) = &account.retrieval else {
        return None;
    };
    if crate::sasl::Mechanism::of(server.auth).is_some() {
        return None;
    }
    let session = super::imap_session(account).await;
    Some(Ahead {
        session,
        opened: Instant::now(),
    })
}

/// Appends every copy that waits, over `ahead` where it was opened. Never fails the
/// command: what goes wrong is a warning, and the copies wait for the next run.
pub async fn append_waiting(account: &Account, ahead: Option<Ahead>) {
    let Ok(Some(copies)) = waiting(account) else {
        return leave(ahead).await;
    };
    let list = match copies.list() {
        Ok(list) if list.is_empty() => return leave(ahead).await,
        Ok(list) => list,
        Err(e) => {
            tracing::warn!("reading {}: {e}", copies.dir().display());
            return leave(ahead).await;
        }
    };
    match append(account, &copies, list, ahead).await {
        Ok(0) => {}
        Ok(n) => tracing::info!("saved {n} copy(ies) in the Sent mailbox"),
        Err(e) => tracing::warn!(
            "sent, but the copy for the Sent mailbox could not be saved: {e}; it waits in {} and is saved by the next send or `mailer queue flush`",
            copies.dir().display()
        ),
    }
}

async fn append(
    account: &Account,
    copies: &SentCopies,
    list: Vec<Copy>,
    ahead: Option<Ahead>,
) -> Result<usize, Failure> {
    let work = async |session: &mut imap::Session| append_in(session, account, copies, list).await;
    match ahead {
        Some(Ahead { session, opened }) if opened.elapsed() < FRESH_FOR => match session {
            Ok(session) => super::with_session(account, session, work).await,
            Err(e) => Err(e),
        },
        stale => {
            leave(stale).await;
            super::with_imap(account, None, work).await
        }
    }
}

/// Ends a session opened ahead that is not used.
async fn leave(ahead: Option<Ahead>) {
    if let Some(Ahead {
        session: Ok(session),
        ..
    }) = ahead
    {
        session.logout().await;
    }
}

async fn append_in(
    session: &mut imap::Session,
    account: &Account,
    copies: &SentCopies,
    list: Vec<Copy>,
) -> Result<usize, Failure> {
    let io = |e| Failure::io(format!("the Sent copies in {}", copies.dir().display()), e);
    let Some(mailbox) = sent_mailbox(session, account).await? else {
        tracing::debug!("no Sent mailbox to keep copies in: {} dropped", list.len());
        return list
            .iter()
            .try_for_each(|c| copies.remove(c))
            .map(|()| 0)
            .map_err(io);
    };
    let list = not_there_yet(session, &mailbox, copies, list).await?;
    let mut appended = 0;
    for mut copy in list {
        copies.mark_tried(&mut copy).map_err(io)?;
        session.append(&mailbox, "(\\Seen)", &copy.bytes).await?;
        copies.remove(&copy).map_err(io)?;
        appended += 1;
    }
    Ok(appended)
}

/// The copies still to append: those whose APPEND had begun before and that the Sent
/// mailbox holds already are removed.
async fn not_there_yet(
    session: &mut imap::Session,
    mailbox: &MailboxName,
    copies: &SentCopies,
    list: Vec<Copy>,
) -> Result<Vec<Copy>, Failure> {
    if !list.iter().any(|c| c.tried) {
        return Ok(list);
    }
    session.select(mailbox, Access::ReadOnly).await?;
    let mut left = Vec::with_capacity(list.len());
    for copy in list {
        if copy.tried && session.holds_message_id(&copy.message_id).await? {
            tracing::info!("{} is in {mailbox} already", copy.message_id);
            copies.remove(&copy).map_err(|e| {
                Failure::io(format!("removing a Sent copy of {}", copy.message_id), e)
            })?;
        } else {
            left.push(copy);
        }
    }
    session.close_mailbox().await?;
    Ok(left)
}

/// The mailbox copies go to: the account's `sent_mailbox`, else the server's `\Sent`.
async fn sent_mailbox(
    session: &mut imap::Session,
    account: &Account,
) -> Result<Option<MailboxName>, Failure> {
    let gmail = session.offers("X-GM-EXT-1");
    match choose(account.save_sent, account.sent_mailbox.as_deref(), gmail) {
        Where::Named(name) => return Ok(Some(name)),
        Where::Nowhere => {
            tracing::debug!(
                "no copy appended (save_sent = false, or Gmail, which files sent mail itself)"
            );
            return Ok(None);
        }
        Where::MarkedSent => {}
    }
    match session.special_mailbox(SpecialUse::Sent).await? {
        Some(mailbox) => Ok(Some(mailbox)),
        None if account.save_sent == Some(true) => Err(Failure::new(
            Exit::Config,
            format!(
                "save_sent = true, but the server marks no mailbox \\Sent: name one with sent_mailbox = \"NAME\" in [accounts.{}] of {}",
                account.name,
                account.config_path.display()
            ),
        )),
        None => Ok(None),
    }
}

/// Where copies go, by the account's keys and whether the server is Gmail's.
#[derive(Debug, PartialEq, Eq)]
enum Where {
    Named(MailboxName),
    /// The mailbox the server marks `\Sent`.
    MarkedSent,
    Nowhere,
}

fn choose(save_sent: Option<bool>, sent_mailbox: Option<&str>, gmail: bool) -> Where {
    match (save_sent, sent_mailbox) {
        (Some(false), _) => Where::Nowhere,
        (_, Some(name)) => Where::Named(MailboxName::new(name)),
        // Gmail's SMTP server files what it sends in Sent Mail itself: a copy would
        // show twice.
        (None, None) if gmail => Where::Nowhere,
        _ => Where::MarkedSent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_gets_no_copy_unless_asked() {
        assert_eq!(choose(None, None, true), Where::Nowhere);
        assert_eq!(choose(None, None, false), Where::MarkedSent);
        assert_eq!(choose(Some(true), None, true), Where::MarkedSent);
        assert_eq!(
            choose(None, Some("[Gmail]/Sent Mail"), true),
            Where::Named(MailboxName::new("[Gmail]/Sent Mail"))
        );
        assert_eq!(choose(Some(false), Some("Sent"), false), Where::Nowhere);
    }
}
