//! Maildir++ folders: INBOX at the root (`cur/ new/ tmp/`), other mailboxes as `.Name/`,
//! readable as they are by Dovecot, neomutt and mblaze.
//!
//! Writing follows the Maildir protocol with one change for speed: files are written to
//! `tmp/` in batches, the whole batch is made durable with one `syncfs` (per-file fsync
//! on other systems), then renamed into `new/` or `cur/`, and the directories are synced.
//! Only then does the caller advance its state. A crash at any point leaves either a
//! stray file in `tmp/` (ignored by readers) or a complete message in `new/`/`cur/`
//! whose name records its UID, so the next run recognises it and stores no duplicate.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::mailbox::MailboxName;

/// One Maildir folder, opened for writing.
#[derive(Debug)]
pub struct Folder {
    path: PathBuf,
    host: String,
    pid: u32,
    seq: u64,
    /// Reused for each message's LF-converted bytes.
    scratch: Vec<u8>,
}

/// What a stored file's name records about the message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    pub uid: Option<u32>,
    pub uidvalidity: Option<u32>,
    /// A POP3 UIDL, recorded hex-encoded (it may hold any printable character).
    pub uidl: Option<String>,
    /// Maildir flag letters (`DFRST`), sorted.
    pub flags: String,
}

/// A message written to `tmp/`, not yet visible to readers.
#[derive(Debug)]
pub struct Staged {
    tmp: PathBuf,
    dest: PathBuf,
    /// Size of the stored file (LF line ends).
    pub size: u64,
}

/// A message being written to `tmp/` piece by piece, its CRLF line ends turned to LF
/// across the pieces' edges.
pub struct Growing {
    file: io::BufWriter<std::fs::File>,
    tmp: PathBuf,
    size: u64,
    lines: u64,
    /// The last piece ended with CR: whether it ends a line depends on the next.
    cr: bool,
    scratch: Vec<u8>,
}

impl Growing {
    /// Adds the next piece; a failure removes the file.
    pub fn append(&mut self, piece: &[u8]) -> io::Result<()> {
        let mut piece = piece;
        if std::mem::take(&mut self.cr) && piece.first() != Some(&b'\n') {
            self.write_or_remove(b"\r")?;
        }
        if let Some(rest) = piece.strip_suffix(b"\r") {
            piece = rest;
            self.cr = true;
        }
        let mut data = std::mem::take(&mut self.scratch);
        to_lf_into(piece, &mut data);
        let written = self.write_or_remove(&data);
        self.scratch = data;
        written
    }

    /// Gives up on the message: its file is removed.
    pub fn abandon(self) {
        let _ = std::fs::remove_file(&self.tmp);
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)?;
        self.size += bytes.len() as u64;
        self.lines += memchr::memchr_iter(b'\n', bytes).count() as u64;
        Ok(())
    }

    fn write_or_remove(&mut self, bytes: &[u8]) -> io::Result<()> {
        let written = self.write(bytes);
        if written.is_err() {
            let _ = std::fs::remove_file(&self.tmp);
        }
        written
    }
}

impl Staged {
    /// Where the message will be once committed.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Where the message is until then.
    pub fn tmp(&self) -> &Path {
        &self.tmp
    }
}

/// A message file found in a folder.
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: PathBuf,
    pub uid: Option<u32>,
    pub uidvalidity: Option<u32>,
    pub uidl: Option<String>,
    /// The size with CRLF line ends (`W=`), what IMAP calls RFC822.SIZE.
    pub wire_size: Option<u64>,
}

/// A mailbox name that cannot be a Maildir++ folder (`a/b`, `..`, `.hidden`).
#[derive(Debug, thiserror::Error)]
#[error("mailbox {0:?} cannot be stored as a Maildir++ folder")]
pub struct BadFolderName(pub String);

/// Whether a folder exists: state describes a folder's content, and a folder that is
/// gone (deleted to start over) takes its state with it.
pub fn exists(folder: &Path) -> bool {
    folder.join("cur").is_dir()
}

/// Whether a folder holds no message (or is not there): nothing stored in it needs
/// to be matched against the server's messages before new ones are fetched.
pub fn holds_no_mail(folder: &Path) -> bool {
    ["cur", "new"]
        .iter()
        .all(|sub| match std::fs::read_dir(folder.join(sub)) {
            Ok(mut entries) => entries.next().is_none(),
            Err(e) => e.kind() == std::io::ErrorKind::NotFound,
        })
}

