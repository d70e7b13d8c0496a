//! `mailer queue`: the outbox of messages waiting for their server.

use clap::{Args, Subcommand};

use crate::commands::queue;
use crate::error::{Exit, Failure};

/// Show, send or drop messages waiting in the outbox
///
/// A message is queued when its server could not be reached or answered with a
/// temporary error. Every later send of the same account delivers queued messages first.
#[derive(Debug, Args)]
pub struct QueueArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// List queued messages (all accounts unless -a)
    List,
    /// Send queued messages now, one connection per account (all accounts unless -a);
    /// exits 75 when some still wait
    Flush,
    /// Remove a queued message without sending it
    Drop {
        /// Its id, from `mailer queue list`
        id: String,
    },
}

impl QueueArgs {
    pub fn run(&self, ctx: &super::Context) -> Result<(), Failure> {
        match &self.action {
            Action::List => {
                let mut rows = Vec::new();
                for account in ctx.accounts()? {
                    let outbox = queue::outbox(&account)?;
                    let items = outbox.list().map_err(|e| {
                        Failure::new(Exit::Io, format!("reading {}: {e}", outbox.dir().display()))
                    })?;
                    for item in items {
                        match item {
                            Ok(q) => rows.push((account.name.clone(), q)),
                            Err(e) => tracing::warn!("{e}"),
                        }
                    }
                }
                crate::output::queue(&rows, ctx.json);
                Ok(())
            }
            Action::Flush => {
                // Every account is tried; the worst outcome decides the exit code.
                let mut problems: Vec<Failure> = Vec::new();
                for account in ctx.accounts()? {
                    match ctx.block_on(queue::flush(&account))? {
                        Ok(report) => {
                            for (id, message_id) in &report.sent {
                                tracing::info!("{}: sent {message_id} ({id})", account.name);
                            }
                            let exit = if report.retry {
                                Exit::TempFail
                            } else {
                                Exit::Unavailable
                            };
                            for (id, why) in report.kept {
                                problems.push(Failure::new(
                                    exit,
                                    format!("{}: {id} still waits: {why}", account.name),
                                ));
                            }
                        }
                        Err(f) => problems.push(f.context(&account.name)),
                    }
                }
                // 75 when a later flush may succeed; otherwise the first other code.
                let exit = problems
                    .iter()
                    .map(|f| f.exit)
                    .find(|e| *e == Exit::TempFail)
                    .or(problems.first().map(|f| f.exit));
                match (exit, problems.pop()) {
                    (Some(exit), Some(last)) => {
                        for f in &problems {
                            eprintln!("mailer: {f}");
                        }
                        Err(Failure::new(exit, last.message))
                    }
                    _ => Ok(()),
                }
            }
            Action::Drop { id } => {
                let account = ctx.account()?;
                let outbox = queue::outbox(&account)?;
                if !outbox.contains(id) {
                    return Err(Failure::new(
                        Exit::Usage,
                        format!(
                            "no queued message {id:?} for account {}: see `mailer queue list`",
                            account.name
                        ),
                    ));
                }
                outbox.remove(id).map_err(|e| {
                    Failure::new(
                        Exit::Io,
                        format!("removing {id} from {}: {e}", outbox.dir().display()),
                    )
                })
            }
        }
    }
}
