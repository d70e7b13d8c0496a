//! `mailer attachments`.

use std::path::PathBuf;

use clap::Args;

use crate::error::Failure;

/// Save the attachments of a message into a directory
///
/// File names come from the message but are reduced to a plain name: nothing is written
/// outside --dir and no existing file is overwritten ("name (1).ext" is used instead).
#[derive(Debug, Args)]
pub struct AttachmentsArgs {
    /// The message's id as `mailer list` shows it: its UID (IMAP) or UIDL (POP3)
    id: String,

    /// Directory to save into
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    dir: PathBuf,

    /// Mailbox holding the message
    #[arg(short, long, value_name = "NAME", default_value = "INBOX", add = clap_complete::ArgValueCompleter::new(super::complete::mailboxes))]
    mailbox: crate::mailbox::MailboxName,
}

impl AttachmentsArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        let saved = ctx.on_account(async |account| {
            crate::commands::attachments::run(account, &self.mailbox, &self.id, &self.dir).await
        })?;
        if saved.is_empty() && ctx.people {
            println!("no attachments in message {}", self.id);
        }
        crate::output::paths(&saved, ctx.json);
        Ok(())
    }
}
