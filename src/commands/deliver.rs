//! The delivery pipeline that `send`, `sendmail`, `digest` and `queue flush` share:
//! flush older queued messages, submit, and queue a message the server cannot take now.
//!
//! The policy is written against [`Transport`], so it can be tested with a stub that
//! records what it was given (as lettre's `StubTransport` does) instead of a server.

use std::time::Duration;

use crate::config::Account;
use crate::error::{Exit, Failure};
use crate::message::Outgoing;
use crate::smtp;
use crate::store::outbox::{Outbox, Queued};
use crate::store::{self, lock};

/// Where messages go: an SMTP session, or a stub in tests. (Only used with concrete
/// types, so the futures need not be `Send`.)
#[allow(async_fn_in_trait)]
pub trait Transport {
    async fn send(&mut self, message: &Outgoing) -> Result<(), smtp::Error>;
    /// Several messages, each with its own result, in order; one at a time unless the
    /// transport can do better. The results may stop short, after a temporary failure
    /// or a refused login: the messages past them were not tried.
    async fn send_batch(&mut self, messages: &[&Outgoing]) -> Vec<Result<(), smtp::Error>> {
        let mut results = Vec::with_capacity(messages.len());
        for message in messages {
            let result = self.send(message).await;
            let stop = result.as_ref().is_err_and(smtp::Error::ends_session);
            results.push(result);
            if stop {
                break;
            }
        }
        results
    }
    async fn quit(self);
}

impl Transport for smtp::Session {
    async fn send(&mut self, message: &Outgoing) -> Result<(), smtp::Error> {
        smtp::Session::send(self, message).await
    }

    async fn send_batch(&mut self, messages: &[&Outgoing]) -> Vec<Result<(), smtp::Error>> {
        smtp::Session::send_batch(self, messages).await
    }

    async fn quit(self) {
        smtp::Session::quit(self).await
    }
}

/// The account's outbox, under its state directory; it keeps a copy of what the server
/// accepts when the account saves sent mail ([`super::sent_copies`]).
pub fn outbox(account: &Account) -> Result<Outbox, Failure> {
    let dir = store::account_dir(&account.name)?;
    let outbox = Outbox::new(dir.join("outbox"));
    Ok(match super::sent_copies::waiting(account)? {
        Some(copies) => outbox.keeping_copies(copies),
        None => outbox,
    })
}

/// Keeps the Sent copy of a message the server accepted; a failure costs only the copy.
fn keep_copy(outbox: &Outbox, message: &Outgoing) {
    if let Err(e) = outbox.keep_copy(message) {
        tracing::warn!(
            "{} was sent, but keeping its copy for the Sent mailbox failed: {e}",
            message.message_id
        );
    }
}

/// The lock that keeps two flushes of one outbox from sending a message twice.
fn flush_lock_path(outbox: &Outbox) -> std::path::PathBuf {
    outbox.dir().with_file_name("outbox.lock")
}

/// What a flush did.
#[derive(Debug, Default)]
pub struct FlushReport {
    /// Ids and Message-IDs of the messages the server accepted.
    pub sent: Vec<(String, String)>,
    /// Ids that are still queued, with why.
    pub kept: Vec<(String, String)>,
    /// Whether any of `kept` may go through on a later try (else each was refused for
    /// good and waits for `mailer queue drop`).
    pub retry: bool,
}

/// Messages a flush hands the server in one write, at most: their replies come back
/// together, one round trip for all, and a connection lost before they came sends each
/// of them again on the next flush, so the batch stays small.
pub const BATCH: usize = 10;

/// Bytes of messages after which a batch takes no more: with the message that passes
/// it, the most a flush holds in memory.
const BATCH_BYTES: usize = 4 << 20;

