//! Fetch over IMAP: one UID SEARCH finds what is new, one streamed UID FETCH downloads
//! it. State is the UIDVALIDITY and the highest UID below which everything is stored;
//! file names record each message's UID, so a run killed between committing files and
//! saving state stores nothing twice.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures::StreamExt;

use super::request::{FetchReport, FetchRequest, Job, Sink};
use super::writer::{self, Body, Key, Piece, Written};
use crate::config::Server;
use crate::error::{Exit, Failure};
use crate::imap::{self, Access, Ahead, MailboxInfo, Session, UidSet};
use crate::message::parse;
use crate::store::maildir::{self, Folder};
use crate::store::state::{self, MailboxState};

pub async fn run(
    server: &Server,
    job: &Job<'_>,
    sink: Box<dyn Sink>,
) -> Result<FetchReport, Failure> {
    // The inbox is opened in the login's write, with the search for what is new since
    // the saved state: nothing else needs asking first (another mailbox's folder name
    // needs the server's hierarchy delimiter). Where the last session left the server's
    // capabilities, its greeting is not waited for either.
    let request = job.request;
    let mut session = match request.mailbox.is_inbox() {
        true => {
            let access = access_for(request);
            let expected = expected_search(job);
            Session::open_in(server, &request.mailbox, access, &expected).await?
        }
        false => Session::open(server).await?,
    };
    let result = fetch_mailbox(&mut session, job, sink).await;
    crate::commands::remember_capabilities_in(job.account_dir, &session);
    session.logout().await;
    result
}

/// The account's hints, and the search `plan` will make if the saved state still
/// holds (the same UIDVALIDITY, the same folder): when it does not, the answer is
/// passed over and the right search made. Where every message above the saved UID
/// will be wanted (no --limit or --since, and a saved state or a folder without mail,
/// so that no stored message needs matching first), the messages are fetched in the
/// same write too; when `plan` finds otherwise, what comes is passed over.
fn expected_search(job: &Job<'_>) -> crate::imap::Expected {
    let request = job.request;
    let saved = state::path(job.account_dir, "imap", &request.mailbox);
    let state = state::load::<MailboxState>(&saved).ok().flatten();
    let after = state.as_ref().map_or(0, |s| s.last_uid);
    let hints = crate::store::hints::load(job.account_dir);
    let mut expected = crate::commands::expected(&hints).with_new_after(after, request.since);
    let all_wanted = request.limit.is_none() && request.since.is_none();
    if all_wanted && (state.is_some() || maildir::holds_no_mail(job.root)) {
        expected.bodies_from = Some(after.saturating_add(1));
    }
    expected
}

/// SELECT when fetched messages are to be marked read, else EXAMINE.
fn access_for(request: &FetchRequest) -> Access {
    match request.mark_seen {
        true => Access::ReadWrite,
        false => Access::ReadOnly,
    }
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
        let state = MailboxState {
            uidvalidity: self.uidvalidity,
            last_uid,
            folder: self.folder.clone(),
        };
        state::save(&self.path, &state)
    }

    fn save_or_fail(&self, last_uid: u32) -> Result<(), Failure> {
        self.save(last_uid)
            .map_err(|e| Failure::io("saving state", e))
    }
}

/// The local side of a mailbox: its folder, its state, and what the folder holds.
struct Local {
    folder: Folder,
    state: StateFile,
    /// Every UID up to this one is stored, as far as the state knows.
    known_last: u32,
    /// UIDs stored under the current UIDVALIDITY, from the file names.
    have: HashSet<u32>,
    /// Files stored under another UIDVALIDITY (or by another program): they may hold the
    /// same messages under new UIDs.
    foreign: Vec<maildir::Entry>,
    /// Whether UIDs changed meaning since the state was saved (or nothing is known).
    uids_changed: bool,
}

