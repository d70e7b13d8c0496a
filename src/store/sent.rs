//! Copies of sent messages waiting to be appended to the account's Sent mailbox: one
//! file each, written durably the moment the SMTP server accepted the message (before
//! an outbox file is removed), removed once the IMAP server holds the copy.
//!
//! A file is renamed from `ID.eml` to `ID.tried` before its first APPEND: an APPEND
//! whose answer was lost may have been stored, so a tried copy is looked for in the
//! Sent mailbox (by its Message-ID) before it is appended again. Never two copies.
//!
//! ```text
//! mailer-sent-copy: 1
//! message-id: <...>
//!
//! Bcc: ...
//! From: ...
//! ```

use std::io;
use std::path::{Path, PathBuf};

/// One copy waiting.
#[derive(Debug, Clone)]
pub struct Copy {
    pub id: String,
    pub message_id: String,
    pub bytes: Vec<u8>,
    /// An APPEND of it was begun before: it may be in the Sent mailbox already.
    pub tried: bool,
}

/// An account's directory of waiting copies.
#[derive(Debug, Clone)]
pub struct SentCopies {
    dir: PathBuf,
}

const FRESH: &str = "eml";
const TRIED: &str = "tried";

impl SentCopies {
    pub fn new(dir: PathBuf) -> SentCopies {
        SentCopies { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Keeps `bytes` (the copy of the message `message_id`), durably.
    pub fn add(&self, message_id: &str, bytes: &[u8]) -> io::Result<()> {
        let id = format!("{}-{:08x}", crate::date::unix_now(), fastrand::u32(..));
        let mut out = Vec::with_capacity(bytes.len() + 96);
        out.extend_from_slice(b"mailer-sent-copy: 1\n");
        let message_id = crate::error::one_line(message_id);
        out.extend_from_slice(format!("message-id: {message_id}\n\n").as_bytes());
        out.extend_from_slice(bytes);
        super::write_atomic(&self.dir.join(format!("{id}.{FRESH}")), &out)
    }

    /// The copies waiting, oldest first; a file that is not one is passed over with a
    /// warning (it is left for the user to look at).
    pub fn list(&self) -> io::Result<Vec<Copy>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut copies = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let tried = match path.extension().and_then(|e| e.to_str()) {
                Some(FRESH) => false,
                Some(TRIED) => true,
                _ => continue,
            };
            let Some(id) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            match std::fs::read(&path).ok().and_then(|b| parse(&b)) {
                Some((message_id, bytes)) => copies.push(Copy {
                    id: id.to_string(),
                    message_id,
                    bytes,
                    tried,
                }),
                None => tracing::warn!(
                    "{}: not a copy of a sent message; left as it is",
                    path.display()
                ),
            }
        }
        copies.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(copies)
    }

    /// Records, durably, that an APPEND of `copy` is about to begin.
    pub fn mark_tried(&self, copy: &mut Copy) -> io::Result<()> {
        if !copy.tried {
            std::fs::rename(self.path(copy, false), self.path(copy, true))?;
            super::sync_dir(&self.dir)?;
            copy.tried = true;
        }
        Ok(())
    }

    /// Forgets `copy`, durably: the Sent mailbox holds it (or it is not wanted).
    pub fn remove(&self, copy: &Copy) -> io::Result<()> {
        std::fs::remove_file(self.path(copy, copy.tried))?;
        super::sync_dir(&self.dir)
    }

    fn path(&self, copy: &Copy, tried: bool) -> PathBuf {
        let ext = if tried { TRIED } else { FRESH };
        self.dir.join(format!("{}.{ext}", copy.id))
    }
}

fn parse(bytes: &[u8]) -> Option<(String, Vec<u8>)> {
    let end = memchr::memmem::find(bytes, b"\n\n")?;
    let head = std::str::from_utf8(&bytes[..end]).ok()?;
    let mut lines = head.lines();
    if lines.next()? != "mailer-sent-copy: 1" {
        return None;
    }
    let message_id = lines.find_map(|l| l.strip_prefix("message-id: "))?;
    Some((message_id.to_string(), bytes[end + 2..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_wait_until_removed_and_remember_a_begun_append() {
        let dir = tempfile::tempdir().unwrap();
        let copies = SentCopies::new(dir.path().join("sent-copies"));
        assert!(copies.list().unwrap().is_empty());
        copies
            .add("<a@x>", b"Bcc: c@x\r\nFrom: a@x\r\n\r\nhi\r\n")
            .unwrap();
        let mut listed = copies.list().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].message_id, "<a@x>");
        assert_eq!(listed[0].bytes, b"Bcc: c@x\r\nFrom: a@x\r\n\r\nhi\r\n");
        assert!(!listed[0].tried);
        copies.mark_tried(&mut listed[0]).unwrap();
        let again = copies.list().unwrap();
        assert!(again[0].tried);
        copies.remove(&again[0]).unwrap();
        assert!(copies.list().unwrap().is_empty());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(copies.dir())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }
}