/// Sends queued messages over `transport`, oldest first, in batches; each file is
/// removed only after the server accepted its message, by its own final reply. Stops
/// after the batch with the first temporary failure (the server is struggling) or a
/// refused login, and the rest waits for the next try. At most a batch is read into
/// memory at a time, so a long queue of large messages is never in memory at once.
pub async fn flush_with(transport: &mut impl Transport, outbox: &Outbox) -> FlushReport {
    let mut report = FlushReport::default();
    let ids = match outbox.ids() {
        Ok(ids) => ids,
        Err(e) => {
            let why = format!("reading {}: {e}", outbox.dir().display());
            report.kept.push((String::new(), why));
            return report;
        }
    };
    let mut ids = ids.into_iter().peekable();
    while ids.peek().is_some() {
        let batch = next_batch(&mut ids, outbox, &mut report);
        if report.retry {
            batch
                .into_iter()
                .for_each(|item| not_tried(&mut report, item));
            continue;
        }
        let messages: Vec<&Outgoing> = batch.iter().map(|item| &item.message).collect();
        let mut results = transport.send_batch(&messages).await.into_iter();
        for item in batch {
            match results.next() {
                Some(Ok(())) => sent(&mut report, outbox, item),
                Some(Err(e)) => refused(&mut report, outbox, item, &e),
                None => not_tried(&mut report, item),
            }
        }
    }
    report
}

/// A message left queued untried, after a temporary failure of an earlier one or a
/// refused login.
fn not_tried(report: &mut FlushReport, item: Queued) {
    let why = format!(
        "not tried in this flush, after an earlier message's temporary failure or a refused login (its previous attempt: {})",
        item.error
    );
    report.kept.push((item.id, why));
}

/// The next queued messages, up to [`BATCH`] of them and [`BATCH_BYTES`] (one at least);
/// a file that cannot be read is reported and passed over.
fn next_batch(
    ids: &mut std::iter::Peekable<std::vec::IntoIter<String>>,
    outbox: &Outbox,
    report: &mut FlushReport,
) -> Vec<Queued> {
    let mut batch: Vec<Queued> = Vec::new();
    let mut bytes = 0;
    while batch.len() < BATCH && bytes < BATCH_BYTES {
        let Some(id) = ids.next() else { break };
        match outbox.load(&id) {
            Ok(item) => {
                bytes += item.message.bytes.len();
                batch.push(item);
            }
            Err(e) => report.kept.push((String::new(), e.to_string())),
        }
    }
    batch
}

/// Removes an accepted message from the outbox.
fn sent(report: &mut FlushReport, outbox: &Outbox, item: Queued) {
    keep_copy(outbox, &item.message);
    match outbox.remove(&item.id) {
        Ok(()) => report.sent.push((item.id, item.message.message_id)),
        Err(e) => {
            let why = format!(
                "sent, but removing it from the outbox failed: {e}; drop it with `mailer queue drop {}`",
                item.id
            );
            report.kept.push((item.id, why));
        }
    }
}

/// Records a failed attempt; a permanent refusal says what the user must do.
fn refused(report: &mut FlushReport, outbox: &Outbox, item: Queued, e: &smtp::Error) {
    let mut reason = crate::error::chain(e);
    let _ = outbox.note_failure(&item, &reason);
    if e.ends_session() {
        report.retry = true;
    } else {
        reason.push_str(&format!(
            "; refused for good: fix and resend it, then `mailer queue drop {}`",
            item.id
        ));
    }
    report.kept.push((item.id, reason));
}

