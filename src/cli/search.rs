//! `mailer search`.

use clap::Args;

use crate::error::{Exit, Failure};

/// Find the messages of a mailbox that match a query, shown as `list` shows them
///
/// Keys: from: to: cc: subject: body: text: since: before: on: (2026-11-01, today,
/// yesterday, 7d, 2w, 3m, 1y) larger: smaller: (500K, 5M) is:unread|read|flagged|
/// answered|deleted|draft has:attachment uid:4200:4250 gmail:"…" (Gmail only). Terms
/// side by side must all match; `or`, `not` (or -term) and parentheses combine them; a
/// bare word or "quoted phrase" is text:. A query that starts with -term goes after
/// `--`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  mailer search from:ann since:7d\n  mailer search '(from:ann or from:bob) has:attachment not is:read'\n  mailer search -m Archive subject:\"budget 2027\" --json"
)]
pub struct SearchArgs {
    /// The query (several words are joined with spaces)
    #[arg(required = true, value_name = "QUERY")]
    query: Vec<String>,

    /// Mailbox to search
    #[arg(short, long, value_name = "NAME", default_value = "INBOX", add = clap_complete::ArgValueCompleter::new(super::complete::mailboxes))]
    mailbox: crate::mailbox::MailboxName,

    /// How many of the newest matches to show
    #[arg(short, long, value_name = "N", default_value_t = 20)]
    limit: u32,

    /// Search the copy `fetch` stored in the Maildir, without the network
    #[arg(long)]
    local: bool,
}

impl SearchArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        let query = parse_query(&self.query)?;
        let envelopes = match self.local {
            true => {
                crate::commands::local::search(&ctx.account()?, &self.mailbox, &query, self.limit)?
            }
            false => ctx.on_account(async |account| {
                crate::commands::search::run(account, &self.mailbox, &query, self.limit).await
            })?,
        };
        crate::output::envelopes(&envelopes, ctx.json, ctx.people);
        Ok(())
    }
}

/// The query of the command line's words, or exit 64 naming where it went wrong.
pub fn parse_query(words: &[String]) -> Result<crate::query::Expr, Failure> {
    let text = words.join(" ");
    crate::query::parse(&text).map_err(|e| Failure::new(Exit::Usage, format!("{e} (in {text:?})")))
}

/// The messages a changing command is given: UIDs (and ranges), or `--query`; not both.
pub fn chosen(
    uids: &[String],
    query: Option<&str>,
) -> Result<crate::commands::search::Chosen, Failure> {
    use crate::commands::search::Chosen;
    match (uids.is_empty(), query) {
        (false, Some(_)) => Err(Failure::new(Exit::Usage, "give UIDs or --query, not both")),
        (true, Some(q)) => Ok(Chosen::Query(parse_query(&[q.to_string()])?)),
        (_, None) => crate::imap::UidSet::parse(uids.iter().map(String::as_str))
            .map(Chosen::Uids)
            .map_err(|e| Failure::new(Exit::Usage, e)),
    }
}
