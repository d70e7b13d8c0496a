//! `mailer fetch`: its flags, and the request they become.

use clap::Args;

use crate::commands::fetch::FetchRequest;
use crate::date::Day;
use crate::error::{Exit, Failure};
use crate::mailbox::MailboxName;

/// Download new messages into the account's Maildir
///
/// Each message of the mailbox that was not downloaded before is stored once, durably,
/// and printed as one line (date, sender, subject, size, attachments). Nothing on the
/// server changes unless --mark-seen is given.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  mailer fetch --inbox\n  mailer fetch --mailbox Archive --json\n  mailer fetch --inbox --since 2026-11-01 --limit 100"
)]
pub struct FetchArgs {
    /// Fetch INBOX (the default mailbox)
    #[arg(long, conflicts_with = "mailbox")]
    inbox: bool,

    /// Fetch this mailbox instead of INBOX (e.g. Archive, "Sent Items", 已发送)
    #[arg(short, long, value_name = "NAME", add = clap_complete::ArgValueCompleter::new(super::complete::mailboxes))]
    mailbox: Option<MailboxName>,

    /// Only the newest N of the new messages (IMAP: older ones are skipped for good; POP3:
    /// a later run fetches them)
    #[arg(long, value_name = "N")]
    limit: Option<usize>,

    /// Only messages received on or after this day (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    since: Option<String>,

    /// Mark fetched messages as read (\Seen) on the server once they are stored (IMAP)
    #[arg(long)]
    mark_seen: bool,

    /// Delete messages from the server once they are safely stored (POP3; the server
    /// removes them only when the session ends cleanly)
    #[arg(long)]
    delete: bool,

    /// One JSON object a line as each message is stored, without the array --json
    /// puts around them (for `while read` loops and log shippers)
    #[arg(long)]
    json_lines: bool,
}

impl FetchArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        let report = ctx.on_account(async |account| {
            let request = self.to_request()?;
            let printer = Box::new(crate::output::FetchPrinter::new(
                ctx.json,
                self.json_lines,
                ctx.people,
            ));
            crate::commands::fetch::run(account, &request, printer).await
        })?;
        tracing::info!(
            "stored {} new message(s), {} bytes; {} already stored",
            report.stored,
            report.bytes,
            report.already_stored
        );
        Ok(())
    }

    pub fn to_request(&self) -> Result<FetchRequest, Failure> {
        let since = match &self.since {
            Some(d) => Some(Day::parse_iso(d).ok_or_else(|| {
                Failure::new(
                    Exit::Usage,
                    format!("--since {d:?}: expected a date like 2026-11-01"),
                )
            })?),
            None => None,
        };
        if self.limit == Some(0) {
            return Err(Failure::new(Exit::Usage, "--limit 0: give at least 1"));
        }
        Ok(FetchRequest {
            mailbox: self.mailbox.clone().unwrap_or_else(MailboxName::inbox),
            limit: self.limit,
            since,
            mark_seen: self.mark_seen,
            delete: self.delete,
        })
    }
}
