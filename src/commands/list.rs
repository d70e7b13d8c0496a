//! `mailer list`: the newest envelopes of a mailbox, without downloading bodies.

use crate::config::{Account, Retrieval, Server};
use crate::error::Failure;
use crate::imap::{self, Access};
use crate::mailbox::MailboxName;
use crate::message::parse::{self, Envelope};
use crate::store::hints;

/// Envelopes of the newest `limit` messages of `mailbox` after the newest `skip`, newest
/// first. Over IMAP: one
/// login, one FETCH by position. Over POP3: TOP n 0 for each.
pub async fn run(
    account: &Account,
    mailbox: &MailboxName,
    limit: u32,
    skip: u32,
) -> Result<Vec<Envelope>, Failure> {
    match account.retrieval()? {
        Retrieval::Pop3(_) if !mailbox.is_inbox() => {
            Err(super::pop3_has_only_the_inbox(account, mailbox))
        }
        Retrieval::Pop3(server) => pop3(server, limit, skip).await,
        Retrieval::Imap(server) => {
            let dir = crate::store::account_dir(&account.name).ok();
            let mut hints = dir.as_deref().map(hints::load).unwrap_or_default();
            let mut expected = super::expected(&hints);
            let listed_before = hints.exists.get(mailbox.as_str()).copied();
            expected.newest_from = listed_before
                .filter(|_| skip == 0 && limit > 0)
                .map(|n| n.saturating_sub(limit - 1).max(1));
            let mut session =
                imap::Session::open_in(server, mailbox, Access::ReadOnly, &expected).await?;
            let result = from_imap(&mut session, mailbox, limit, skip).await;
            let capabilities = session.capabilities.clone();
            session.logout().await;
            let (envelopes, exists) = result?;
            // Written only when something changed: a list that learns nothing new
            // costs no file.
            let known = hints.capabilities == capabilities && listed_before == Some(exists);
            if let Some(dir) = dir.filter(|_| !known) {
                hints.capabilities = capabilities;
                hints.exists.insert(mailbox.to_string(), exists);
                hints::save(&dir, &hints);
            }
            Ok(envelopes)
        }
    }
}

async fn from_imap(
    session: &mut imap::Session,
    mailbox: &MailboxName,
    limit: u32,
    skip: u32,
) -> Result<(Vec<Envelope>, u32), imap::Error> {
    let info = session.select(mailbox, Access::ReadOnly).await?;
    if info.exists == 0 || limit == 0 {
        // The envelopes fetched with the login, if any, are read all the same.
        session.newest_envelopes(0, info.exists, skip).await?;
        return Ok((Vec::new(), info.exists));
    }
    let fetched = session.newest_envelopes(limit, info.exists, skip).await?;
    let envelopes = newest_first(&fetched, mailbox);
    tracing::info!("listed {} messages of {mailbox}", envelopes.len());
    Ok((envelopes, info.exists))
}

/// The envelopes of fetched headers (`imap::Session::newest_envelopes`,
/// `imap::Session::envelopes`), highest UID first.
pub(super) fn newest_first(fetched: &[imap::Fetched], mailbox: &MailboxName) -> Vec<Envelope> {
    let mut envelopes: Vec<(u32, Envelope)> = fetched
        .iter()
        .filter_map(|f| {
            let uid = f.uid()?;
            let size = u64::from(f.size().unwrap_or(0));
            let mut e = parse::envelope_from_headers(f.header().unwrap_or(b""), size);
            e.set_uid(uid);
            e.mailbox = mailbox.to_string();
            e.flags = f.flags();
            e.flags_known = true;
            e.attachments = f.attachments();
            Some((uid, e))
        })
        .collect();
    envelopes.sort_by_key(|(uid, _)| std::cmp::Reverse(*uid));
    envelopes.into_iter().map(|(_, e)| e).collect()
}

async fn pop3(server: &Server, limit: u32, skip: u32) -> Result<Vec<Envelope>, Failure> {
    let mut session = crate::pop3::Session::open(server).await?;
    let (sizes, uidls) = session.list_and_uidl().await?;
    let uidls: std::collections::HashMap<u32, String> =
        uidls.unwrap_or_default().into_iter().collect();
    let shown: Vec<(u32, u64)> = sizes
        .iter()
        .rev()
        .skip(skip as usize)
        .take(limit as usize)
        .copied()
        .collect();
    let numbers: Vec<u32> = shown.iter().map(|(n, _)| *n).collect();
    let headers = session.tops(&numbers).await?;
    let mut out = Vec::new();
    for ((n, size), header) in shown.iter().zip(headers) {
        let mut e = parse::envelope_from_headers(&header, *size);
        match uidls.get(n) {
            Some(uidl) => e.set_uidl(uidl),
            // A server without UIDL: the number, which only this session knows.
            None => e.id = n.to_string(),
        }
        e.mailbox = MailboxName::inbox().to_string();
        out.push(e);
    }
    session.leave().await;
    Ok(out)
}
