//! The disk side of `fetch`, shared by IMAP and POP3: a thread that stages each message
//! in `tmp/`, commits batches durably, and only then tells the caller (who advances its
//! state) and the sink (who prints). A byte budget between network and disk keeps memory
//! flat whatever the mailbox size.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::request::Sink;
use crate::error::{Exit, Failure};
use crate::imap::Fetched;
use crate::message::parse::{self, Envelope};
use crate::store::maildir::{self, Folder, Growing, Meta, Staged};

/// Messages in flight between network and disk, at most this many bytes.
const BUDGET_BYTES: usize = 16 << 20;
/// A batch is committed when it reaches this many messages or bytes, or is this old.
const BATCH_MESSAGES: usize = 1000;
const BATCH_BYTES: u64 = 64 << 20;
const BATCH_AGE: Duration = Duration::from_millis(300);
/// What of a large message its summary (the line `fetch` prints) is read from.
const SUMMARY_BYTES: u64 = 1 << 20;

/// What identifies a message on its server.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Uid(u32),
    Uidl(String),
}

/// A downloaded message's bytes, without copying them out of the protocol's buffer.
pub enum Body {
    Imap(Fetched),
    Bytes(Vec<u8>),
}

impl Body {
    fn bytes(&self) -> &[u8] {
        match self {
            Body::Imap(f) => f.body().unwrap_or(b""),
            Body::Bytes(b) => b,
        }
    }

    /// The memory it holds: a response kept whole holds its buffer, a little more than
    /// the message.
    fn held(&self) -> usize {
        match self {
            Body::Imap(f) => f.held_bytes(),
            Body::Bytes(b) => b.len(),
        }
    }
}

/// What an [`Incoming`] carries: a whole message, or a piece of one too large for one
/// response (see `imap::PIECE`), written to `tmp/` as it comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    Whole,
    First,
    Middle,
    Last,
    /// The rest of the message will not come: what came of it is removed.
    Abandon,
}

/// One message on its way to disk, holding its share of the byte budget.
pub struct Incoming {
    pub key: Key,
    pub body: Body,
    pub flags: Vec<String>,
    /// The size the server reports.
    pub size: u64,
    pub piece: Piece,
    /// The summary of a whole message, made on the network's side (see `send_piece`).
    summary: Option<Envelope>,
    _permit: OwnedSemaphorePermit,
}

/// The network side's end of the channel.
pub struct Sender {
    tx: SyncSender<Incoming>,
    budget: Arc<Semaphore>,
}

impl Sender {
    /// Hands a message to the writer once the budget allows. False when the writer has
    /// stopped (on an I/O error, which it reports).
    pub async fn send(&self, key: Key, body: Body, flags: Vec<String>, size: u64) -> bool {
        self.send_piece(key, body, flags, size, Piece::Whole).await
    }

    /// [`Sender::send`] of a piece of a large message.
    pub async fn send_piece(
        &self,
        key: Key,
        body: Body,
        flags: Vec<String>,
        size: u64,
        piece: Piece,
    ) -> bool {
        // The summary is made here, on the network's thread, which has time to spare: the
        // writer's, busy copying into the page cache, is what bounds a bulk fetch.
        let summary = (piece == Piece::Whole).then(|| parse::summary(body.bytes()));
        let kib = (body.held() >> 10).clamp(1, BUDGET_BYTES >> 10);
        let Ok(permit) = self.budget.clone().acquire_many_owned(kib as u32).await else {
            return false;
        };
        let item = Incoming {
            key,
            body,
            flags,
            size,
            piece,
            summary,
            _permit: permit,
        };
        // The writer drains the channel continuously; the budget, not the channel's
        // capacity, is what holds the network back.
        self.tx.send(item).is_ok()
    }
}

/// The running writer thread.
pub struct Handle(std::thread::JoinHandle<std::io::Result<Written>>);

impl Handle {
    /// Waits for the writer to commit what it was given; its I/O error is the fetch's.
    pub fn finish(self) -> Result<Written, Failure> {
        self.0
            .join()
            .map_err(|_| Failure::new(Exit::Software, "the Maildir writer thread panicked"))?
            .map_err(|e| Failure::io("writing to the Maildir", e))
    }
}

