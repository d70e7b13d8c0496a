//! One module per command: orchestration of the protocol, store and message modules.
//! Commands return reports; printing is `output`'s job. What several commands share is
//! here (sessions) or in a file of its own (`deliver`).

pub mod account;
pub mod attachments;
pub mod auth;
pub mod check;
pub mod deliver;
pub mod digest;
pub mod fetch;
pub mod flag;
pub mod list;
pub mod mailboxes;
pub mod queue;
pub mod read;
pub mod search;
pub mod send;
pub mod sendmail;

use crate::config::Account;
use crate::error::{Exit, Failure};
use crate::{imap, smtp};

/// What the account's last IMAP session lets the next one take for granted: the
/// server's capabilities, so that its greeting need not be waited for.
pub fn expected(hints: &crate::store::hints::Hints) -> imap::Expected {
    imap::Expected {
        capabilities: Some(hints.capabilities.clone()).filter(|c| !c.is_empty()),
        newest_from: None,
    }
}

/// [`expected`] of the account's saved hints.
pub fn expected_of(account: &Account) -> imap::Expected {
    match crate::store::account_dir(&account.name) {
        Ok(dir) => expected(&crate::store::hints::load(&dir)),
        Err(_) => imap::Expected::default(),
    }
}

/// A logged-in IMAP session for the account.
pub async fn imap_session(account: &Account) -> Result<imap::Session, Failure> {
    if let Ok(crate::config::Retrieval::Pop3(_)) = account.retrieval() {
        return Err(Failure::new(
            Exit::Usage,
            format!(
                "account {:?} uses POP3, which has only the inbox, without folders or flags on the server: `mailer list` and `mailer read ID` read it, `mailer fetch` stores it",
                account.name
            ),
        ));
    }
    Ok(imap::Session::open(account.imap()?).await?)
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