async fn fetch_mailbox(
    session: &mut Session,
    job: &Job<'_>,
    mut sink: Box<dyn Sink>,
) -> Result<FetchReport, Failure> {
    let request = job.request;
    let folder_path = local_folder(session, request, job.root).await?;
    let info = session
        .select(&request.mailbox, access_for(request))
        .await?;
    let local = Local::open(&folder_path, request, job.account_dir, info.uidvalidity)?;
    let mut report = FetchReport::default();
    if info.exists == 0 {
        local.state.save_or_fail(local.known_last)?;
        sink.start(0);
        return Ok(report);
    }
    let plan = plan(session, request, &local, &info, &mut report).await?;
    let progress = plan.progress.clone();
    sink.start(plan.wanted.len());
    let state = local.state.clone();
    let mut stored_uids = Vec::new();
    if !plan.wanted.is_empty() {
        let written = download(session, request, local, plan, sink).await?;
        report.stored = written.keys.len();
        report.bytes = written.bytes;
        stored_uids = uids_of(&written.keys);
    }
    // Nothing new to store, or the download stopped early: the rest of what was fetched
    // with the login is read before another command.
    session.pass_over_bodies_ahead().await?;
    if request.mark_seen && !stored_uids.is_empty() {
        stored_uids.sort_unstable();
        session
            .mark_seen(&UidSet::from_sorted(&stored_uids))
            .await?;
    }
    // Only what was asked for and is durable advances the state: a UID the server left
    // out of its FETCH is tried again next run.
    let done = lock(&progress).value();
    state.save_or_fail(done)?;
    Ok(report)
}

/// The Maildir++ folder of the mailbox. Folders carry the name as the server spells it
/// (modified UTF-7), as Dovecot's own layout does, so Dovecot can serve the folder as
/// it is.
async fn local_folder(
    session: &mut Session,
    request: &FetchRequest,
    root: &Path,
) -> Result<PathBuf, Failure> {
    let delimiter = match request.mailbox.is_inbox() {
        true => None,
        false => session.delimiter().await?,
    };
    let encoded = imap::encode_mailbox_name(request.mailbox.as_str());
    maildir::folder_path(root, &request.mailbox, &encoded, delimiter)
        .map_err(|e| Failure::with_cause(Exit::Usage, e))
}

impl Local {
    fn open(
        folder_path: &Path,
        request: &FetchRequest,
        account_dir: &Path,
        uidvalidity: u32,
    ) -> Result<Local, Failure> {
        let shown = folder_path.display();
        let existed = maildir::exists(folder_path);
        let folder = Folder::open(folder_path, !request.mailbox.is_inbox())
            .map_err(|e| Failure::io(format!("opening Maildir {shown}"), e))?;
        folder.clean_stale_tmp();
        let state = StateFile {
            path: state::path(account_dir, "imap", &request.mailbox),
            uidvalidity,
            folder: folder_path.to_path_buf(),
        };
        let saved = match state::load::<MailboxState>(&state.path) {
            Ok(s) => s.filter(|s| existed && s.folder == folder_path),
            Err(e) => {
                tracing::warn!("{e}; recovering from the Maildir's file names");
                None
            }
        };
        let entries = folder
            .scan()
            .map_err(|e| Failure::io(format!("reading Maildir {shown}"), e))?;
        let (current, foreign): (Vec<_>, Vec<_>) = entries
            .into_iter()
            .partition(|e| e.uidvalidity == Some(uidvalidity));
        let same = saved.as_ref().filter(|s| s.uidvalidity == uidvalidity);
        Ok(Local {
            folder,
            state,
            known_last: same.map_or(0, |s| s.last_uid),
            have: current.iter().filter_map(|e| e.uid).collect(),
            foreign,
            uids_changed: same.is_none(),
        })
    }
}

/// What to download, and how far the state may advance as it becomes durable.
struct Plan {
    /// UIDs to download, ascending.
    wanted: Vec<u32>,
    /// For wanted UIDs without a Message-ID: local files of the same size, to compare.
    compare_with: HashMap<u32, Vec<PathBuf>>,
    /// Every new UID, and which of them are done.
    progress: Arc<Mutex<Watermark>>,
}

fn lock(progress: &Mutex<Watermark>) -> std::sync::MutexGuard<'_, Watermark> {
    progress.lock().unwrap_or_else(|e| e.into_inner())
}

