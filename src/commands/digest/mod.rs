//! `mailer digest`: one message summarising what arrived in a mailbox since the last
//! digest, for unattended runs from cron.
//!
//! Guarantees: the digest state advances only after the digest was accepted by the
//! server or durably queued, so a crash in between sends the same digest again at most
//! once and never skips a message; a lock keeps overlapping runs from sending two.
//!
//! - `imap`, `pop3`: what is new, and the state once it is digested.
//! - `render`: the text and HTML summary.

mod imap;
mod pop3;
mod render;

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;

use super::deliver::{Delivery, deliver};
use crate::config::{Account, Retrieval};
use crate::error::{Exit, Failure};
use crate::mailbox::MailboxName;
use crate::message::compose;
use crate::store::{self, lock, state};

/// What to summarise and where to send it.
#[derive(Debug, Clone)]
pub struct DigestRequest {
    pub to: Vec<Mailbox>,
    pub mailbox: MailboxName,
    pub max: usize,
    /// `{date}` and `{count}` are replaced.
    pub subject: String,
    pub send_if_empty: bool,
    pub attach_originals: bool,
}

/// What a digest run did.
#[derive(Debug)]
pub enum Outcome {
    /// Another digest of this mailbox is running; this one did nothing.
    Running(lock::Error),
    /// Nothing new and `--if-empty skip`.
    Skipped,
    Sent {
        count: usize,
        more: usize,
        message_id: String,
    },
    Queued {
        count: usize,
        id: String,
        reason: String,
        exit: Exit,
    },
}

/// A digest state file that cannot be read; starting afresh is the user's call.
#[derive(Debug, thiserror::Error)]
#[error("{0}: remove it to start the digest afresh")]
struct DamagedState(#[source] state::LoadError);

/// A first digest covers this much history.
const FIRST_RUN_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// The state to save once the digest is accepted or queued.
enum Pending {
    Imap(PathBuf, imap::DigestState),
    Pop3(PathBuf, pop3::DigestState),
}

impl Pending {
    fn save(&self) -> Result<(), Failure> {
        let (path, result) = match self {
            Pending::Imap(p, s) => (p, state::save(p, s)),
            Pending::Pop3(p, s) => (p, state::save(p, s)),
        };
        result.map_err(|e| Failure::io(format!("saving digest state {}", path.display()), e))
    }
}

pub async fn run(account: &Account, request: &DigestRequest) -> Result<Outcome, Failure> {
    let account_dir = store::account_dir(&account.name)?;
    let lock_name = format!(
        "digest-{}.lock",
        store::path_component(request.mailbox.as_str())
    );
    let _lock = match lock::try_acquire(&account_dir.join(lock_name)) {
        Ok(l) => l,
        Err(busy @ lock::Error::Busy { .. }) => return Ok(Outcome::Running(busy)),
        Err(e) => return Err(e.into()),
    };
    let (mut messages, more, pending) = collect(account, request, &account_dir).await?;
    // A digest sent to the mailbox it summarises is covered, not listed.
    messages.retain(|m| !m.is_digest());
    if messages.is_empty() && !request.send_if_empty {
        // Remember where this run started, so the next one does not go back a day.
        pending.save()?;
        return Ok(Outcome::Skipped);
    }
    let count = messages.len();
    let layout = render::Layout {
        to: &request.to,
        account: account.email.as_ref(),
        mailbox: &request.mailbox,
        subject: &request.subject,
        attach_originals: request.attach_originals,
    };
    let draft = render::draft(&layout, &messages, more);
    let message = compose::build(draft, &account.email, account.display_name.as_deref())
        .map_err(|e| Failure::with_cause(Exit::Data, e).context("building the digest"))?;
    let delivery = deliver(account, &message, true).await?;
    // Accepted or durably queued: either way these messages have been digested.
    pending.save()?;
    Ok(match delivery {
        Delivery::Sent { .. } => Outcome::Sent {
            count,
            more,
            message_id: message.message_id,
        },
        Delivery::Queued { id, reason, exit } => Outcome::Queued {
            count,
            id,
            reason,
            exit,
        },
    })
}

/// The new messages (at most `max`), how many more wait, and the state to save.
async fn collect(
    account: &Account,
    request: &DigestRequest,
    account_dir: &std::path::Path,
) -> Result<(Vec<render::Item>, usize, Pending), Failure> {
    let damaged = |e| Failure::with_cause(Exit::Data, DamagedState(e));
    let window = render::Window {
        max: request.max,
        first_run_since: crate::date::unix_now() - FIRST_RUN_WINDOW.as_secs() as i64,
    };
    match account.retrieval()? {
        Retrieval::Pop3(_) if !request.mailbox.is_inbox() => Err(
            crate::commands::pop3_has_only_the_inbox(account, &request.mailbox),
        ),
        Retrieval::Pop3(server) => {
            let path = state::path(account_dir, "digest-pop3", &MailboxName::inbox());
            let saved = state::load(&path).map_err(damaged)?;
            let (items, more, next) = pop3::collect(server, saved, window).await?;
            Ok((items, more, Pending::Pop3(path, next)))
        }
        Retrieval::Imap(server) => {
            let path = state::path(account_dir, "digest", &request.mailbox);
            let saved = state::load(&path).map_err(damaged)?;
            let (items, more, next) =
                imap::collect(server, &request.mailbox, saved, window).await?;
            Ok((items, more, Pending::Imap(path, next)))
        }
    }
}
