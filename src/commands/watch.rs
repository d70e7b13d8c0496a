//! `mailer watch`: an IMAP IDLE held per watched mailbox; on new mail, the new
//! messages' envelopes (or, with `--fetch`, what `fetch` stored, by its exactly-once
//! path) go to the caller and to `--exec CMD` as JSON on its standard input.
//!
//! It survives what laptops and servers do: a dropped connection, a changed network, a
//! suspend (a connection that went silent fails its read and is made again), a server's
//! BYE. Each reconnect waits longer, 1 s doubling to at most 5 minutes, and is logged
//! at `-v`. SIGTERM and SIGINT end it cleanly: DONE, LOGOUT, exit 0.

use std::time::Duration;

use tokio::sync::watch as signal;

use super::fetch::{FetchRequest, Sink};
use crate::config::{Account, Server};
use crate::error::{Exit, Failure};
use crate::imap::{self, Access, Query, UidSet, Woke};
use crate::mailbox::MailboxName;
use crate::message::parse::Envelope;

/// What to watch and what to do on new mail.
#[derive(Debug, Clone)]
pub struct WatchRequest {
    pub mailboxes: Vec<MailboxName>,
    /// Run through `sh -c`, the new messages as JSON on its standard input.
    pub exec: Option<String>,
    /// Fetch new mail into the Maildir (as `fetch` does) before telling.
    pub fetch: bool,
    /// How often to ask a server without IDLE (NOOP).
    pub poll: Duration,
}

/// An IDLE is renewed this often, within the 29 minutes RFC 2177 allows.
const RENEW: Duration = Duration::from_secs(25 * 60);
/// The longest wait before connecting again.
const MOST_BACKOFF: Duration = Duration::from_secs(300);

/// Watches until SIGTERM or SIGINT; `told` gets each batch of new messages.
pub async fn run(
    account: &Account,
    request: &WatchRequest,
    told: &dyn Fn(&[Envelope]),
) -> Result<(), Failure> {
    let server = account.imap()?;
    if request.fetch {
        account.maildir()?;
    }
    let (stop_tx, stop) = signal::channel(false);
    let signals = async move {
        let _ = until_signal().await;
        let _ = stop_tx.send(true);
    };
    let watching = futures::future::try_join_all(request.mailboxes.iter().map(|mailbox| {
        let watcher = Watcher {
            account,
            server,
            mailbox,
            request,
            told,
            stop: stop.clone(),
        };
        async move { watcher.run().await }
    }));
    tokio::select! {
        done = watching => done.map(|_| ()),
        () = signals => Ok(()),
    }
}

/// Resolves on SIGTERM or SIGINT.
async fn until_signal() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    tracing::info!("asked to stop");
    Ok(())
}

async fn stopped(mut stop: signal::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// One watched mailbox and what to do with its new mail.
struct Watcher<'a> {
    account: &'a Account,
    server: &'a Server,
    mailbox: &'a MailboxName,
    request: &'a WatchRequest,
    told: &'a dyn Fn(&[Envelope]),
    stop: signal::Receiver<bool>,
}

/// What carries over from one connection to the next.
struct Progress {
    /// The mailbox's UIDVALIDITY and the highest UID told of.
    last: Option<(u32, u32)>,
    /// The wait before connecting again.
    backoff: Duration,
}