/// The folder path of `mailbox` under the Maildir `root`: INBOX is the root itself; other
/// names, `encoded` as the server spells them, use Maildir++'s `.` separator in place of
/// the server's hierarchy `delimiter`.
pub fn folder_path(
    root: &Path,
    mailbox: &MailboxName,
    encoded: &str,
    delimiter: Option<char>,
) -> Result<PathBuf, BadFolderName> {
    if mailbox.is_inbox() {
        return Ok(root.to_path_buf());
    }
    // Servers whose personal mailboxes live under INBOX (Cyrus, Courier: `INBOX.Archive`)
    // get the folders every Maildir++ reader expects (`.Archive`), not `.INBOX.Archive`.
    let under_inbox = delimiter == Some('.')
        && encoded
            .get(..6)
            .is_some_and(|head| head.eq_ignore_ascii_case("INBOX."));
    let mailbox = if under_inbox { &encoded[6..] } else { encoded };
    let name: String = match delimiter {
        Some(d) if d != '.' => mailbox
            .chars()
            .map(|c| if c == d { '.' } else { c })
            .collect(),
        _ => mailbox.to_string(),
    };
    let bad = name.is_empty()
        || name.contains('/')
        || name.contains('\0')
        || name.starts_with('.')
        || name.ends_with('.')
        || name.contains("..");
    if bad {
        return Err(BadFolderName(mailbox.to_string()));
    }
    Ok(root.join(format!(".{name}")))
}

impl Folder {
    /// Opens (creating if needed) the folder at `path`. `subfolder` marks a Maildir++
    /// subfolder with the `maildirfolder` file readers expect.
    pub fn open(path: &Path, subfolder: bool) -> io::Result<Folder> {
        for sub in ["cur", "new", "tmp"] {
            super::create_private_dir(&path.join(sub))?;
        }
        if subfolder {
            let marker = path.join("maildirfolder");
            if !marker.exists() {
                super::private_file()
                    .create(true)
                    .truncate(true)
                    .open(marker)?;
            }
        }
        Ok(Folder {
            path: path.to_path_buf(),
            host: hostname(),
            pid: std::process::id(),
            seq: 0,
            scratch: Vec::new(),
        })
    }

    /// Removes what earlier runs left in `tmp/`: files older than 36 hours, as the
    /// Maildir convention asks, and files of mailer's own naming that a run on this host
    /// left behind when it was killed or hit a full disk (its process is gone).
    pub fn clean_stale_tmp(&self) {
        let Ok(entries) = std::fs::read_dir(self.path.join("tmp")) else {
            return;
        };
        let limit = std::time::Duration::from_secs(36 * 3600);
        for e in entries.flatten() {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > limit);
            let orphan = self.left_by_dead_run(&e.file_name().to_string_lossy());
            if old || orphan {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }

    /// Whether `name` (`secs.MmicrosPpidQseq.host,...`) was written by a mailer on this
    /// host whose process no longer exists.
    fn left_by_dead_run(&self, name: &str) -> bool {
        let mut parts = name.splitn(3, '.');
        let (Some(_), Some(unique), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        let host = rest.split(',').next().unwrap_or("");
        let pid = unique
            .split_once('P')
            .and_then(|(_, p)| p.split_once('Q'))
            .and_then(|(p, _)| p.parse::<u32>().ok());
        match pid {
            Some(pid) if host == self.host && pid != self.pid => !process_exists(pid),
            _ => false,
        }
    }

    /// Removes staged files that will not be committed.
    pub fn discard(&self, batch: &[&Staged]) {
        for s in batch {
            let _ = std::fs::remove_file(&s.tmp);
        }
    }

    /// Writes a message to `tmp/` with LF line ends (the Maildir convention), not yet
    /// synced. `bytes` may use CRLF or LF.
    pub fn stage(&mut self, bytes: &[u8], meta: &Meta) -> io::Result<Staged> {
        let mut data = std::mem::take(&mut self.scratch);
        to_lf_into(bytes, &mut data);
        let lines = memchr::memchr_iter(b'\n', &data).count() as u64;
        let size = data.len() as u64;
        let (tmp, dest) = self.names(meta, size, lines);
        let written = super::private_file()
            .create_new(true)
            .open(&tmp)
            .and_then(|mut file| file.write_all(&data));
        self.scratch = data;
        if let Err(e) = written {
            // A disk that filled up mid-file leaves no partial file behind.
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(Staged { tmp, dest, size })
    }

    /// A unique base name (`secs.MmicrosPpidQseq.host`).
    fn unique(&mut self) -> String {
        self.seq += 1;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        format!(
            "{}.M{}P{}Q{}.{}",
            now.as_secs(),
            now.subsec_micros(),
            self.pid,
            self.seq,
            self.host
        )
    }

    /// The `tmp/` and final names of a message of `size` bytes and `lines` lines.
    fn names(&mut self, meta: &Meta, size: u64, lines: u64) -> (PathBuf, PathBuf) {
        let mut base = self.unique();
        if let (Some(uid), Some(v)) = (meta.uid, meta.uidvalidity) {
            base.push_str(&format!(",U={uid},V={v}"));
        }
        if let Some(uidl) = &meta.uidl {
            base.push_str(",P=");
            for b in uidl.bytes() {
                base.push_str(&format!("{b:02x}"));
            }
        }
        base.push_str(&format!(",S={size},W={}", size + lines));
        let tmp = self.path.join("tmp").join(&base);
        let dest = if meta.flags.is_empty() {
            self.path.join("new").join(&base)
        } else {
            self.path
                .join("cur")
                .join(format!("{base}:2,{}", meta.flags))
        };
        (tmp, dest)
    }

    /// Starts a message that comes in pieces (a large one): written to `tmp/` as the
    /// pieces come, named once it is whole ([`Folder::finish`]).
    pub fn begin(&mut self) -> io::Result<Growing> {
        let tmp = self
            .path
            .join("tmp")
            .join(format!("{},partial", self.unique()));
        let file = super::private_file().create_new(true).open(&tmp)?;
        Ok(Growing {
            file: io::BufWriter::new(file),
            tmp,
            size: 0,
            lines: 0,
            cr: false,
            scratch: Vec::new(),
        })
    }

    /// The message whole: renamed to its `tmp/` name, to be committed as any other.
    pub fn finish(&mut self, mut growing: Growing, meta: &Meta) -> io::Result<Staged> {
        let finished = (|| {
            if growing.cr {
                growing.write(b"\r")?;
            }
            growing.file.flush()
        })();
        if let Err(e) = finished {
            let _ = std::fs::remove_file(&growing.tmp);
            return Err(e);
        }
        let (tmp, dest) = self.names(meta, growing.size, growing.lines);
        if let Err(e) = std::fs::rename(&growing.tmp, &tmp) {
            let _ = std::fs::remove_file(&growing.tmp);
            return Err(e);
        }
        let size = growing.size;
        Ok(Staged { tmp, dest, size })
    }

    /// Makes a batch durable and visible: sync the data, rename into place, sync the
    /// directories. Returns when every message of the batch survives a crash.
    pub fn commit(&self, batch: &[&Staged]) -> io::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        sync_files(
            &self.path.join("tmp"),
            batch.iter().map(|s| s.tmp.as_path()),
        )?;
        for s in batch {
            std::fs::rename(&s.tmp, &s.dest)?;
        }
        super::sync_dir(&self.path.join("new"))?;
        super::sync_dir(&self.path.join("cur"))
    }

    /// Every message file in `new/` and `cur/`.
    pub fn scan(&self) -> io::Result<Vec<Entry>> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            for entry in std::fs::read_dir(self.path.join(sub))? {
                let entry = entry?;
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.starts_with('.') {
                    continue;
                }
                let base = name.split(':').next().unwrap_or("");
                let field = |key: &str| -> Option<u64> {
                    base.split(',')
                        .skip(1)
                        .find_map(|f| f.strip_prefix(key)?.parse().ok())
                };
                let uidl = base
                    .split(',')
                    .skip(1)
                    .find_map(|f| f.strip_prefix("P="))
                    .and_then(unhex);
                out.push(Entry {
                    path: entry.path(),
                    uid: field("U=").and_then(|v| u32::try_from(v).ok()),
                    uidvalidity: field("V=").and_then(|v| u32::try_from(v).ok()),
                    uidl,
                    wire_size: field("W="),
                });
            }
        }
        Ok(out)
    }
}

