//! `mailer fetch`: new messages of a mailbox into the account's Maildir, exactly once.
//!
//! The network task streams one `UID FETCH` for every new message; a writer thread stages
//! each message in `tmp/`, commits batches durably (see `store::maildir`), and only then
//! advances the state and reports the messages. A byte budget between the two keeps
//! memory flat whatever the mailbox size.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Account;
use crate::error::{Exit, Failure};
use crate::imap::{self, Fetched, Session};
use crate::message::parse::{self, Envelope};
use crate::store::maildir::{self, Folder, Meta, Staged};
use crate::store::{self, lock, state};

/// What to fetch.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    pub mailbox: String,
    /// Only the newest N of the new messages.
    pub limit: Option<usize>,
    /// Only messages received on or after this day (IMAP date, `1-Nov-2026`).
    pub since: Option<String>,
    /// Set \Seen on the server once a message is stored.
    pub mark_seen: bool,
}

/// Receives each message once it is durable, in UID order within a batch.
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
}

/// Messages in flight between network and disk, at most this many bytes.
const BUDGET_BYTES: usize = 16 << 20;
/// A batch is committed when it reaches this many messages or bytes, or is this old.
const BATCH_MESSAGES: usize = 1000;
const BATCH_BYTES: u64 = 64 << 20;
const BATCH_AGE: Duration = Duration::from_millis(300);
/// How long a second run waits for the first before giving up with exit 75.
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// Runs a fetch. `sink` hears of every stored message.
pub async fn run(
    account: &Account,
    request: &FetchRequest,
    sink: Box<dyn Sink>,
) -> Result<FetchReport, Failure> {
    super::imap_server(account)?;
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
    let lock_path = state_root
        .join(store::path_component(&account.name))
        .join("lock");
    let _lock = lock::acquire(&lock_path, LOCK_WAIT).map_err(|e| match e {
        lock::Error::Busy { .. } => Failure::new(Exit::TempFail, e.to_string()),
        lock::Error::Io { .. } => Failure::new(Exit::Io, e.to_string()),
    })?;

    let mut session = super::imap_session(account).await?;
    let result = fetch_mailbox(&mut session, account, request, &root, &state_root, sink).await;
    session.logout().await;
    result
}

