//! The outbox: messages that could not be submitted yet, one file each, written
//! atomically and durably, removed only after a server accepted them.
//!
//! A file holds a short envelope header, a blank line, then the message exactly as it
//! will be sent:
//!
//! ```text
//! mailer-outbox: 1
//! sender: alice@example.org
//! recipient: bob@example.org
//! message-id: <...>
//! queued: 1795690000
//! attempts: 1
//! error: connecting to smtp.example.org:465: Connection refused
//!
//! From: ...
//! ```

use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use lettre::Address;

use crate::message::Outgoing;

/// One queued message.
#[derive(Debug, Clone)]
pub struct Queued {
    pub id: String,
    pub message: Outgoing,
    /// Seconds since the epoch when it was queued.
    pub queued_at: u64,
    pub attempts: u32,
    /// Why the last attempt failed.
    pub error: String,
}

/// A file of the outbox that cannot be read back as a queued message.
#[derive(Debug, thiserror::Error)]
pub enum Unreadable {
    #[error("{}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("{}: not an outbox file", path.display())]
    NotOutbox { path: PathBuf },
}

/// An account's outbox directory.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
    /// Where a copy of each accepted message waits for the Sent mailbox, if the account
    /// keeps one.
    copies: Option<super::sent::SentCopies>,
}

impl Outbox {
    pub fn new(dir: PathBuf) -> Outbox {
        Outbox { dir, copies: None }
    }

    /// This outbox, keeping a copy of each message the server accepts in `copies`.
    pub fn keeping_copies(mut self, copies: super::sent::SentCopies) -> Outbox {
        self.copies = Some(copies);
        self
    }

    /// Keeps the Sent copy of `message`, which the server just accepted, durably (before
    /// any outbox file of it is removed); nothing when the account keeps none.
    pub fn keep_copy(&self, message: &Outgoing) -> io::Result<()> {
        match &self.copies {
            Some(copies) => copies.add(
                &message.message_id,
                &crate::message::sent_copy::sent_copy(message),
            ),
            None => Ok(()),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Queues `message`, durably; returns its id.
    pub fn add(&self, message: &Outgoing, error: &str) -> io::Result<String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let id = format!(
            "{}{:06}-{:08x}",
            now.as_secs(),
            now.subsec_micros(),
            fastrand::u32(..)
        );
        let item = Queued {
            id: id.clone(),
            message: message.clone(),
            queued_at: now.as_secs(),
            attempts: 1,
            error: error.to_string(),
        };
        self.write(&item)?;
        Ok(id)
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.msg"))
    }

    fn write(&self, item: &Queued) -> io::Result<()> {
        // Queued messages are private mail, Bcc recipients included: owner only.
        super::create_private_dir(&self.dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&self.dir)?.permissions().mode() & 0o777;
            if mode != 0o700 {
                std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))?;
            }
        }
        let mut out = Vec::with_capacity(item.message.bytes.len() + 256);
        out.extend_from_slice(b"mailer-outbox: 1\n");
        out.extend_from_slice(format!("sender: {}\n", item.message.sender).as_bytes());
        for r in &item.message.recipients {
            out.extend_from_slice(format!("recipient: {r}\n").as_bytes());
        }
        out.extend_from_slice(format!("message-id: {}\n", item.message.message_id).as_bytes());
        out.extend_from_slice(format!("queued: {}\n", item.queued_at).as_bytes());
        out.extend_from_slice(format!("attempts: {}\n", item.attempts).as_bytes());
        out.extend_from_slice(
            format!("error: {}\n\n", crate::error::one_line(&item.error)).as_bytes(),
        );
        out.extend_from_slice(&item.message.bytes);
        super::write_atomic(&self.path(&item.id), &out)
    }

    /// Records another failed attempt.
    pub fn note_failure(&self, item: &Queued, error: &str) -> io::Result<()> {
        let mut updated = item.clone();
        updated.attempts += 1;
        updated.error = error.to_string();
        self.write(&updated)
    }

    /// Every queued message, oldest first. Files that cannot be read are reported, not
    /// skipped silently.
    pub fn list(&self) -> io::Result<Vec<Result<Queued, Unreadable>>> {
        Ok(self.ids()?.into_iter().map(|id| self.load(&id)).collect())
    }

    /// The ids of the queued messages, oldest first, without reading the messages.
    pub fn ids(&self) -> io::Result<Vec<String>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut ids: Vec<String> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.strip_suffix(".msg").map(str::to_string)
            })
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// Reads one queued message.
    pub fn load(&self, id: &str) -> Result<Queued, Unreadable> {
        let path = self.path(id);
        match std::fs::read(&path) {
            Ok(bytes) => parse(id, &bytes).ok_or(Unreadable::NotOutbox { path }),
            Err(source) => Err(Unreadable::Read { path, source }),
        }
    }

    /// Removes a message, durably. Called only after the server accepted it (or the
    /// user dropped it).
    pub fn remove(&self, id: &str) -> io::Result<()> {
        std::fs::remove_file(self.path(id))?;
        super::sync_dir(&self.dir)
    }

    /// Whether `id` names a queued message (ids come from users: no paths).
    pub fn contains(&self, id: &str) -> bool {
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && self.path(id).is_file()
    }
}

fn parse(id: &str, bytes: &[u8]) -> Option<Queued> {
    let end = memchr::memmem::find(bytes, b"\n\n")?;
    let head = std::str::from_utf8(&bytes[..end]).ok()?;
    let mut lines = head.lines();
    if lines.next()? != "mailer-outbox: 1" {
        return None;
    }
    let (mut sender, mut recipients, mut message_id) = (None, Vec::new(), String::new());
    let (mut queued_at, mut attempts, mut error) = (0, 0, String::new());
    for line in lines {
        let (key, value) = line.split_once(": ")?;
        match key {
            "sender" => sender = value.parse::<Address>().ok(),
            "recipient" => recipients.push(value.parse::<Address>().ok()?),
            "message-id" => message_id = value.to_string(),
            "queued" => queued_at = value.parse().ok()?,
            "attempts" => attempts = value.parse().ok()?,
            "error" => error = value.to_string(),
            _ => {}
        }
    }
    Some(Queued {
        id: id.to_string(),
        message: Outgoing {
            sender: sender?,
            recipients,
            message_id,
            bytes: bytes[end + 2..].to_vec(),
        },
        queued_at,
        attempts,
        error,
    })
}

#[cfg(test)]
mod tests;