/// What the writer stored.
#[derive(Debug, Default)]
pub struct Written {
    pub keys: Vec<Key>,
    pub bytes: u64,
}

/// Decides per message whether it is already stored (after a UIDVALIDITY change).
pub type Skip = Box<dyn FnMut(&Key, &[u8]) -> bool + Send>;

/// Hears the keys stored, and those found stored already, once a batch is durable.
type OnCommit<'a> = dyn FnMut(&[Key], &[Key]) -> std::io::Result<()> + 'a;

/// Starts the writer thread for `folder`. `on_commit` hears the keys of every batch once
/// it is durable, before the sink does; an error from it stops the writer.
pub fn start(
    folder: Folder,
    mut sink: Box<dyn Sink>,
    mailbox: String,
    uidvalidity: Option<u32>,
    mut skip: Skip,
    mut on_commit: impl FnMut(&[Key], &[Key]) -> std::io::Result<()> + Send + 'static,
) -> (Sender, Handle) {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Incoming>(4096);
    let sender = Sender {
        tx,
        budget: Arc::new(Semaphore::new(BUDGET_BYTES >> 10)),
    };
    let handle = std::thread::spawn(move || {
        let mut w = State {
            folder,
            mailbox,
            uidvalidity,
            growing: HashMap::new(),
        };
        w.run(rx, &mut *sink, &mut skip, &mut on_commit)
    });
    (sender, Handle(handle))
}

/// Messages staged in `tmp/` and not yet committed, with those found stored already.
#[derive(Default)]
struct Batch {
    items: Vec<(Staged, Envelope, Key)>,
    skipped: Vec<Key>,
    bytes: u64,
    oldest: Option<Instant>,
}

impl Batch {
    fn push(&mut self, entry: (Staged, Envelope, Key)) {
        self.bytes += entry.0.size;
        self.items.push(entry);
    }

    fn is_empty(&self) -> bool {
        self.items.is_empty() && self.skipped.is_empty()
    }

    /// Full, or old enough that the user should see progress.
    fn is_due(&self) -> bool {
        let full = self.items.len() >= BATCH_MESSAGES || self.bytes >= BATCH_BYTES;
        let old = self.oldest.is_some_and(|t| t.elapsed() >= BATCH_AGE);
        !self.is_empty() && (full || old)
    }

    fn clear(&mut self) {
        self.items.clear();
        self.skipped.clear();
        self.bytes = 0;
        self.oldest = None;
    }
}

struct State {
    folder: Folder,
    mailbox: String,
    uidvalidity: Option<u32>,
    /// Large messages whose pieces are still coming.
    growing: HashMap<Key, Growing>,
}

impl State {
    fn run(
        &mut self,
        rx: Receiver<Incoming>,
        sink: &mut dyn Sink,
        skip: &mut Skip,
        on_commit: &mut OnCommit<'_>,
    ) -> std::io::Result<Written> {
        let mut batch = Batch::default();
        let mut written = Written::default();
        loop {
            let wait = match batch.oldest {
                Some(t) => BATCH_AGE.saturating_sub(t.elapsed()),
                None => Duration::from_secs(3600),
            };
            let received = rx.recv_timeout(wait);
            let closed = matches!(received, Err(RecvTimeoutError::Disconnected));
            if let Ok(item) = received {
                batch.oldest.get_or_insert_with(Instant::now);
                if let Err(e) = self.receive(item, &mut batch, skip) {
                    // A full disk: keep what fits, then report.
                    self.abandon_growing();
                    self.commit(&mut batch, sink, on_commit, &mut written)?;
                    return Err(e);
                }
            }
            if batch.is_due() || (closed && !batch.is_empty()) {
                self.commit(&mut batch, sink, on_commit, &mut written)?;
            }
            if closed {
                // Pieces still missing: the network side stopped; nothing half-written stays.
                self.abandon_growing();
                return Ok(written);
            }
        }
    }

