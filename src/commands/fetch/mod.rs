//! `mailer fetch`: new messages of a mailbox into the account's Maildir, exactly once,
//! over IMAP (`imap`) or POP3 (`pop3`). Both hand messages to the same durable writer
//! (`writer`) and keep their own incremental state.

mod imap;
mod pop3;
mod writer;

use std::path::Path;
use std::time::Duration;

use crate::config::Account;
use crate::error::{Exit, Failure};
use crate::message::parse::Envelope;
use crate::store::{self, lock};

/// What to fetch.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    pub mailbox: String,
    /// Only the newest N of the new messages.
    pub limit: Option<usize>,
    /// Only messages received on or after this day (IMAP date, `1-Nov-2026`).
    pub since: Option<String>,
    /// Set \Seen on the server once a message is stored (IMAP).
    pub mark_seen: bool,
    /// Delete messages from the server once they are stored (POP3).
    pub delete: bool,
}

/// Receives each message once it is durable.
pub trait Sink: Send {
    /// Called once, with how many messages will be downloaded.
    fn start(&mut self, total: usize);
    fn stored(&mut self, envelope: &Envelope);
}

/// What a fetch did.
#[derive(Debug, Default)]
pub struct FetchReport {
    pub stored: usize,
    pub bytes: u64,
    /// Messages recognised as already stored (after a UIDVALIDITY change or a crash).
    pub already_stored: usize,
    /// Messages deleted from the server (POP3 `--delete`).
    pub deleted: usize,
}

/// How long a second run waits for the first before giving up with exit 75.
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// Runs a fetch over the account's IMAP server, or its POP3 server when it has no IMAP
/// section. `sink` hears of every stored message.
pub async fn run(
    account: &Account,
    request: &FetchRequest,
    sink: Box<dyn Sink>,
) -> Result<FetchReport, Failure> {
    if account.imap.is_none() && account.pop3.is_none() {
        return Err(Failure::new(
            Exit::Config,
            format!(
                "{}: account {:?} has neither [accounts.{}.imap] nor [accounts.{}.pop3]: add one",
                account.config_path.display(),
                account.name,
                account.name,
                account.name
            ),
        ));
    }
    let root = account.maildir.clone().ok_or_else(|| {
        Failure::new(
            Exit::Config,
            format!(
                "{}: accounts.{}.maildir is not set: name the directory fetched mail goes to",
                account.config_path.display(),
                account.name
            ),
        )
    })?;
    let state_root = store::state_root().ok_or_else(|| {
        Failure::new(
            Exit::Config,
            "no state directory: set XDG_STATE_HOME or HOME",
        )
    })?;
    let _lock = account_lock(&state_root, &account.name)?;
    if request.delete && account.imap.is_some() {
        return Err(Failure::new(
            Exit::Usage,
            format!(
                "--delete is for POP3 accounts; account {:?} is fetched over IMAP, which keeps mail on the server",
                account.name
            ),
        ));
    }
    match &account.pop3 {
        Some(server) if account.imap.is_none() => {
            pop3::run(account, server, request, &root, &state_root, sink).await
        }
        _ => imap::run(account, request, &root, &state_root, sink).await,
    }
}

/// One fetch per account at a time.
fn account_lock(state_root: &Path, account: &str) -> Result<lock::Lock, Failure> {
    let path = state_root.join(store::path_component(account)).join("lock");
    lock::acquire(&path, LOCK_WAIT).map_err(|e| match e {
        lock::Error::Busy { .. } => Failure::new(Exit::TempFail, e.to_string()),
        lock::Error::Io { .. } => Failure::new(Exit::Io, e.to_string()),
    })
}

fn io_failure(what: impl std::fmt::Display, e: std::io::Error) -> Failure {
    Failure::new(Exit::Io, format!("{what}: {e}"))
}

/// Removes files older than 36 hours from `tmp/`, as the Maildir convention asks: they
/// are leftovers of runs that were killed before committing.
fn clean_stale_tmp(folder: &Path) {
    let Ok(entries) = std::fs::read_dir(folder.join("tmp")) else {
        return;
    };
    let limit = Duration::from_secs(36 * 3600);
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > limit);
        if old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Whether a folder existed before this run: state describes a folder's content, and a
/// folder that is gone (deleted to start over) takes its state with it.
fn folder_exists(folder: &Path) -> bool {
    folder.join("cur").is_dir()
}

/// Turns `2026-11-01` into IMAP's `1-Nov-2026`.
pub fn imap_date(iso: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = iso.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 {
        return None;
    }
    let (y, m, d): (u32, usize, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > days[m - 1] {
        return None;
    }
    Some(format!("{d}-{}-{y}", MONTHS[m - 1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(imap_date("2026-11-01").as_deref(), Some("1-Nov-2026"));
        assert_eq!(imap_date("2026-13-01"), None);
        assert_eq!(imap_date("2026-02-31"), None);
        assert_eq!(imap_date("2024-02-29").as_deref(), Some("29-Feb-2024"));
        assert_eq!(imap_date("yesterday"), None);
    }
}
