//! `mailer mailboxes`, and `mailboxes create|rename|delete`.

use clap::{Args, Subcommand};

use crate::commands::mailboxes::Change;
use crate::error::Failure;
use crate::imap::MailboxChange;
use crate::mailbox::MailboxName;

/// List the account's mailboxes with their total and unseen counts; create, rename or
/// delete one
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct MailboxesArgs {
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Create a mailbox (nested ones with the delimiter `mailboxes` shows: Archive/2026)
    Create {
        name: String,
        /// Subscribe to it too (other clients may show only subscribed mailboxes)
        #[arg(long)]
        subscribe: bool,
    },
    /// Rename a mailbox
    Rename { name: String, new_name: String },
    /// Delete a mailbox; one that holds messages only with --force
    Delete {
        name: String,
        /// Delete it with the messages it holds
        #[arg(long)]
        force: bool,
    },
}

impl Action {
    fn change(&self) -> Change {
        let m = |n: &String| MailboxName::new(n);
        let (change, subscribe, force) = match self {
            Action::Create { name, subscribe } => {
                (MailboxChange::Create(m(name)), *subscribe, false)
            }
            Action::Rename { name, new_name } => {
                (MailboxChange::Rename(m(name), m(new_name)), false, false)
            }
            Action::Delete { name, force } => (MailboxChange::Delete(m(name)), false, *force),
        };
        Change {
            change,
            subscribe,
            force,
        }
    }
}

impl MailboxesArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        if let Some(action) = &self.action {
            let asked = action.change();
            ctx.on_account(async |account| {
                crate::commands::mailboxes::change(account, &asked).await
            })?;
            crate::output::mailbox_changed(&asked.change, ctx.json, ctx.people);
            return Ok(());
        }
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
