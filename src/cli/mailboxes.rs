//! `mailer mailboxes`.

use clap::Args;

use crate::error::Failure;

/// List the account's mailboxes with their total and unseen counts
#[derive(Debug, Args)]
pub struct MailboxesArgs {}

impl MailboxesArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        let counts = ctx.on_account(crate::commands::mailboxes::run)?;
        crate::output::mailboxes(&counts, ctx.json);
        Ok(())
    }
}