fn unhex(hex: &str) -> Option<String> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// Makes the data of `files` durable. On Linux one `syncfs` covers the whole batch,
/// far cheaper than an fsync per file; elsewhere each file is synced.
fn sync_files<'a>(dir: &Path, files: impl Iterator<Item = &'a Path>) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let _ = files;
        let d = File::open(dir)?;
        rustix::fs::syncfs(&d).map_err(io::Error::from)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dir;
        for f in files {
            File::open(f)?.sync_all()?;
        }
        Ok(())
    }
}

/// Whether a process with this id runs on this host.
fn process_exists(pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    {
        Path::new("/proc").join(pid.to_string()).exists()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        true
    }
}

/// CRLF to LF; lone CRs are kept as they are.
pub fn to_lf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    to_lf_into(bytes, &mut out);
    out
}

/// [`to_lf`] into a reused buffer (cleared first), sparing an allocation per message.
pub fn to_lf_into(bytes: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.reserve(bytes.len());
    let mut start = 0;
    for cr in memchr::memchr_iter(b'\r', bytes) {
        if bytes.get(cr + 1) == Some(&b'\n') {
            out.extend_from_slice(&bytes[start..cr]);
            start = cr + 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

/// The host part of Maildir names, with `/` and `:` escaped as the Maildir spec says.
fn hostname() -> String {
    let raw = hostname::get()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = if raw.is_empty() {
        "localhost".to_string()
    } else {
        raw
    };
    name.replace('/', "\\057")
        .replace(':', "\\072")
        .replace(',', "\\054")
}

/// Maildir flag letters for IMAP system flags, sorted as the spec requires.
pub fn flags_from_imap<'a>(flags: impl Iterator<Item = &'a str>) -> String {
    let mut letters: Vec<char> = flags
        .filter_map(|f| match f.to_ascii_lowercase().as_str() {
            "\\seen" => Some('S'),
            "\\answered" => Some('R'),
            "\\flagged" => Some('F'),
            "\\deleted" => Some('T'),
            "\\draft" => Some('D'),
            _ => None,
        })
        .collect();
    letters.sort_unstable();
    letters.dedup();
    letters.into_iter().collect()
}

#[cfg(test)]
mod tests;
