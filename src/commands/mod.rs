//! One module per command: orchestration of the protocol, store and message modules.
//! Commands return reports; printing is `output`'s job.

pub mod attachments;
pub mod digest;
pub mod fetch;
pub mod list;
pub mod mailboxes;
pub mod queue;
pub mod read;
pub mod send;
pub mod sendmail;

use crate::config::{Account, Password, Server};
use crate::error::{Exit, Failure};
use crate::imap::Session;

/// The IMAP section of an account, or a config error naming what to add.
pub fn imap_server(account: &Account) -> Result<&Server, Failure> {
    account.imap.as_ref().ok_or_else(|| {
        Failure::new(
            Exit::Config,
            format!(
                "{}: account {:?} has no [accounts.{}.imap] section: add one with at least host",
                account.config_path.display(),
                account.name,
                account.name
            ),
        )
    })
}

/// A closure that reads the password of `server` only when the server asks for it.
pub fn password_reader(
    account: &Account,
    server: &Server,
    section: &str,
) -> impl FnOnce() -> Result<Option<Password>, String> + use<> {
    let secret = server.secret.clone();
    let key = format!("accounts.{}.{section}", account.name);
    move || match secret {
        Some(s) => s.read().map(Some).map_err(|e| format!("{key}: {e}")),
        None => Ok(None),
    }
}

/// A logged-in IMAP session for the account.
pub async fn imap_session(account: &Account) -> Result<Session, Failure> {
    let server = imap_server(account)?;
    let password = password_reader(account, server, "imap");
    Ok(Session::open(server, password).await?)
}
