//! `mailer delete`.

use clap::Args;

use crate::error::Failure;
use crate::mailbox::MailboxName;

/// Move messages to the server's Trash, or remove them for good with --expunge
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// UIDs as `mailer list` shows them, and ranges such as 4200:4250
    #[arg(value_name = "UID", required_unless_present = "query")]
    uids: Vec<String>,

    /// The mailbox the messages are in
    #[arg(short, long, value_name = "NAME", default_value = "INBOX", add = clap_complete::ArgValueCompleter::new(super::complete::mailboxes))]
    mailbox: MailboxName,

    /// The messages that match QUERY (as `mailer search` reads it) instead of UIDs
    #[arg(long, value_name = "QUERY")]
    query: Option<String>,

    /// Remove them for good (UID EXPUNGE of these alone) instead of moving them to the
    /// Trash
    #[arg(long)]
    expunge: bool,
}

impl DeleteArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        let chosen = super::search::chosen(&self.uids, self.query.as_deref())?;
        let done = ctx.on_account(async |account| {
            crate::commands::delete::run(account, &self.mailbox, &chosen, self.expunge).await
        })?;
        crate::output::deleted(&done, ctx.json, ctx.people);
        Ok(())
    }
}