/// Why an outbox could not be flushed at all.
#[derive(Debug, thiserror::Error)]
pub enum FlushError {
    /// The server could not be reached or refused the session.
    #[error(transparent)]
    Submit(#[from] smtp::Error),
    /// Another flush of the outbox holds its lock.
    #[error(transparent)]
    Lock(#[from] lock::Error),
    /// The outbox or the state directory could not be used.
    #[error(transparent)]
    Local(#[from] Failure),
}

impl FlushError {
    /// Whether a later flush may succeed.
    pub fn is_temporary(&self) -> bool {
        match self {
            FlushError::Submit(e) => e.is_temporary(),
            FlushError::Lock(e) => matches!(e, lock::Error::Busy { .. }),
            FlushError::Local(_) => false,
        }
    }
}

impl From<FlushError> for Failure {
    fn from(e: FlushError) -> Self {
        match e {
            FlushError::Submit(e) => e.into(),
            FlushError::Lock(e) => e.into(),
            FlushError::Local(f) => f,
        }
    }
}

/// Opens a session and flushes the account's outbox; waits a while for another flush.
/// Then appends the Sent copies that wait, those of this flush and of earlier runs.
pub async fn flush(account: &Account) -> Result<FlushReport, FlushError> {
    let outbox = outbox(account)?;
    let waiting = outbox
        .ids()
        .map_err(|e| Failure::io(format!("reading the outbox {}", outbox.dir().display()), e))?;
    if waiting.is_empty() {
        super::sent_copies::append_waiting(account, None).await;
        return Ok(FlushReport::default());
    }
    let _lock = lock::acquire(&flush_lock_path(&outbox), Duration::from_secs(10)).await?;
    let flushed = async {
        let mut session = super::open_smtp(account).await?;
        let report = flush_with(&mut session, &outbox).await;
        Transport::quit(session).await;
        Ok::<_, FlushError>(report)
    };
    // As for one message (see `deliver`), the copies' IMAP session opens meanwhile.
    let (flushed, ahead) = super::sent_copies::beside(account, flushed, Result::is_ok).await;
    let report = flushed?;
    super::sent_copies::append_waiting(account, ahead).await;
    Ok(report)
}

/// How a message left.
#[derive(Debug)]
pub enum Delivery {
    /// The server accepted it; `flushed` older queued messages went first.
    Sent { flushed: FlushReport },
    /// It waits in the outbox under `id`, because of `reason`; the command ends with
    /// `exit` (75, or 77 when only a new sign-in can let it leave).
    Queued {
        id: String,
        reason: String,
        exit: Exit,
    },
}

/// Submits `message` over the account's SMTP server, first flushing older queued
/// messages over the same connection, then appends the Sent copies of what was sent.
/// A temporary failure queues the message (unless `queue` is false); a permanent one
/// is returned as an error.
pub async fn deliver(
    account: &Account,
    message: &Outgoing,
    queue: bool,
) -> Result<Delivery, Failure> {
    let outbox = outbox(account)?;
    // Where the server allows it, the login goes with the message (one round trip
    // fewer); with queued messages to go first it goes on its own, as for a flush.
    let submitted = async {
        let opened = super::open_smtp_submitting(account).await;
        deliver_over(opened, &outbox, message, queue).await
    };
    // The Sent copy's IMAP session opens meanwhile: after the submission, only the
    // copy's own commands are waited for.
    let sent = |d: &Result<Delivery, Failure>| matches!(d, Ok(Delivery::Sent { .. }));
    let (delivery, ahead) = super::sent_copies::beside(account, submitted, sent).await;
    if sent(&delivery) {
        super::sent_copies::append_waiting(account, ahead).await;
    }
    delivery
}

/// [`deliver`] over a transport that is already open, or failed to open.
pub async fn deliver_over<T: Transport>(
    opened: Result<T, smtp::Error>,
    outbox: &Outbox,
    message: &Outgoing,
    queue: bool,
) -> Result<Delivery, Failure> {
    let mut transport = match opened {
        Ok(t) => t,
        Err(e) if queue && (e.is_temporary() || e.needs_sign_in()) => {
            return enqueue(outbox, message, &e);
        }
        Err(e) => return Err(e.into()),
    };
    // Older messages go first, unless another run is flushing them right now.
    let flushed = match lock::try_acquire(&flush_lock_path(outbox)) {
        Ok(_lock) => flush_with(&mut transport, outbox).await,
        Err(_) => FlushReport::default(),
    };
    let result = transport.send(message).await;
    transport.quit().await;
    match result {
        Ok(()) => {
            keep_copy(outbox, message);
            let n = message.recipients.len();
            tracing::info!(
                "the server took {} for {n} recipient(s)",
                message.message_id
            );
            Ok(Delivery::Sent { flushed })
        }
        Err(e) if queue && e.is_temporary() => enqueue(outbox, message, &e),
        Err(e) => Err(e.into()),
    }
}

/// Queues `message` because of `why`, durably.
fn enqueue(outbox: &Outbox, message: &Outgoing, why: &smtp::Error) -> Result<Delivery, Failure> {
    let reason = crate::error::chain(why);
    match outbox.add(message, &reason) {
        Ok(id) => Ok(Delivery::Queued {
            id,
            reason,
            exit: match why.needs_sign_in() {
                true => Exit::NoPerm,
                false => Exit::TempFail,
            },
        }),
        Err(e) => Err(Failure::new(
            Exit::Io,
            format!(
                "{reason}; and queueing the message in {} failed: {e}",
                outbox.dir().display()
            ),
        )),
    }
}

#[cfg(test)]
mod tests;
