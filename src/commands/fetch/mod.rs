//! `mailer fetch`: new messages of a mailbox into the account's Maildir, exactly once,
//! over IMAP (`imap`) or POP3 (`pop3`). Both hand messages to the same durable writer
//! (`writer`) and keep their own incremental state.

mod imap;
mod pop3;
mod request;
mod writer;

use std::time::Duration;

use crate::config::{Account, Retrieval};
use crate::error::{Exit, Failure};
use crate::store::{self, lock};

pub use request::{FetchReport, FetchRequest, Sink};

/// How long a second run waits for the first before giving up with exit 75.
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// Runs a fetch over the account's IMAP server, or its POP3 server when it has no IMAP
/// section. `sink` hears of every stored message.
pub async fn run(
    account: &Account,
    request: &FetchRequest,
    sink: Box<dyn Sink>,
) -> Result<FetchReport, Failure> {
    let retrieval = account.retrieval()?;
    let root = account.maildir()?;
    let account_dir = store::account_dir(&account.name)?;
    // One fetch per account at a time.
    let _lock = lock::acquire(&account_dir.join("lock"), LOCK_WAIT).await?;
    let job = request::Job {
        request,
        root,
        account_dir: &account_dir,
    };
    match retrieval {
        Retrieval::Imap(_) if request.delete => Err(Failure::new(
            Exit::Usage,
            format!(
                "--delete is for POP3 accounts; account {:?} is fetched over IMAP, which keeps mail on the server",
                account.name
            ),
        )),
        Retrieval::Imap(server) => imap::run(server, &job, sink).await,
        Retrieval::Pop3(server) => pop3::run(account, server, &job, sink).await,
    }
}
