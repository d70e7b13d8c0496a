//! Fetch over IMAP: one UID SEARCH finds what is new, one streamed UID FETCH downloads
//! it. State is the UIDVALIDITY and the highest UID below which everything is stored;
//! file names record each message's UID, so a run killed between committing files and
//! saving state stores nothing twice.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures::StreamExt;

use super::writer::{self, Body, Key};
use super::{FetchReport, FetchRequest, Sink, clean_stale_tmp, folder_exists, io_failure};
use crate::config::Account;
use crate::error::{Exit, Failure};
use crate::imap::{self, Session};
use crate::message::parse;
use crate::store::maildir::{self, Folder};
use crate::store::state::{self, MailboxState};

pub async fn run(
    account: &Account,
    request: &FetchRequest,
    root: &Path,
    state_root: &Path,
    sink: Box<dyn Sink>,
) -> Result<FetchReport, Failure> {
    let mut session = crate::commands::imap_session(account).await?;
    let result = fetch_mailbox(&mut session, account, request, root, state_root, sink).await;
    session.logout().await;
    result
}

/// Saves the state of one mailbox.
#[derive(Clone)]
struct StateFile {
    path: PathBuf,
    uidvalidity: u32,
    folder: PathBuf,
}

impl StateFile {
    fn save(&self, last_uid: u32) -> std::io::Result<()> {
        state::save(
            &self.path,
            &MailboxState {
                uidvalidity: self.uidvalidity,
                last_uid,
                folder: self.folder.clone(),
            },
        )
    }
}

