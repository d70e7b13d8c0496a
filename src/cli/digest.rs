//! `mailer digest`.

use clap::{Args, ValueEnum};

use crate::commands::digest::{self, DigestRequest, Outcome};
use crate::error::{Exit, Failure};
use crate::mailbox::MailboxName;
use crate::message::compose;

/// Mail a summary of what arrived since the last digest (for cron)
///
/// Lists date, sender, subject and the first lines of each new message, as text and
/// HTML, and submits it through the account's SMTP (queued when the server is down).
/// Silent on success unless -v. A first digest covers mail since yesterday (UTC).
#[derive(Debug, Args)]
#[command(
    after_help = "Example crontab line:\n  0 3 * * *  mailer -a work digest --to me@example.org --skip-if-running"
)]
pub struct DigestArgs {
    /// Where to send the digest; repeatable
    #[arg(long, value_name = "ADDR", required = true)]
    to: Vec<String>,

    /// Mailbox to summarise
    #[arg(short, long, value_name = "NAME", default_value = "INBOX", add = clap_complete::ArgValueCompleter::new(super::complete::mailboxes))]
    mailbox: MailboxName,

    /// At most this many messages per digest; the rest go in the next one
    #[arg(long, value_name = "N", default_value_t = 200)]
    max: usize,

    /// Subject; {date} and {count} are replaced
    #[arg(long, default_value = "Daily digest {date}: {count} new")]
    subject: String,

    /// With no new mail: send nothing (skip) or an empty digest (send)
    #[arg(long, value_enum, value_name = "skip|send", default_value_t = IfEmpty::Skip)]
    if_empty: IfEmpty,

    /// Attach each summarised message (message/rfc822)
    #[arg(long)]
    attach_originals: bool,

    /// Exit 0 instead of 75 when another digest of this mailbox is running
    #[arg(long)]
    skip_if_running: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum IfEmpty {
    Skip,
    Send,
}

impl DigestArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        let to = compose::parse_mailboxes("--to", &self.to)
            .map_err(|e| Failure::new(Exit::Usage, e.to_string()))?;
        if self.max == 0 {
            return Err(Failure::new(Exit::Usage, "--max 0: give at least 1"));
        }
        let account = ctx.account()?;
        let request = DigestRequest {
            to,
            mailbox: self.mailbox.clone(),
            max: self.max,
            subject: self.subject.clone(),
            send_if_empty: self.if_empty == IfEmpty::Send,
            attach_originals: self.attach_originals,
        };
        match ctx.block_on(digest::run(&account, &request))?? {
            Outcome::Running(busy) if self.skip_if_running => tracing::info!("{busy}"),
            Outcome::Running(busy) => return Err(busy.into()),
            Outcome::Skipped => {
                tracing::info!("no new messages in {}: no digest sent", self.mailbox)
            }
            Outcome::Sent {
                count,
                more,
                message_id,
            } => {
                tracing::info!(
                    "digest of {count} message(s) sent as {message_id}; {more} wait for the next"
                )
            }
            Outcome::Queued {
                count,
                id,
                reason,
                exit,
            } => {
                return Err(Failure::new(
                    exit,
                    format!(
                        "{reason}; the digest of {count} message(s) is queued as {id} and goes out with the next send or `mailer queue flush`"
                    ),
                ));
            }
        }
        Ok(())
    }
}