/// Searches for new messages and decides which of them to download.
async fn plan(
    session: &mut Session,
    request: &FetchRequest,
    local: &Local,
    info: &MailboxInfo,
    report: &mut FetchReport,
) -> Result<Plan, Failure> {
    let known_last = local.known_last;
    // A search other than the one sent with the login (the state no longer holds)
    // passes over what was fetched with it.
    let new = session.new_uids(known_last, request.since, info).await?;
    let (stored, mut wanted): (Vec<u32>, Vec<u32>) =
        new.iter().partition(|u| local.have.contains(u));
    report.already_stored = stored.len();
    let mut progress = Watermark::new(new, known_last);
    progress.done_uids(&stored);
    if let Some(limit) = request.limit {
        // The older ones are skipped for good, as --limit says.
        let skip = wanted.len().saturating_sub(limit);
        progress.done_uids(&wanted[..skip]);
        wanted.drain(..skip);
    }
    let mut compare_with = HashMap::new();
    // Matching is needed once, when the UIDs changed meaning; after that, the state
    // says what is stored.
    if local.uids_changed && !local.foreign.is_empty() && !wanted.is_empty() {
        session.pass_over_bodies_ahead().await?;
        let (skip, check) = match_foreign(session, &wanted, &local.foreign).await?;
        report.already_stored += skip.len();
        wanted.retain(|u| !skip.contains(u));
        progress.done_uids(&skip.into_iter().collect::<Vec<_>>());
        compare_with = check;
    }
    Ok(Plan {
        wanted,
        compare_with,
        progress: Arc::new(Mutex::new(progress)),
    })
}

/// Downloads `plan.wanted` through the writer thread, advancing the state batch by batch.
async fn download(
    session: &mut Session,
    request: &FetchRequest,
    local: Local,
    plan: Plan,
    sink: Box<dyn Sink>,
) -> Result<Written, Failure> {
    let compare_with = plan.compare_with;
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
    // The state may advance to the highest UID below which every new message is
    // durable (stored, or found to be stored already).
    let progress = plan.progress.clone();
    let state = local.state.clone();
    let on_commit = move |stored: &[Key], skipped: &[Key]| {
        let mut p = lock(&progress);
        state.save(p.done(stored.iter().chain(skipped)))
    };
    let uidvalidity = Some(local.state.uidvalidity);
    let (sender, handle) = writer::start(
        local.folder,
        sink,
        request.mailbox.to_string(),
        uidvalidity,
        skip,
        on_commit,
    );
    let network = stream_to_writer(session, &plan.wanted, request.mark_seen, sender).await;
    let written = handle.finish()?;
    network?;
    Ok(written)
}

fn uids_of(keys: &[Key]) -> Vec<u32> {
    keys.iter()
        .filter_map(|k| match k {
            Key::Uid(u) => Some(*u),
            Key::Uidl(_) => None,
        })
        .collect()
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
        self.value()
    }

    fn done_uids(&mut self, uids: &[u32]) {
        self.done.extend(uids.iter().copied());
    }

    /// The highest UID below which every wanted UID is done.
    fn value(&mut self) -> u32 {
        while self.next < self.wanted.len() && self.done.contains(&self.wanted[self.next]) {
            self.next += 1;
        }
        match self.next {
            0 => self.floor,
            n => self.wanted[n - 1].max(self.floor),
        }
    }
}