async fn fetch_mailbox(
    session: &mut Session,
    account: &Account,
    request: &FetchRequest,
    root: &Path,
    state_root: &Path,
    mut sink: Box<dyn Sink>,
) -> Result<FetchReport, Failure> {
    let inbox = request.mailbox.eq_ignore_ascii_case("INBOX");
    let delimiter = if inbox {
        None
    } else {
        session.delimiter().await?
    };
    // Folders carry the name as the server spells it (modified UTF-7), as Dovecot's own
    // Maildir++ layout does, so Dovecot can serve the folder as it is.
    let folder_path = maildir::folder_path(
        root,
        &imap::encode_mailbox_name(&request.mailbox),
        delimiter,
    )
    .map_err(|e| Failure::new(Exit::Usage, e))?;
    let info = session.select(&request.mailbox, !request.mark_seen).await?;
    let existed = folder_exists(&folder_path);
    let folder = Folder::open(&folder_path, !inbox)
        .map_err(|e| io_failure(format!("opening Maildir {}", folder_path.display()), e))?;
    clean_stale_tmp(&folder_path);

    let state_file = StateFile {
        path: state::path(
            state_root,
            &account.name,
            "imap",
            if inbox { "INBOX" } else { &request.mailbox },
        ),
        uidvalidity: info.uidvalidity,
        folder: folder_path.clone(),
    };
    let saved = match state::load::<MailboxState>(&state_file.path) {
        Ok(s) => s.filter(|s| existed && s.folder == folder_path),
        Err(e) => {
            tracing::warn!("{e}; recovering from the Maildir's file names");
            None
        }
    };
    let entries = folder
        .scan()
        .map_err(|e| io_failure(format!("reading Maildir {}", folder_path.display()), e))?;
    let have: HashSet<u32> = entries
        .iter()
        .filter(|e| e.uidvalidity == Some(info.uidvalidity))
        .filter_map(|e| e.uid)
        .collect();
    let known_last = match &saved {
        Some(s) if s.uidvalidity == info.uidvalidity => s.last_uid,
        _ => 0,
    };
    // Files stored under another UIDVALIDITY (or by another program) may hold the same
    // messages under new UIDs: those are matched by Message-ID and size below.
    let foreign: Vec<&maildir::Entry> = entries
        .iter()
        .filter(|e| e.uidvalidity != Some(info.uidvalidity))
        .collect();

    let mut report = FetchReport::default();
    if info.exists == 0 {
        state_file
            .save(known_last)
            .map_err(|e| io_failure("saving state", e))?;
        sink.start(0);
        return Ok(report);
    }
    let mut query = format!("UID {}:*", known_last.saturating_add(1));
    if let Some(since) = &request.since {
        query.push_str(&format!(" SINCE {since}"));
    }
    let found = session.search(&query).await?;
    // "N:*" matches the last message even when its UID is below N.
    let mut wanted: Vec<u32> = found
        .iter()
        .copied()
        .filter(|u| *u > known_last && !have.contains(u))
        .collect();
    let highest = found.iter().copied().max().unwrap_or(0).max(known_last);
    report.already_stored = found
        .iter()
        .filter(|u| **u > known_last && have.contains(u))
        .count();
    if let Some(limit) = request.limit {
        let skip = wanted.len().saturating_sub(limit);
        wanted.drain(..skip);
    }

    // Matching is needed once, when the UIDs changed meaning (or nothing is known yet);
    // after that, the state says what is stored.
    let uids_changed = saved
        .as_ref()
        .is_none_or(|s| s.uidvalidity != info.uidvalidity);
    let mut compare_with: HashMap<u32, Vec<PathBuf>> = HashMap::new();
    // Messages found stored under the old UIDVALIDITY count as done for the state, so a
    // run killed after this point does not download them again.
    let mut matched: Vec<Key> = Vec::new();
    let to_cover = wanted.clone();
    if uids_changed && !foreign.is_empty() && !wanted.is_empty() {
        let (skip, check) = match_foreign(session, &wanted, &foreign).await?;
        report.already_stored += skip.len();
        wanted.retain(|u| !skip.contains(u));
        matched = skip.iter().map(|u| Key::Uid(*u)).collect();
        compare_with = check;
    }

    sink.start(wanted.len());
    let mut stored_uids: Vec<u32> = Vec::new();
    if !wanted.is_empty() {
        let skip: writer::Skip = Box::new(move |key, body| {
            let Key::Uid(uid) = key else { return false };
            let Some(candidates) = compare_with.get(uid) else {
                return false;
            };
            let lf = maildir::to_lf(body);
            candidates
                .iter()
                .any(|p| std::fs::read(p).is_ok_and(|local| local == lf))
        });
        // The state may advance to the highest UID below which every wanted message is
        // durable (stored, or found to be stored already).
        let mut mark = Watermark::new(to_cover, known_last);
        mark.done(matched.iter());
        let progress = Arc::new(Mutex::new(mark));
        let on_commit = {
            let progress = progress.clone();
            let state_file = state_file.clone();
            move |stored: &[Key], skipped: &[Key]| {
                let mark = {
                    let mut p = progress.lock().unwrap_or_else(|e| e.into_inner());
                    p.done(stored.iter().chain(skipped))
                };
                state_file.save(mark)
            }
        };
        let (sender, handle) = writer::start(
            folder,
            sink,
            request.mailbox.clone(),
            Some(info.uidvalidity),
            skip,
            on_commit,
        );
        let network = download(session, &wanted, request.mark_seen, sender).await;
        let written = handle
            .join()
            .map_err(|_| Failure::new(Exit::Software, "the Maildir writer thread panicked"))?
            .map_err(|e| io_failure("writing to the Maildir", e))?;
        report.stored = written.keys.len();
        report.bytes = written.bytes;
        stored_uids = written
            .keys
            .iter()
            .filter_map(|k| match k {
                Key::Uid(u) => Some(*u),
                Key::Uidl(_) => None,
            })
            .collect();
        network?;
    }

    if request.mark_seen && !stored_uids.is_empty() {
        stored_uids.sort_unstable();
        session
            .add_flags(&imap::uid_set(&stored_uids), "\\Seen")
            .await?;
    }
    state_file
        .save(highest)
        .map_err(|e| io_failure("saving state", e))?;
    Ok(report)
}

/// Tracks the highest UID below which every wanted message is done.
struct Watermark {
    wanted: Vec<u32>,
    done: HashSet<u32>,
    next: usize,
    floor: u32,
}

impl Watermark {
    fn new(wanted: Vec<u32>, floor: u32) -> Self {
        Watermark {
            wanted,
            done: HashSet::new(),
            next: 0,
            floor,
        }
    }

    fn done<'a>(&mut self, keys: impl Iterator<Item = &'a Key>) -> u32 {
        for k in keys {
            if let Key::Uid(u) = k {
                self.done.insert(*u);
            }
        }
        while self.next < self.wanted.len() && self.done.contains(&self.wanted[self.next]) {
            self.next += 1;
        }
        match self.next {
            0 => self.floor,
            n => self.wanted[n - 1].max(self.floor),
        }
    }
}