    /// Makes the batch durable, then tells the caller and the sink. A batch that cannot
    /// be committed leaves nothing of its own in `tmp/`.
    fn commit(
        &mut self,
        batch: &mut Batch,
        sink: &mut dyn Sink,
        on_commit: &mut OnCommit<'_>,
        written: &mut Written,
    ) -> std::io::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let files: Vec<&Staged> = batch.items.iter().map(|(s, _, _)| s).collect();
        if let Err(e) = self.folder.commit(&files) {
            self.folder.discard(&files);
            batch.clear();
            return Err(e);
        }
        let keys: Vec<Key> = batch.items.iter().map(|(_, _, k)| k.clone()).collect();
        on_commit(&keys, &batch.skipped)?;
        for (s, mut e, key) in batch.items.drain(..) {
            written.bytes += s.size;
            written.keys.push(key);
            e.path = Some(s.dest().display().to_string());
            sink.stored(&e);
        }
        batch.clear();
        Ok(())
    }

    /// Takes a message, or a piece of one, toward the batch.
    fn receive(
        &mut self,
        mut item: Incoming,
        batch: &mut Batch,
        skip: &mut Skip,
    ) -> std::io::Result<()> {
        let summary = item.summary.take();
        let bytes = item.body.bytes();
        match item.piece {
            Piece::Whole if skip(&item.key, bytes) => batch.skipped.push(item.key.clone()),
            Piece::Whole => batch.push(self.stage(&item, summary)?),
            Piece::First => {
                let mut growing = self.folder.begin()?;
                growing.append(bytes)?;
                if let Some(old) = self.growing.insert(item.key.clone(), growing) {
                    old.abandon();
                }
            }
            Piece::Middle | Piece::Last => {
                let Some(mut growing) = self.growing.remove(&item.key) else {
                    return Ok(());
                };
                growing.append(bytes)?;
                match item.piece {
                    Piece::Last => batch.push(self.finish(&item, growing)?),
                    _ => {
                        self.growing.insert(item.key.clone(), growing);
                    }
                }
            }
            Piece::Abandon => {
                if let Some(growing) = self.growing.remove(&item.key) {
                    growing.abandon();
                }
            }
        }
        Ok(())
    }

    fn abandon_growing(&mut self) {
        for (_, growing) in self.growing.drain() {
            growing.abandon();
        }
    }

    fn meta(&self, item: &Incoming) -> Meta {
        let (uid, uidl) = match &item.key {
            Key::Uid(u) => (Some(*u), None),
            Key::Uidl(u) => (None, Some(u.clone())),
        };
        Meta {
            uid,
            uidvalidity: self.uidvalidity.filter(|_| uid.is_some()),
            uidl,
            flags: maildir::flags_from_imap(item.flags.iter().map(String::as_str)),
        }
    }

    /// A large message whole: staged, and summarised from its first [`SUMMARY_BYTES`]
    /// (its headers, and the parts that start there).
    fn finish(
        &mut self,
        item: &Incoming,
        growing: Growing,
    ) -> std::io::Result<(Staged, Envelope, Key)> {
        let staged = self.folder.finish(growing, &self.meta(item))?;
        let mut head = Vec::new();
        std::fs::File::open(staged.tmp())
            .and_then(|f| std::io::Read::take(f, SUMMARY_BYTES).read_to_end(&mut head))?;
        let envelope = self.envelope(item, parse::summary(&head));
        Ok((staged, envelope, item.key.clone()))
    }

    fn stage(
        &mut self,
        item: &Incoming,
        summary: Option<Envelope>,
    ) -> std::io::Result<(Staged, Envelope, Key)> {
        let body = item.body.bytes();
        let staged = self.folder.stage(body, &self.meta(item))?;
        let summary = summary.unwrap_or_else(|| parse::summary(body));
        let envelope = self.envelope(item, summary);
        Ok((staged, envelope, item.key.clone()))
    }

    /// What the sink shows of a stored message.
    fn envelope(&self, item: &Incoming, mut envelope: Envelope) -> Envelope {
        match &item.key {
            Key::Uid(u) => envelope.set_uid(*u),
            Key::Uidl(u) => envelope.set_uidl(u),
        }
        envelope.mailbox = self.mailbox.clone();
        envelope.size = item.size;
        envelope.flags = item.flags.clone();
        envelope.flags_known = matches!(item.key, Key::Uid(_));
        envelope
    }
}
