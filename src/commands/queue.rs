//! The outbox in use: queueing a message that cannot be submitted now, and flushing
//! queued messages over one connection per account.

use std::time::Duration;

use crate::config::Account;
use crate::error::{Exit, Failure};
use crate::message::Outgoing;
use crate::smtp::{self, Session};
use crate::store::outbox::{Outbox, Queued};
use crate::store::{self, lock};

/// The account's outbox, under the state directory.
pub fn outbox(account: &Account) -> Result<Outbox, Failure> {
    let root = store::state_root().ok_or_else(|| {
        Failure::new(
            Exit::Config,
            "no state directory: set XDG_STATE_HOME or HOME",
        )
    })?;
    Ok(Outbox::new(
        root.join(store::path_component(&account.name))
            .join("outbox"),
    ))
}

/// One flush at a time per account, so that no queued message is sent twice.
fn flush_lock(outbox: &Outbox, wait: Duration) -> Result<lock::Lock, lock::Error> {
    let path = outbox.dir().with_file_name("outbox.lock");
    lock::acquire(&path, wait)
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

/// Sends queued messages over `session`, oldest first; each file is removed only after
/// the server accepted its message. Stops at the first temporary failure: the server
/// is struggling, and the rest waits for the next try.
pub async fn flush_with(session: &mut Session, outbox: &Outbox) -> FlushReport {
    let mut report = FlushReport::default();
    let items = match outbox.list() {
        Ok(items) => items,
        Err(e) => {
            report.kept.push((
                String::new(),
                format!("reading {}: {e}", outbox.dir().display()),
            ));
            return report;
        }
    };
    let mut stop = false;
    for item in items {
        let item: Queued = match item {
            Ok(i) => i,
            Err(e) => {
                report.kept.push((String::new(), e));
                continue;
            }
        };
        if stop {
            report.kept.push((item.id.clone(), item.error.clone()));
            report.retry = true;
            continue;
        }
        match session.send(&item.message).await {
            Ok(()) => match outbox.remove(&item.id) {
                Ok(()) => report.sent.push((item.id, item.message.message_id)),
                Err(e) => report.kept.push((
                    item.id.clone(),
                    format!("sent, but removing it from the outbox failed: {e}; drop it with `mailer queue drop {}`", item.id),
                )),
            },
            Err(e) => {
                let mut reason = crate::error::one_line(&e.to_string());
                let _ = outbox.note_failure(&item, &reason);
                stop = e.is_temporary();
                report.retry |= stop;
                if !stop {
                    reason.push_str(&format!(
                        "; refused for good: fix and resend it, then `mailer queue drop {}`",
                        item.id
                    ));
                }
                report.kept.push((item.id, reason));
            }
        }
    }
    report
}

/// Opens a session and flushes the account's outbox.
pub async fn flush(account: &Account) -> Result<FlushReport, Failure> {
    let outbox = outbox(account)?;
    match outbox.list() {
        Ok(items) if items.is_empty() => return Ok(FlushReport::default()),
        Ok(_) => {}
        Err(e) => {
            return Err(Failure::new(
                Exit::Io,
                format!("reading the outbox {}: {e}", outbox.dir().display()),
            ));
        }
    }
    let _lock = flush_lock(&outbox, Duration::from_secs(10)).map_err(|e| match e {
        lock::Error::Busy { .. } => Failure::new(Exit::TempFail, e.to_string()),
        lock::Error::Io { .. } => Failure::new(Exit::Io, e.to_string()),
    })?;
    let mut session = super::send::open_smtp(account).await?;
    let report = flush_with(&mut session, &outbox).await;
    session.quit().await;
    Ok(report)
}

/// How a message left.
#[derive(Debug)]
pub enum Delivery {
    /// The server accepted it; `flushed` older queued messages went first.
    Sent { flushed: FlushReport },
    /// It waits in the outbox under `id`, because of `reason`.
    Queued { id: String, reason: String },
}

/// Submits `message`, first flushing older queued messages of the account over the same
/// connection. A temporary failure queues the message (unless `queue` is false); a
/// permanent one is returned as an error.
pub async fn deliver(
    account: &Account,
    message: &Outgoing,
    queue: bool,
) -> Result<Delivery, Failure> {
    let outbox = outbox(account)?;
    let enqueue = |reason: String| -> Result<Delivery, Failure> {
        let id = outbox.add(message, &reason).map_err(|e| {
            Failure::new(
                Exit::Io,
                format!(
                    "{reason}; and queueing the message in {} failed: {e}",
                    outbox.dir().display()
                ),
            )
        })?;
        Ok(Delivery::Queued { id, reason })
    };
    let mut session = match super::send::open_smtp(account).await {
        Ok(s) => s,
        Err(f) if queue && f.exit == Exit::TempFail => return enqueue(f.message),
        Err(f) => return Err(f),
    };
    // Older messages go first, unless another run is flushing them right now.
    let flushed = match flush_lock(&outbox, Duration::ZERO) {
        Ok(_lock) => flush_with(&mut session, &outbox).await,
        Err(_) => FlushReport::default(),
    };
    let result = session.send(message).await;
    session.quit().await;
    match result {
        Ok(()) => Ok(Delivery::Sent { flushed }),
        Err(e) if queue && e.is_temporary() => enqueue(crate::error::one_line(&e.to_string())),
        Err(e) => Err(smtp::Error::into(e)),
    }
}