/// Streams the wanted messages to the writer.
async fn download(
    session: &mut Session,
    wanted: &[u32],
    mark_seen: bool,
    sender: writer::Sender,
) -> Result<(), Failure> {
    let set = imap::uid_set(wanted);
    let mut stream = Box::pin(
        session
            .fetch(&set, "(UID FLAGS RFC822.SIZE BODY.PEEK[])")
            .await?,
    );
    while let Some(item) = stream.next().await {
        let fetched = item?;
        let (Some(uid), Some(body)) = (fetched.uid(), fetched.body()) else {
            // An unsolicited FETCH (a flag change by another client): not a message.
            continue;
        };
        let size = u64::from(fetched.size().unwrap_or(body.len() as u32));
        let mut flags = fetched.flags();
        // Stored as read when it is about to be marked read on the server.
        if mark_seen && !flags.iter().any(|f| f == "\\Seen") {
            flags.push("\\Seen".to_string());
        }
        if !sender
            .send(Key::Uid(uid), Body::Imap(fetched), flags, size)
            .await
        {
            break;
        }
    }
    Ok(())
}

/// Matches wanted UIDs against files stored under another UIDVALIDITY: the same
/// Message-ID and size means the same message. Returns the UIDs to skip, and for UIDs
/// without a Message-ID, the local files of the same size to compare by content.
async fn match_foreign(
    session: &mut Session,
    wanted: &[u32],
    foreign: &[&maildir::Entry],
) -> Result<(HashSet<u32>, HashMap<u32, Vec<PathBuf>>), Failure> {
    let mut local: HashMap<(String, u64), usize> = HashMap::new();
    let mut by_size: HashMap<u64, Vec<PathBuf>> = HashMap::new();
    for entry in foreign {
        let Some((id, size)) = local_identity(entry) else {
            continue;
        };
        by_size.entry(size).or_default().push(entry.path.clone());
        if let Some(id) = id {
            *local.entry((id, size)).or_default() += 1;
        }
    }
    let headers = session
        .fetch_all(
            &imap::uid_set(wanted),
            "(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])",
        )
        .await?;
    let mut skip = HashSet::new();
    let mut check = HashMap::new();
    for f in headers {
        let (Some(uid), Some(size)) = (f.uid(), f.size()) else {
            continue;
        };
        let size = u64::from(size);
        let id = f
            .header()
            .and_then(|h| parse::envelope_from_headers(h, size).message_id);
        match id {
            Some(id) => {
                if let Some(n) = local.get_mut(&(id, size))
                    && *n > 0
                {
                    *n -= 1;
                    skip.insert(uid);
                }
            }
            None => {
                if let Some(paths) = by_size.get(&size) {
                    check.insert(uid, paths.clone());
                }
            }
        }
    }
    Ok((skip, check))
}

/// The Message-ID and CRLF size of a local file, reading only its header section.
fn local_identity(entry: &maildir::Entry) -> Option<(Option<String>, u64)> {
    use std::io::Read;
    let mut file = std::fs::File::open(&entry.path).ok()?;
    let size = match entry.wire_size {
        Some(s) => s,
        None => {
            let bytes = std::fs::read(&entry.path).ok()?;
            let lf = memchr::memchr_iter(b'\n', &bytes).count() as u64;
            let crlf = memchr::memmem::find_iter(&bytes, b"\r\n").count() as u64;
            bytes.len() as u64 + lf - crlf
        }
    };
    let mut head = vec![0u8; 64 << 10];
    let n = file.read(&mut head).ok()?;
    head.truncate(n);
    if let Some(end) = memchr::memmem::find(&head, b"\n\n") {
        head.truncate(end + 2);
    }
    Some((parse::envelope_from_headers(&head, size).message_id, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watermark_waits_for_gaps() {
        let mut w = Watermark::new(vec![3, 5, 9], 2);
        assert_eq!(w.done([Key::Uid(5)].iter()), 2);
        assert_eq!(w.done([Key::Uid(3)].iter()), 5);
        assert_eq!(w.done([Key::Uid(9)].iter()), 9);
    }
}
