//! `mailer list`.

use clap::Args;

use crate::error::Failure;

/// List the newest messages of a mailbox (envelopes only; no bodies are downloaded)
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Mailbox to list
    #[arg(short, long, value_name = "NAME", default_value = "INBOX")]
    mailbox: crate::mailbox::MailboxName,

    /// How many of the newest messages
    #[arg(short, long, value_name = "N", default_value_t = 20)]
    limit: u32,
}

impl ListArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        let envelopes = ctx.on_account(async |account| {
            crate::commands::list::run(account, &self.mailbox, self.limit).await
        })?;
        crate::output::envelopes(&envelopes, ctx.json, ctx.people);
        Ok(())
    }
}
