//! `mailer flag`.

use clap::{Args, Subcommand};

use crate::error::Failure;
use crate::mailbox::MailboxName;

/// Set or clear a flag on messages of a mailbox: seen, flagged, answered, deleted,
/// draft, or a keyword
#[derive(Debug, Args)]
pub struct FlagArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Set FLAG on the messages
    Add(Target),
    /// Clear FLAG from the messages
    Remove(Target),
}

#[derive(Debug, Args)]
struct Target {
    /// seen, flagged, answered, deleted, draft, or a keyword such as $Work
    flag: String,
    /// UIDs as `mailer list` shows them, and ranges such as 4200:4250
    #[arg(value_name = "UID", required_unless_present = "query")]
    uids: Vec<String>,
    /// The messages that match QUERY (as `mailer search` reads it) instead of UIDs
    #[arg(long, value_name = "QUERY")]
    query: Option<String>,
    /// Mailbox of the messages
    #[arg(short, long, value_name = "NAME", default_value = "INBOX", add = clap_complete::ArgValueCompleter::new(super::complete::mailboxes))]
    mailbox: MailboxName,
}

impl FlagArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        let (target, add) = match &self.action {
            Action::Add(t) => (t, true),
            Action::Remove(t) => (t, false),
        };
        let flag = crate::commands::flag::imap_flag(&target.flag)?;
        let chosen = super::search::chosen(&target.uids, target.query.as_deref())?;
        let flagged = ctx.on_account(async |account| {
            crate::commands::flag::run(account, &target.mailbox, &flag, &chosen, add).await
        })?;
        crate::output::flagged(&flagged, ctx.json, ctx.people);
        Ok(())
    }
}
