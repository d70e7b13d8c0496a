//! One module per command: orchestration of the protocol, store and message modules.
//! Commands return reports; printing is `output`'s job. What several commands share is
//! here (sessions) or in a file of its own (`deliver`).

pub mod account;
pub mod answer;
pub mod attachments;
pub mod auth;
pub mod check;
pub mod delete;
pub mod deliver;
pub mod digest;
pub mod drafts;
pub mod fetch;
pub mod flag;
pub mod list;
pub mod local;
pub mod mailboxes;
pub mod queue;
pub mod read;
pub mod search;
pub mod send;
pub mod sendmail;
pub mod sent_copies;
pub mod transfer;
pub mod watch;

use crate::config::Account;
use crate::error::{Exit, Failure};
use crate::{imap, smtp};

/// What the account's last IMAP session lets the next one take for granted: the
/// server's capabilities, so that its greeting need not be waited for.
pub fn expected(hints: &crate::store::hints::Hints) -> imap::Expected {
    imap::Expected {
        capabilities: Some(hints.capabilities.clone()).filter(|c| !c.is_empty()),
        newest_from: None,
        search: None,
        bodies_from: None,
    }
}

/// [`expected`] of the account's saved hints.
pub fn expected_of(account: &Account) -> imap::Expected {
    match crate::store::account_dir(&account.name) {
        Ok(dir) => expected(&crate::store::hints::load(&dir)),
        Err(_) => imap::Expected::default(),
    }
}

/// Keeps what the server said it can do, so that the account's next session need not
/// wait for the greeting ([`expected_of`]).
pub fn remember_capabilities(account: &Account, session: &imap::Session) {
    if let Ok(dir) = crate::store::account_dir(&account.name) {
        remember_capabilities_in(&dir, session);
    }
}

/// [`remember_capabilities`] in the account's state directory `dir`.
pub fn remember_capabilities_in(dir: &std::path::Path, session: &imap::Session) {
    let mut hints = crate::store::hints::load(dir);
    if hints.capabilities != session.capabilities {
        hints.capabilities = session.capabilities.clone();
        crate::store::hints::save(dir, &hints);
    }
}

/// Runs `work` in a logged-in IMAP session of the account, with `mailbox` opened first
/// when one is given (in the login's own write where the server allows); then keeps
/// the server's capabilities for next time and logs out, whatever `work` returned.
pub async fn with_imap<T>(
    account: &Account,
    mailbox: Option<(&crate::mailbox::MailboxName, imap::Access)>,
    work: impl AsyncFnOnce(&mut imap::Session) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let session = match mailbox {
        Some((m, access)) => imap_session_in(account, m, access).await?,
        None => imap_session(account).await?,
    };
    with_session(account, session, async |session| {
        if let Some((m, access)) = mailbox {
            session.select(m, access).await?;
        }
        work(session).await
    })
    .await
}

/// [`with_imap`] over a session opened beforehand.
pub async fn with_session<T>(
    account: &Account,
    mut session: imap::Session,
    work: impl AsyncFnOnce(&mut imap::Session) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let result = work(&mut session).await;
    remember_capabilities(account, &session);
    session.logout().await;
    result
}

/// A logged-in IMAP session for the account.
pub async fn imap_session(account: &Account) -> Result<imap::Session, Failure> {
    if let Ok(crate::config::Retrieval::Pop3(_)) = account.retrieval() {
        return Err(imap_only(account));
    }
    let expected = expected_of(account);
    Ok(imap::Session::open_expecting(account.imap()?, &expected).await?)
}

/// [`imap_session`] for work in `mailbox`, opened in the login's own write where the
/// server allows (the first command must be its `select`).
pub async fn imap_session_in(
    account: &Account,
    mailbox: &crate::mailbox::MailboxName,
    access: imap::Access,
) -> Result<imap::Session, Failure> {
    if let Ok(crate::config::Retrieval::Pop3(_)) = account.retrieval() {
        return Err(imap_only(account));
    }
    let expected = expected_of(account);
    Ok(imap::Session::open_in(account.imap()?, mailbox, access, &expected).await?)
}

fn imap_only(account: &Account) -> Failure {
    Failure::new(
        Exit::Usage,
        format!(
            "account {:?} uses POP3, which has only the inbox, without folders or flags on the server: `mailer list` and `mailer read ID` read it, `mailer fetch` stores it",
            account.name
        ),
    )
}

/// A mailbox other than the inbox asked of a POP3 account, which has only the inbox.
pub fn pop3_has_only_the_inbox(
    account: &Account,
    mailbox: &crate::mailbox::MailboxName,
) -> Failure {
    Failure::new(
        Exit::Usage,
        format!(
            "--mailbox {:?}: account {:?} uses POP3, which has only the inbox",
            mailbox.as_str(),
            account.name
        ),
    )
}

/// An authenticated session on the account's SMTP server. The error stays typed: the
/// caller decides from it whether to queue the message.
pub async fn open_smtp(account: &Account) -> Result<smtp::Session, smtp::Error> {
    smtp::Session::open(account.smtp()?).await
}

/// [`open_smtp`] for a session that submits at once: the login may go with the first
/// message ([`smtp::Session::open_submitting`]).
pub async fn open_smtp_submitting(account: &Account) -> Result<smtp::Session, smtp::Error> {
    smtp::Session::open_submitting(account.smtp()?).await
}