/// Streams the wanted messages to the writer: those fetched with the login where they
/// were, else from one UID FETCH. A message larger than one response may hold
/// (`imap::PIECE`) goes as its first piece in the stream, and its other pieces after
/// it, one FETCH each.
async fn stream_to_writer(
    session: &mut Session,
    wanted: &[u32],
    mark_seen: bool,
    sender: writer::Sender,
) -> Result<(), Failure> {
    let mut to = Forward {
        asked: wanted.iter().copied().collect(),
        mark_seen,
        sender,
        large: Vec::new(),
    };
    // What is left for an ordinary UID FETCH: everything, unless it came with the login.
    let mut rest = wanted.to_vec();
    while session.bodies_ahead().is_some() {
        match session.next_body_ahead().await? {
            Ahead::Message(fetched) => {
                if !to.forward(fetched).await {
                    return Ok(());
                }
            }
            Ahead::Done => {
                rest = session.bodies_dropped();
                rest.retain(|u| to.asked.contains(u));
                rest.sort_unstable();
            }
            Ahead::Refused(reply) => {
                tracing::debug!("the UID FETCH sent with the login was refused: {reply}");
            }
        }
    }
    if !rest.is_empty() {
        let mut stream = Box::pin(session.fetch_bodies(&UidSet::from_sorted(&rest)).await?);
        while let Some(item) = stream.next().await {
            if !to.forward(item?).await {
                return Ok(());
            }
        }
    }
    for (uid, got, size, flags) in std::mem::take(&mut to.large) {
        if !rest_of(session, &to.sender, uid, got, size, flags).await? {
            break;
        }
    }
    Ok(())
}

/// Hands fetched messages to the writer.
struct Forward {
    asked: HashSet<u32>,
    mark_seen: bool,
    sender: writer::Sender,
    /// Messages whose first piece went, and the rest is to come: UID, bytes so far,
    /// size and flags.
    large: Vec<(u32, u64, u64, Vec<String>)>,
}

impl Forward {
    /// Hands on one response if it is a message asked for; false once the writer has
    /// stopped.
    async fn forward(&mut self, fetched: imap::Fetched) -> bool {
        let (Some(uid), Some(body)) = (fetched.uid(), fetched.body()) else {
            // An unsolicited FETCH (a flag change by another client): not a message.
            return true;
        };
        if !self.asked.contains(&uid) {
            // Stored already (fetched with the login before the plan knew), or a
            // server's mistake.
            tracing::debug!("passing over message UID {uid}, which is not wanted");
            return true;
        }
        let got = body.len() as u64;
        let size = fetched.size().map_or(got, u64::from);
        let mut flags = fetched.flags();
        // Stored as read when it is about to be marked read on the server.
        if self.mark_seen && !flags.iter().any(|f| f == "\\Seen") {
            flags.push("\\Seen".to_string());
        }
        let piece = match got < size && got >= u64::from(imap::PIECE) {
            true => {
                self.large.push((uid, got, size, flags.clone()));
                Piece::First
            }
            false => Piece::Whole,
        };
        let body = Body::Imap(fetched);
        self.sender
            .send_piece(Key::Uid(uid), body, flags, size, piece)
            .await
    }
}

/// The pieces of message `uid` after its first `got` bytes, up to `size`. A piece the
/// server does not send abandons the message, which the next run fetches again. False
/// when the writer has stopped.
async fn rest_of(
    session: &mut Session,
    sender: &writer::Sender,
    uid: u32,
    mut got: u64,
    size: u64,
    flags: Vec<String>,
) -> Result<bool, Failure> {
    let key = Key::Uid(uid);
    while got < size {
        let len = (size - got).min(u64::from(imap::PIECE)) as u32;
        let fetched = session.body_piece(uid, got, len).await?;
        let n = fetched
            .as_ref()
            .and_then(|f| f.body())
            .map_or(0, <[u8]>::len) as u64;
        let Some(fetched) = fetched.filter(|_| n > 0) else {
            tracing::warn!(
                "message UID {uid}: the server sent {got} of its {size} bytes; trying again next run"
            );
            let nothing = Body::Bytes(Vec::new());
            return Ok(sender
                .send_piece(key, nothing, flags, size, Piece::Abandon)
                .await);
        };
        got += n;
        let piece = if got >= size {
            Piece::Last
        } else {
            Piece::Middle
        };
        let body = Body::Imap(fetched);
        if !sender
            .send_piece(key.clone(), body, flags.clone(), size, piece)
            .await
        {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Matches wanted UIDs against files stored under another UIDVALIDITY: the same
/// Message-ID and size means the same message. Returns the UIDs to skip, and for UIDs
/// without a Message-ID, the local files of the same size to compare by content.
async fn match_foreign(
    session: &mut Session,
    wanted: &[u32],
    foreign: &[maildir::Entry],
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
    let headers = session.message_ids(&UidSet::from_sorted(wanted)).await?;
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
