//! `mailer mailboxes`.

use clap::Args;

use crate::error::Failure;

/// List the account's mailboxes with their total and unseen counts
#[derive(Debug, Args)]
pub struct MailboxesArgs {}

impl MailboxesArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        let counts = ctx.on_account(crate::commands::mailboxes::run)?;
        if let Some(account) = counts.first().and(ctx.account().ok()) {
            super::complete::remember_mailboxes(
                &account.name,
                counts.iter().map(|c| c.name.as_str()),
            );
        }
        crate::output::mailboxes(&counts, ctx.json);
        Ok(())
    }
}
