//! `mailer read`.

use std::path::PathBuf;

use clap::Args;

use crate::error::Failure;

/// Show one message: headers, text body, attachment list
///
/// By its id from the server (it stays unread): the UID over IMAP, the UIDL over POP3,
/// as `mailer list` shows them; or from a local file with --file.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  mailer read 4242\n  mailer read --file some.eml --json")]
pub struct ReadArgs {
    /// The message's id as `mailer list` shows it: its UID (IMAP) or UIDL (POP3)
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    id: Option<String>,

    /// Read this message file instead (offline; no config needed)
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,

    /// Mailbox holding the message
    #[arg(short, long, value_name = "NAME", default_value = "INBOX", add = clap_complete::ArgValueCompleter::new(super::complete::mailboxes))]
    mailbox: crate::mailbox::MailboxName,

    /// Print straight to the terminal, without $PAGER (default `less -FRX`)
    #[arg(long)]
    no_pager: bool,

    /// Read the copy `fetch` stored in the Maildir, by its UID, without the network
    #[arg(long, conflicts_with = "file")]
    local: bool,
}

impl ReadArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        let full = match (&self.file, &self.id) {
            (Some(path), _) => crate::commands::read::from_file(path)?,
            (None, Some(id)) if self.local => {
                let uid = id.parse().map_err(|_| {
                    Failure::new(
                        crate::error::Exit::Usage,
                        format!("{id:?} is not a UID: --local reads messages by the UIDs `mailer list --local` shows"),
                    )
                })?;
                crate::commands::local::read(&ctx.account()?, &self.mailbox, uid)?
            }
            (None, Some(id)) => {
                let account = ctx.account()?;
                ctx.block_on(crate::commands::read::from_server(
                    &account,
                    &self.mailbox,
                    id,
                ))??
            }
            (None, None) => {
                return Err(Failure::new(
                    crate::error::Exit::Usage,
                    "give the message's id (see `mailer list`) or --file PATH",
                ));
            }
        };
        crate::output::message(&full, ctx.json, ctx.people && !self.no_pager);
        Ok(())
    }
}
