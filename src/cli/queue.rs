//! `mailer queue`: the outbox of messages waiting for their server.

use clap::{Args, Subcommand};

use crate::commands::queue;
use crate::error::Failure;

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
    /// Remove a queued message without sending it, from whichever account's outbox
    /// holds it (only -a's with -a)
    Drop {
        /// Its id, from `mailer queue list`
        #[arg(add = clap_complete::ArgValueCompleter::new(super::complete::queue_ids))]
        id: String,
    },
}

impl QueueArgs {
    /// `drop` says nothing a script would read as JSON.
    pub fn prints_json(&self) -> bool {
        !matches!(self.action, Action::Drop { .. })
    }
}

impl QueueArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        match &self.action {
            Action::List => {
                let rows = queue::list(&ctx.accounts()?)?;
                crate::output::queue(&rows, ctx.json);
                Ok(())
            }
            Action::Flush => {
                let accounts = ctx.accounts()?;
                let flushed = ctx.block_on(queue::flush_all(&accounts))?;
                // What still waits, counted in the outboxes: an account whose server
                // could not be reached has no report of its own to count.
                let (sent, left) = (flushed.sent(), queue::list(&accounts)?.len());
                crate::output::flushed(sent, left, ctx.json, ctx.people);
                let (problems, exit) = flushed.problems();
                crate::output::problems(&problems, exit)
            }
            // Ids are unique across accounts: the one whose outbox holds it.
            Action::Drop { id } => queue::drop(&ctx.accounts()?, id),
        }
    }
}
