//! `mailer move` and `mailer copy`.

use clap::Args;

use crate::error::{Exit, Failure};
use crate::mailbox::MailboxName;

/// Move messages into another mailbox on the server (their bytes kept exactly)
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  mailer move 4200:4250 Archive\n  mailer move --query 'from:ann before:1y' Archive/2025\n  mailer move -m Junk 17 INBOX"
)]
pub struct MoveArgs {
    #[command(flatten)]
    transfer: Transfer,
}

/// Copy messages into another mailbox on the server (their bytes kept exactly)
#[derive(Debug, Args)]
pub struct CopyArgs {
    #[command(flatten)]
    transfer: Transfer,
}

#[derive(Debug, Args)]
struct Transfer {
    /// UIDs as `mailer list` shows them, and ranges such as 4200:4250; then the mailbox
    /// to put them in
    #[arg(required = true, value_name = "UID… MAILBOX")]
    words: Vec<String>,

    /// The mailbox the messages are in
    #[arg(short, long, value_name = "NAME", default_value = "INBOX", add = clap_complete::ArgValueCompleter::new(super::complete::mailboxes))]
    mailbox: MailboxName,

    /// The messages that match QUERY (as `mailer search` reads it) instead of UIDs
    #[arg(long, value_name = "QUERY")]
    query: Option<String>,
}

impl MoveArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        self.transfer.run(ctx, true)
    }
}

impl CopyArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        self.transfer.run(ctx, false)
    }
}

impl Transfer {
    fn run(&self, ctx: &super::context::Context, moving: bool) -> Result<(), Failure> {
        let Some((target, uids)) = self.words.split_last() else {
            return Err(Failure::new(Exit::Usage, "name the mailbox to put them in"));
        };
        if target.is_empty() || self.words.len() == 1 && self.query.is_none() {
            return Err(Failure::new(
                Exit::Usage,
                "give the UIDs (or --query QUERY), then the mailbox to put them in",
            ));
        }
        let target = MailboxName::new(target);
        let chosen = super::search::chosen(uids, self.query.as_deref())?;
        let done = ctx.on_account(async |account| {
            crate::commands::transfer::run(account, &self.mailbox, &chosen, &target, moving).await
        })?;
        crate::output::transferred(&done, ctx.json, ctx.people);
        Ok(())
    }
}
