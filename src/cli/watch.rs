//! `mailer watch`.

use clap::Args;

use crate::commands::watch::WatchRequest;
use crate::error::Failure;
use crate::mailbox::MailboxName;

/// Wait for new mail (IMAP IDLE) and tell of it as it comes; with --fetch, store it
///
/// Holds an IDLE per mailbox, renewed every 25 minutes; reconnects after a lost
/// connection, a changed network or a suspend (waiting 1 s, doubling to 5 minutes).
/// Each new message is a line on stdout (--json: an object a line). SIGTERM or SIGINT
/// ends it with exit 0.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  mailer watch\n  mailer watch -m INBOX -m Lists --fetch\n  mailer watch --exec 'jq -r \".[].subject\" | notify-send \"new mail\"'"
)]
pub struct WatchArgs {
    /// Mailbox to watch; repeatable
    #[arg(short, long, value_name = "NAME", default_value = "INBOX", add = clap_complete::ArgValueCompleter::new(super::complete::mailboxes))]
    mailbox: Vec<MailboxName>,

    /// Run CMD (through sh -c) on new mail, the new messages as JSON on its standard
    /// input; MAILER_ACCOUNT and MAILER_MAILBOX name where they are
    #[arg(long, value_name = "CMD")]
    exec: Option<String>,

    /// Fetch new mail into the Maildir first (as `mailer fetch` does: exactly once), and
    /// tell of what was stored
    #[arg(long)]
    fetch: bool,

    /// How often to ask a server that does not offer IDLE (NOOP), in seconds [default:
    /// the account's poll_secs, else 60]
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    poll_secs: Option<u64>,
}

impl WatchArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        let mut mailboxes = self.mailbox.clone();
        mailboxes.dedup();
        let json = ctx.json;
        let told = move |list: &[crate::message::parse::Envelope]| {
            crate::output::watched(list, json);
        };
        ctx.on_account(async |account| {
            let poll = self.poll_secs.or(account.poll_secs).unwrap_or(60);
            let request = WatchRequest {
                mailboxes,
                exec: self.exec.clone(),
                fetch: self.fetch,
                poll: std::time::Duration::from_secs(poll),
            };
            crate::commands::watch::run(account, &request, &told).await
        })
    }
}
