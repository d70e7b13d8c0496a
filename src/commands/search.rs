//! `mailer search QUERY`: the messages of a mailbox that match a query, shown as `list`
//! shows them. The query is compiled to one UID SEARCH on the server; then the
//! envelopes of the newest `limit` matches are fetched.

use crate::config::{Account, Retrieval};
use crate::error::{Exit, Failure};
use crate::imap::{self, Access, UidSet, Unsupported};
use crate::mailbox::MailboxName;
use crate::message::parse::Envelope;
use crate::query::Expr;

/// The newest `limit` messages of `mailbox` that match `query`, newest first.
pub async fn run(
    account: &Account,
    mailbox: &MailboxName,
    query: &Expr,
    limit: u32,
) -> Result<Vec<Envelope>, Failure> {
    let server = match account.retrieval()? {
        Retrieval::Imap(server) => server,
        Retrieval::Pop3(_) => return Err(pop3_cannot_search(account)),
    };
    let mut expected = super::expected_of(account);
    expected.search = imap::criteria_ahead(query);
    let mut session = imap::Session::open_in(server, mailbox, Access::ReadOnly, &expected).await?;
    let found = matching(&mut session, mailbox, query, limit).await;
    super::remember_capabilities(account, &session);
    session.logout().await;
    found
}

/// The messages a command changes: named by UID, or found by a query.
#[derive(Debug, Clone)]
pub enum Chosen {
    Uids(UidSet),
    Query(Expr),
}

/// The UIDs of the open mailbox that `chosen` names and that are there, ascending: one
/// UID SEARCH either way.
pub async fn chosen(session: &mut imap::Session, chosen: &Chosen) -> Result<Vec<u32>, Failure> {
    match chosen {
        Chosen::Uids(set) => Ok(session.existing(set).await?),
        Chosen::Query(query) => uids(session, query).await,
    }
}

/// The UIDs of the open mailbox's messages that match `query`, ascending.
pub async fn uids(session: &mut imap::Session, query: &Expr) -> Result<Vec<u32>, Failure> {
    session.can_search(query).map_err(unsupported)?;
    Ok(session.find(query).await?)
}

async fn matching(
    session: &mut imap::Session,
    mailbox: &MailboxName,
    query: &Expr,
    limit: u32,
) -> Result<Vec<Envelope>, Failure> {
    session.select(mailbox, Access::ReadOnly).await?;
    let found = uids(session, query).await?;
    tracing::info!("{} messages of {mailbox} match", found.len());
    let newest = &found[found.len().saturating_sub(limit as usize)..];
    if newest.is_empty() {
        return Ok(Vec::new());
    }
    let fetched = session.envelopes(&UidSet::from_sorted(newest)).await?;
    Ok(super::list::newest_first(&fetched, mailbox))
}

fn unsupported(e: Unsupported) -> Failure {
    match e {
        Unsupported::GmailSearch => Failure::new(
            Exit::Usage,
            "gmail:\"…\" is Gmail's own search (X-GM-RAW), which this server does not offer: use the other keys (from:, subject:, since: …)",
        ),
    }
}

fn pop3_cannot_search(account: &Account) -> Failure {
    Failure::new(
        Exit::Usage,
        format!(
            "account {:?} uses POP3, which cannot search on the server: `mailer fetch` the mail, then `mailer search --local`",
            account.name
        ),
    )
}
