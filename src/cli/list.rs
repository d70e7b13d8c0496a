//! `mailer list`.

use clap::Args;

use crate::error::Failure;

/// List the newest messages of a mailbox (envelopes only; no bodies are downloaded)
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Mailbox to list
    #[arg(short, long, value_name = "NAME", default_value = "INBOX", add = clap_complete::ArgValueCompleter::new(super::complete::mailboxes))]
    mailbox: crate::mailbox::MailboxName,

    /// How many of the newest messages
    #[arg(short, long, value_name = "N", default_value_t = 20)]
    limit: u32,

    /// Leave out the newest N first (for the next page: --offset 20)
    #[arg(long, value_name = "N", default_value_t = 0, conflicts_with = "page")]
    offset: u32,

    /// Page P of --limit messages each, 1 the newest
    #[arg(long, value_name = "P", value_parser = clap::value_parser!(u32).range(1..))]
    page: Option<u32>,

    /// List the copy `fetch` stored in the Maildir, without the network
    #[arg(long)]
    local: bool,
}

impl ListArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        let skip = match self.page {
            Some(p) => (p - 1).saturating_mul(self.limit),
            None => self.offset,
        };
        let envelopes = match self.local {
            true => crate::commands::local::list(&ctx.account()?, &self.mailbox, self.limit, skip)?,
            false => ctx.on_account(async |account| {
                crate::commands::list::run(account, &self.mailbox, self.limit, skip).await
            })?,
        };
        crate::output::envelopes(&envelopes, ctx.json, ctx.people);
        Ok(())
    }
}