impl Watcher<'_> {
    /// Session after session, until stopped or a failure no retry can mend.
    async fn run(&self) -> Result<(), Failure> {
        let mut progress = Progress {
            last: None,
            backoff: Duration::from_secs(1),
        };
        loop {
            let failure = match self.session(&mut progress).await {
                Ok(()) => return Ok(()),
                Err(f) => f,
            };
            if !matches!(failure.exit(), Exit::TempFail | Exit::Unavailable) {
                return Err(failure);
            }
            let wait = progress.backoff;
            tracing::info!(
                "{}: {failure}; connecting again in {} s",
                self.mailbox,
                wait.as_secs()
            );
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = stopped(self.stop.clone()) => return Ok(()),
            }
            progress.backoff = (wait * 2).min(MOST_BACKOFF);
        }
    }

    /// One connection: opens the mailbox, tells what arrived since the last one, then
    /// waits for changes until stopped (Ok) or the connection fails.
    async fn session(&self, progress: &mut Progress) -> Result<(), Failure> {
        let (mailbox, request) = (self.mailbox, self.request);
        let expected = super::expected_of(self.account);
        let mut session =
            imap::Session::open_in(self.server, mailbox, Access::ReadOnly, &expected).await?;
        let info = session.select(mailbox, Access::ReadOnly).await?;
        super::remember_capabilities(self.account, &session);
        tracing::info!("watching {mailbox}");
        progress.backoff = Duration::from_secs(1);
        let highest = info.uid_next.map_or(0, |n| n.saturating_sub(1));
        let mut seen_up_to = match progress.last {
            Some((validity, uid)) if validity == info.uidvalidity => uid,
            _ => highest,
        };
        if request.fetch {
            self.tell(Vec::new()).await?;
        }
        let idle = session.offers("IDLE");
        loop {
            progress.last = Some((info.uidvalidity, seen_up_to));
            let new = new_since(&mut session, seen_up_to).await?;
            if let Some(&top) = new.last() {
                seen_up_to = top;
                progress.last = Some((info.uidvalidity, seen_up_to));
                let envelopes = match request.fetch {
                    true => Vec::new(),
                    false => envelopes(&mut session, mailbox, &new).await?,
                };
                self.tell(envelopes).await?;
            }
            let woke = match idle {
                true => {
                    let (back, woke) = session.idle(RENEW, stopped(self.stop.clone())).await?;
                    session = back;
                    woke
                }
                false => poll(&mut session, request.poll, &self.stop).await?,
            };
            if woke == Woke::Stopped {
                session.logout().await;
                return Ok(());
            }
        }
    }

    /// Tells of new mail: with `--fetch`, fetches first and tells what was stored.
    async fn tell(&self, mut envelopes: Vec<Envelope>) -> Result<(), Failure> {
        if self.request.fetch {
            envelopes = fetch(self.account, self.mailbox).await?;
        }
        if envelopes.is_empty() {
            return Ok(());
        }
        (self.told)(&envelopes);
        if let Some(command) = &self.request.exec {
            exec(command, self.account, self.mailbox, &envelopes).await;
        }
        Ok(())
    }
}

/// Waits `every`, then NOOP; or stops.
async fn poll(
    session: &mut imap::Session,
    every: Duration,
    stop: &signal::Receiver<bool>,
) -> Result<Woke, Failure> {
    tokio::select! {
        () = tokio::time::sleep(every) => {}
        () = stopped(stop.clone()) => return Ok(Woke::Stopped),
    }
    session.noop().await?;
    Ok(Woke::Changed)
}

/// The UIDs above `uid`, ascending.
async fn new_since(session: &mut imap::Session, uid: u32) -> Result<Vec<u32>, Failure> {
    let mut found = session
        .search(&Query::uids_from(uid.saturating_add(1)))
        .await?;
    found.retain(|u| *u > uid);
    Ok(found)
}

/// The envelopes of `uids`, oldest first.
async fn envelopes(
    session: &mut imap::Session,
    mailbox: &MailboxName,
    uids: &[u32],
) -> Result<Vec<Envelope>, Failure> {
    let fetched = session.envelopes(&UidSet::from_sorted(uids)).await?;
    let mut list = super::list::newest_first(&fetched, mailbox);
    list.reverse();
    Ok(list)
}

/// `fetch -m MAILBOX`, collecting what it stored.
async fn fetch(account: &Account, mailbox: &MailboxName) -> Result<Vec<Envelope>, Failure> {
    let stored = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let request = FetchRequest {
        mailbox: mailbox.clone(),
        limit: None,
        since: None,
        mark_seen: false,
        delete: false,
    };
    let sink = Box::new(Collect(stored.clone()));
    super::fetch::run(account, &request, sink).await?;
    let stored = std::mem::take(&mut *stored.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(stored)
}

struct Collect(std::sync::Arc<std::sync::Mutex<Vec<Envelope>>>);

impl Sink for Collect {
    fn start(&mut self, _total: usize) {}
    fn stored(&mut self, envelope: &Envelope) {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        all.push(envelope.clone());
    }
    fn notice(&mut self, text: &str) {
        tracing::info!("{text}");
    }
}

/// Runs `command` with the envelopes as JSON on its standard input (an array, one
/// element a line, as `list --json` prints them); its failure is a warning.
async fn exec(command: &str, account: &Account, mailbox: &MailboxName, envelopes: &[Envelope]) {
    use tokio::io::AsyncWriteExt;
    let lines: Vec<String> = envelopes
        .iter()
        .filter_map(|e| serde_json::to_string(e).ok())
        .collect();
    let json = format!("[\n{}\n]\n", lines.join(",\n"));
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("MAILER_ACCOUNT", &account.name)
        .env("MAILER_MAILBOX", mailbox.as_str())
        .stdin(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return tracing::warn!("--exec {command:?}: {e}"),
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(json.as_bytes()).await;
    }
    match child.wait().await {
        Ok(status) if status.success() => {}
        Ok(status) => tracing::warn!("--exec {command:?} ended with {status}"),
        Err(e) => tracing::warn!("--exec {command:?}: {e}"),
    }
}
