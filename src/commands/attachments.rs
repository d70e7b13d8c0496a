//! `mailer attachments`: save a message's attachments into a directory, safely.

use std::path::{Path, PathBuf};

use crate::config::Account;
use crate::error::{Exit, Failure};
use crate::mailbox::MailboxName;
use crate::message::parse;
use crate::store::files;

/// Saves every attachment of message `uid` into `dir`; returns the files written.
pub async fn run(
    account: &Account,
    mailbox: &MailboxName,
    id: &str,
    dir: &Path,
) -> Result<Vec<PathBuf>, Failure> {
    if !dir.is_dir() {
        return Err(Failure::new(
            Exit::Usage,
            format!("--dir {}: not a directory; create it first", dir.display()),
        ));
    }
    let (bytes, _) = super::read::fetch_raw(account, mailbox, id).await?;
    let mut saved = Vec::new();
    for (i, (info, content)) in parse::attachment_contents(&bytes).into_iter().enumerate() {
        let name = files::safe_name(info.filename.as_deref(), &format!("attachment-{}", i + 1));
        let path = files::save_new(dir, &name, &content).map_err(|e| {
            Failure::new(Exit::Io, format!("saving {name} in {}: {e}", dir.display()))
        })?;
        saved.push(path);
    }
    Ok(saved)
}
