//! `mailer queue`: list, flush or drop what waits in the outbox, over every account
//! unless one is chosen.

use super::deliver::{self, FlushError, FlushReport};
use crate::config::Account;
use crate::error::{Exit, Failure};
use crate::store::outbox::Queued;

/// Every queued message of `accounts`, with its account's name, oldest first per
/// account. A file that cannot be read is logged and left alone.
pub fn list(accounts: &[Account]) -> Result<Vec<(String, Queued)>, Failure> {
    let mut rows = Vec::new();
    for account in accounts {
        let outbox = deliver::outbox(account)?;
        let items = outbox
            .list()
            .map_err(|e| Failure::io(format!("reading {}", outbox.dir().display()), e))?;
        for item in items {
            match item {
                Ok(q) => rows.push((account.name.clone(), q)),
                Err(e) => tracing::warn!("{e}"),
            }
        }
    }
    Ok(rows)
}

/// What flushing every account did.
#[derive(Debug, Default)]
pub struct FlushAll {
    /// Per account: its report, or why it could not be flushed.
    pub accounts: Vec<(String, Result<FlushReport, FlushError>)>,
}

/// Flushes each account's outbox over one connection per account. Every account is
/// tried, whatever happened to the others.
pub async fn flush_all(accounts: &[Account]) -> FlushAll {
    let mut all = FlushAll::default();
    for account in accounts {
        let report = deliver::flush(account).await;
        if let Ok(r) = &report {
            for (id, message_id) in &r.sent {
                tracing::info!("{}: sent {message_id} ({id})", account.name);
            }
        }
        all.accounts.push((account.name.clone(), report));
    }
    all
}

impl FlushAll {
    /// Whether something still waits that a later flush may send: cron will run one.
    fn may_succeed_later(&self) -> bool {
        self.accounts.iter().any(|(_, r)| match r {
            Ok(report) => report.retry,
            Err(e) => e.is_temporary(),
        })
    }

    /// How many messages went out.
    pub fn sent(&self) -> usize {
        let reports = self.accounts.iter().filter_map(|(_, r)| r.as_ref().ok());
        reports.map(|r| r.sent.len()).sum()
    }

    /// Each message still waiting, and each account that could not be flushed, as one
    /// failure; and the exit code of the whole flush: 75 when a later flush may send
    /// what waits, else the first failure's (69 for a message refused for good).
    pub fn problems(self) -> (Vec<Failure>, Option<Exit>) {
        let later = self.may_succeed_later();
        let mut problems = Vec::new();
        for (account, report) in self.accounts {
            match report {
                Ok(report) => {
                    let exit = match report.retry {
                        true => Exit::TempFail,
                        false => Exit::Unavailable,
                    };
                    problems.extend(report.kept.into_iter().map(|(id, why)| {
                        Failure::new(exit, format!("{account}: {id} still waits: {why}"))
                    }));
                }
                Err(e) => problems.push(Failure::from(e).context(account)),
            }
        }
        let exit = match later {
            true => problems.first().map(|_| Exit::TempFail),
            false => problems.first().map(Failure::exit),
        };
        (problems, exit)
    }
}

/// Removes a queued message without sending it, from the outbox of `accounts` that
/// holds it.
pub fn drop(accounts: &[Account], id: &str) -> Result<(), Failure> {
    for account in accounts {
        let outbox = deliver::outbox(account)?;
        if outbox.contains(id) {
            return outbox.remove(id).map_err(|e| {
                Failure::io(format!("removing {id} from {}", outbox.dir().display()), e)
            });
        }
    }
    let whose = match accounts {
        [one] => format!("for account {}", one.name),
        _ => "in any account's outbox".to_string(),
    };
    Err(Failure::new(
        Exit::Usage,
        format!("no queued message {id:?} {whose}: see `mailer queue list`"),
    ))
}
