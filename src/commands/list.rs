//! `mailer list`: the newest envelopes of a mailbox, without downloading bodies.

use crate::config::Account;
use crate::error::Failure;
use crate::message::parse::{self, Envelope};

/// Envelopes of the newest `limit` messages of `mailbox`, newest first. Over IMAP: one
/// login, one FETCH by position. Over POP3 (accounts without IMAP): TOP n 0 for each.
pub async fn run(account: &Account, mailbox: &str, limit: u32) -> Result<Vec<Envelope>, Failure> {
    if let (None, Some(server)) = (&account.imap, &account.pop3) {
        if !mailbox.eq_ignore_ascii_case("INBOX") {
            return Err(Failure::new(
                crate::error::Exit::Usage,
                format!(
                    "--mailbox {mailbox:?}: account {:?} uses POP3, which has only the inbox",
                    account.name
                ),
            ));
        }
        return pop3(account, server, limit).await;
    }
    let mut session = super::imap_session(account).await?;
    let result = async {
        let info = session.select(mailbox, true).await?;
        if info.exists == 0 || limit == 0 {
            return Ok(Vec::new());
        }
        let first = info.exists.saturating_sub(limit - 1).max(1);
        let fetched = session
            .fetch_by_position(
                &format!("{first}:*"),
                "(UID FLAGS RFC822.SIZE BODYSTRUCTURE BODY.PEEK[HEADER])",
            )
            .await?;
        let mut envelopes: Vec<Envelope> = fetched
            .iter()
            .filter_map(|f| {
                let uid = f.uid()?;
                let size = u64::from(f.size().unwrap_or(0));
                let mut e = parse::envelope_from_headers(f.header().unwrap_or(b""), size);
                e.id = uid.to_string();
                e.mailbox = mailbox.to_string();
                e.flags = f.flags();
                e.attachments = f.attachments();
                Some(e)
            })
            .collect();
        envelopes.sort_by_key(|e| std::cmp::Reverse(e.id.parse::<u32>().unwrap_or(0)));
        tracing::debug!("listed {} envelopes", envelopes.len());
        Ok::<_, crate::imap::Error>(envelopes)
    }
    .await;
    session.logout().await;
    Ok(result?)
}

async fn pop3(
    account: &Account,
    server: &crate::config::Server,
    limit: u32,
) -> Result<Vec<Envelope>, Failure> {
    let password = super::password_reader(account, server, "pop3");
    let mut session = crate::pop3::Session::open(server, password).await?;
    let sizes = session.list().await?;
    let uidls: std::collections::HashMap<u32, String> = session
        .uidl()
        .await?
        .unwrap_or_default()
        .into_iter()
        .collect();
    let mut out = Vec::new();
    for (n, size) in sizes.iter().rev().take(limit as usize) {
        let header = session.top(*n).await?;
        let mut e = parse::envelope_from_headers(&header, *size);
        e.id = uidls.get(n).cloned().unwrap_or_else(|| n.to_string());
        e.mailbox = "INBOX".to_string();
        out.push(e);
    }
    let _ = session.quit().await;
    Ok(out)
}
