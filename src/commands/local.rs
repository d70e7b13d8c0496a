//! `--local`: `list`, `read` and `search` over the account's Maildir, as `fetch` stored
//! it, without the network. Messages are named by the UIDs their file names carry.

use std::path::{Path, PathBuf};

use crate::config::Account;
use crate::date::Day;
use crate::error::{Exit, Failure};
use crate::imap::encode_mailbox_name;
use crate::mailbox::MailboxName;
use crate::message::parse::{self, Envelope, Full};
use crate::query::{Candidate, Expr, Header};
use crate::store::maildir;

/// A stored message, read and parsed.
struct Stored {
    full: Full,
    uid: Option<u32>,
    size: u64,
}

/// The newest `limit` stored messages of `mailbox` after the newest `skip`, newest
/// first (by UID, else by file time).
pub fn list(
    account: &Account,
    mailbox: &MailboxName,
    limit: u32,
    skip: u32,
) -> Result<Vec<Envelope>, Failure> {
    let files = files(account, mailbox)?;
    let shown = files.iter().skip(skip as usize).take(limit as usize);
    Ok(shown.map(|f| read_file(f, mailbox).full.envelope).collect())
}

/// The newest `limit` stored messages of `mailbox` that match `query`, newest first.
pub fn search(
    account: &Account,
    mailbox: &MailboxName,
    query: &Expr,
    limit: u32,
) -> Result<Vec<Envelope>, Failure> {
    if query
        .terms()
        .iter()
        .any(|t| matches!(t, crate::query::Term::Gmail(_)))
    {
        return Err(Failure::new(
            Exit::Usage,
            "gmail:\"…\" is Gmail's own search, which only its servers answer: leave out --local",
        ));
    }
    let mut found = Vec::new();
    for file in files(account, mailbox)? {
        let stored = read_file(&file, mailbox);
        if query.matches(&stored) {
            found.push(stored.full.envelope);
            if found.len() >= limit as usize {
                break;
            }
        }
    }
    Ok(found)
}

/// The stored message of `mailbox` with this UID.
pub fn read(account: &Account, mailbox: &MailboxName, uid: u32) -> Result<Full, Failure> {
    let file = files(account, mailbox)?
        .into_iter()
        .find(|f| f.uid == Some(uid))
        .ok_or_else(|| {
            Failure::new(
                Exit::Data,
                format!("no message with UID {uid} in the local copy of {mailbox}: `mailer list --local -m {mailbox}` shows them, `mailer fetch -m {mailbox}` brings new ones"),
            )
        })?;
    Ok(read_file(&file, mailbox).full)
}

/// A message file with what its name says.
struct File {
    path: PathBuf,
    uid: Option<u32>,
    flags: Vec<String>,
}

/// The message files of `mailbox`'s local folder, newest first.
fn files(account: &Account, mailbox: &MailboxName) -> Result<Vec<File>, Failure> {
    let folder = folder(account.maildir()?, mailbox)?;
    let entries = maildir::Folder::open(&folder, !mailbox.is_inbox())
        .and_then(|f| f.scan())
        .map_err(|e| Failure::io(format!("reading {}", folder.display()), e))?;
    let mut files: Vec<(u32, std::time::SystemTime, File)> = entries
        .into_iter()
        .map(|e| {
            let time = std::fs::metadata(&e.path)
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            let flags = flags_of(&e.path);
            (
                e.uid.unwrap_or(0),
                time,
                File {
                    path: e.path,
                    uid: e.uid,
                    flags,
                },
            )
        })
        .collect();
    files.sort_by_key(|f| std::cmp::Reverse((f.0, f.1)));
    Ok(files.into_iter().map(|(_, _, f)| f).collect())
}

/// The local folder of `mailbox`: the Maildir itself for the INBOX, else the `.Name`
/// folder `fetch` made, whichever hierarchy delimiter the server uses (`/` or `.`).
fn folder(root: &Path, mailbox: &MailboxName) -> Result<PathBuf, Failure> {
    let encoded = encode_mailbox_name(mailbox.as_str());
    let candidates = [Some('/'), Some('.')]
        .into_iter()
        .filter_map(|d| maildir::folder_path(root, mailbox, &encoded, d).ok());
    let found = candidates.into_iter().find(|p| maildir::exists(p));
    found.ok_or_else(|| {
        Failure::new(
            Exit::NoInput,
            format!(
                "no local copy of {mailbox} in {}: `mailer fetch -m {mailbox}` makes one",
                root.display()
            ),
        )
    })
}

/// IMAP's flags of a Maildir file name's info (`:2,FRS`).
fn flags_of(path: &Path) -> Vec<String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let letters = name
        .rsplit_once(":2,")
        .map(|(_, l)| l.to_string())
        .unwrap_or_default();
    letters
        .chars()
        .filter_map(|c| match c {
            'S' => Some("\\Seen"),
            'R' => Some("\\Answered"),
            'F' => Some("\\Flagged"),
            'T' => Some("\\Deleted"),
            'D' => Some("\\Draft"),
            _ => None,
        })
        .map(str::to_string)
        .collect()
}

/// A file read and parsed; one that cannot be read shows as an empty message with its
/// path, so a listing is never cut short.
fn read_file(file: &File, mailbox: &MailboxName) -> Stored {
    // The most of one message mailer reads as one, as `read --file` allows.
    let most = crate::net::limits::MESSAGE_FILE;
    let bytes = std::fs::File::open(&file.path)
        .and_then(|f| {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut std::io::Read::take(f, most), &mut bytes)?;
            Ok(bytes)
        })
        .unwrap_or_default();
    let mut full = parse::full(&bytes);
    let e = &mut full.envelope;
    if let Some(uid) = file.uid {
        e.set_uid(uid);
    }
    e.mailbox = mailbox.to_string();
    e.flags = file.flags.clone();
    e.flags_known = true;
    e.path = Some(file.path.display().to_string());
    Stored {
        full,
        uid: file.uid,
        size: bytes.len() as u64,
    }
}

impl Candidate for Stored {
    fn header(&self, header: Header) -> String {
        let e = &self.full.envelope;
        let people = |list: &[parse::Person]| {
            list.iter()
                .map(|p| {
                    format!(
                        "{} <{}>",
                        p.name.as_deref().unwrap_or(""),
                        p.address.as_deref().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        match header {
            Header::From => people(&e.from),
            Header::To => people(&e.to),
            Header::Cc => people(&e.cc),
            Header::Subject => e.subject.clone().unwrap_or_default(),
        }
    }
    fn body(&self) -> &str {
        self.full.text.as_deref().unwrap_or("")
    }
    fn day(&self) -> Option<Day> {
        Day::parse_iso(self.full.envelope.date.as_deref()?.get(..10)?)
    }
    fn size(&self) -> u64 {
        self.size
    }
    fn has_flag(&self, flag: &str) -> bool {
        self.full.envelope.flags.iter().any(|f| f == flag)
    }
    fn has_attachment(&self) -> bool {
        !self.full.envelope.attachments.is_empty()
    }
    fn uid(&self) -> Option<u32> {
        self.uid
    }
}