async fn fetch_mailbox(
    session: &mut Session,
    account: &Account,
    request: &FetchRequest,
    root: &std::path::Path,
    state_root: &std::path::Path,
    mut sink: Box<dyn Sink>,
) -> Result<FetchReport, Failure> {
    let inbox = request.mailbox.eq_ignore_ascii_case("INBOX");
    let delimiter = if inbox {
        None
    } else {
        session.delimiter().await?
    };
    let folder_path = maildir::folder_path(root, &request.mailbox, delimiter)
        .map_err(|e| Failure::new(Exit::Usage, e))?;
    let info = session.select(&request.mailbox, !request.mark_seen).await?;
    let io = |what: &str, e: std::io::Error| Failure::new(Exit::Io, format!("{what}: {e}"));
    // State describes a folder's content: a folder that is gone (deleted to start over)
    // takes its state with it.
    let existed = folder_path.join("cur").is_dir();
    let folder = Folder::open(&folder_path, !inbox)
        .map_err(|e| io(&format!("opening Maildir {}", folder_path.display()), e))?;
    clean_stale_tmp(&folder_path);

    let state_path = state::path(state_root, &account.name, "imap", &request.mailbox);
    let saved = match state::load(&state_path) {
        Ok(s) => s.filter(|s| existed && s.folder == folder_path),
        Err(e) => {
            tracing::warn!("{e}; recovering from the Maildir's file names");
            None
        }
    };
    let entries = folder
        .scan()
        .map_err(|e| io(&format!("reading Maildir {}", folder_path.display()), e))?;
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
    let save_state = |last_uid: u32| {
        state::save(
            &state_path,
            &state::MailboxState {
                uidvalidity: info.uidvalidity,
                last_uid,
                folder: folder_path.clone(),
            },
        )
    };

    if info.exists == 0 {
        save_state(known_last).map_err(|e| io("saving state", e))?;
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
    report.already_stored = found.iter().filter(|u| have.contains(u)).count();
    if let Some(limit) = request.limit {
        let skip = wanted.len().saturating_sub(limit);
        wanted.drain(..skip);
    }

    let mut duplicates_of: HashMap<u32, Vec<PathBuf>> = HashMap::new();
    if !foreign.is_empty() && !wanted.is_empty() {
        let (skip, check) = match_foreign(session, &wanted, &foreign).await?;
        report.already_stored += skip.len();
        wanted.retain(|u| !skip.contains(u));
        duplicates_of = check;
    }

    sink.start(wanted.len());
    let mut stored_uids = Vec::new();
    if !wanted.is_empty() {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Item>(1024);
        let writer = Writer {
            folder,
            sink,
            mailbox: request.mailbox.clone(),
            uidvalidity: info.uidvalidity,
            duplicates_of,
        };
        let wanted_for_writer = wanted.clone();
        let state_path2 = state_path.clone();
        let folder_path2 = folder_path.clone();
        let known = known_last;
        let handle = std::thread::spawn(move || {
            writer.run(rx, wanted_for_writer, known, |last_uid| {
                state::save(
                    &state_path2,
                    &state::MailboxState {
                        uidvalidity: info.uidvalidity,
                        last_uid,
                        folder: folder_path2.clone(),
                    },
                )
            })
        });
        let network = stream_messages(session, &wanted, tx).await;
        let written = handle
            .join()
            .map_err(|_| Failure::new(Exit::Software, "the Maildir writer thread panicked"))?;
        let written = written.map_err(|e| io("writing to the Maildir", e))?;
        report.stored = written.uids.len();
        report.bytes = written.bytes;
        stored_uids = written.uids;
        network?;
    }

    if request.mark_seen && !stored_uids.is_empty() {
        stored_uids.sort_unstable();
        session
            .add_flags(&imap::uid_set(&stored_uids), "\\Seen")
            .await?;
    }
    save_state(highest).map_err(|e| io("saving state", e))?;
    Ok(report)
}

/// One message on its way to disk, holding its share of the byte budget.
struct Item {
    fetched: Fetched,
    _permit: OwnedSemaphorePermit,
}

async fn stream_messages(
    session: &mut Session,
    wanted: &[u32],
    tx: SyncSender<Item>,
) -> Result<(), Failure> {
    let budget = Arc::new(Semaphore::new(BUDGET_BYTES >> 10));
    let set = imap::uid_set(wanted);
    let mut stream = Box::pin(
        session
            .fetch(&set, "(UID FLAGS RFC822.SIZE BODY.PEEK[])")
            .await?,
    );
    while let Some(item) = stream.next().await {
        let fetched = item?;
        if fetched.uid().is_none() || fetched.body().is_none() {
            // An unsolicited FETCH (a flag change by another client): not a message.
            continue;
        }
        let kib = (fetched.body().map_or(0, <[u8]>::len) >> 10).clamp(1, BUDGET_BYTES >> 10);
        let permit = budget
            .clone()
            .acquire_many_owned(kib as u32)
            .await
            .map_err(|_| Failure::new(Exit::Software, "byte budget closed"))?;
        if tx
            .send(Item {
                fetched,
                _permit: permit,
            })
            .is_err()
        {
            // The writer stopped on an I/O error; it reports it.
            break;
        }
    }
    Ok(())
}

struct Writer {
    folder: Folder,
    sink: Box<dyn Sink>,
    mailbox: String,
    uidvalidity: u32,
    /// UIDs without Message-ID that may duplicate these local files: compared by content.
    duplicates_of: HashMap<u32, Vec<PathBuf>>,
}

struct Written {
    uids: Vec<u32>,
    bytes: u64,
}

impl Writer {
    /// Stages and commits messages until the channel closes. After each commit, `save`
    /// records the highest UID below which every wanted message is durable.
    fn run(
        mut self,
        rx: Receiver<Item>,
        wanted: Vec<u32>,
        known_last: u32,
        mut save: impl FnMut(u32) -> std::io::Result<()>,
    ) -> std::io::Result<Written> {
        let mut batch: Vec<(Staged, Envelope, u32)> = Vec::new();
        let mut batch_bytes = 0u64;
        let mut oldest: Option<Instant> = None;
        let mut done: HashSet<u32> = HashSet::new();
        let mut watermark_index = 0usize;
        let mut written = Written {
            uids: Vec::new(),
            bytes: 0,
        };
        loop {
            let wait = match oldest {
                Some(t) => BATCH_AGE.saturating_sub(t.elapsed()),
                None => Duration::from_secs(3600),
            };
            let received = rx.recv_timeout(wait);
            let closed = matches!(received, Err(RecvTimeoutError::Disconnected));
            if let Ok(item) = received {
                match self.stage(&item.fetched)? {
                    Some(entry) => {
                        batch_bytes += entry.0.size;
                        oldest.get_or_insert_with(Instant::now);
                        batch.push(entry);
                    }
                    None => {
                        done.extend(item.fetched.uid());
                    }
                }
            }
            let full = batch.len() >= BATCH_MESSAGES || batch_bytes >= BATCH_BYTES;
            let due = oldest.is_some_and(|t| t.elapsed() >= BATCH_AGE);
            if !batch.is_empty() && (full || due || closed) {
                let files: Vec<&Staged> = batch.iter().map(|(s, _, _)| s).collect();
                self.folder.commit(&files)?;
                for (s, mut e, uid) in batch.drain(..) {
                    done.insert(uid);
                    written.uids.push(uid);
                    written.bytes += s.size;
                    e.path = Some(s.dest().display().to_string());
                    self.sink.stored(&e);
                }
                batch_bytes = 0;
                oldest = None;
                while watermark_index < wanted.len() && done.contains(&wanted[watermark_index]) {
                    watermark_index += 1;
                }
                if watermark_index > 0 {
                    save(wanted[watermark_index - 1].max(known_last))?;
                }
            }
            if closed {
                return Ok(written);
            }
        }
    }

    /// Stages one message; `None` when it turns out to be stored already.
    fn stage(&mut self, fetched: &Fetched) -> std::io::Result<Option<(Staged, Envelope, u32)>> {
        let (Some(uid), Some(body)) = (fetched.uid(), fetched.body()) else {
            return Ok(None);
        };
        if let Some(candidates) = self.duplicates_of.get(&uid) {
            let lf = maildir::to_lf(body);
            if candidates
                .iter()
                .any(|p| std::fs::read(p).is_ok_and(|local| local == lf))
            {
                return Ok(None);
            }
        }
        let flags = fetched.flags();
        let meta = Meta {
            uid: Some(uid),
            uidvalidity: Some(self.uidvalidity),
            flags: maildir::flags_from_imap(flags.iter().map(String::as_str)),
        };
        let staged = self.folder.stage(body, &meta)?;
        let mut envelope = parse::summary(body);
        envelope.id = uid.to_string();
        envelope.mailbox = self.mailbox.clone();
        envelope.size = u64::from(fetched.size().unwrap_or(body.len() as u32));
        envelope.flags = flags;
        Ok(Some((staged, envelope, uid)))
    }
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
            let lf = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
            let cr = bytes.windows(2).filter(|w| w == b"\r\n").count() as u64;
            bytes.len() as u64 + lf - cr
        }
    };
    let mut head = vec![0u8; 64 << 10];
    let n = file.read(&mut head).ok()?;
    head.truncate(n);
    if let Some(end) = head.windows(2).position(|w| w == b"\n\n") {
        head.truncate(end + 2);
    }
    Some((parse::envelope_from_headers(&head, size).message_id, size))
}

/// Removes files older than 36 hours from `tmp/`, as the Maildir convention asks: they
/// are leftovers of runs that were killed before committing.
fn clean_stale_tmp(folder: &std::path::Path) {
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
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
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
        assert_eq!(imap_date("yesterday"), None);
    }
}
