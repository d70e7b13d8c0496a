//! `mailer reply` and `mailer forward`.

use std::path::PathBuf;

use clap::Args;

use crate::commands::answer::{AnswerRequest, Edit, Kind};
use crate::error::{Exit, Failure};
use crate::mailbox::MailboxName;
use crate::message::compose::{self, Draft};
use crate::message::template::Template;

/// Reply to a message: to its Reply-To (or From), quoted, threaded; --all for everyone
///
/// The body comes from --body, --body-file, or standard input when it is not a terminal;
/// the original is quoted below it. Once sent, the original is flagged \Answered.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  mailer reply 4242 --body \"Thanks, agreed.\"\n  mailer reply --all -m Lists 881 --body-file answer.txt"
)]
pub struct ReplyArgs {
    /// The UID of the message, as `mailer list` shows it
    uid: u32,
    /// Reply to everyone the message names (To and Cc, or its Mail-Followup-To), not
    /// only its sender
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    common: Common,
}

/// Forward a message: its text and attachments inline, or whole with --as-attachment
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  mailer forward 4242 --to carol@example.org --body \"FYI\"\n  mailer forward 4242 --to carol@example.org --as-attachment < /dev/null"
)]
pub struct ForwardArgs {
    /// The UID of the message, as `mailer list` shows it
    uid: u32,
    /// Recipient; repeat or separate with commas
    #[arg(long, value_name = "ADDR", required = true)]
    to: Vec<String>,
    /// Carbon-copy recipient; repeatable
    #[arg(long, value_name = "ADDR")]
    cc: Vec<String>,
    /// Attach the original whole (message/rfc822) instead of inline
    #[arg(long)]
    as_attachment: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct Common {
    /// The mailbox the message is in
    #[arg(short, long, value_name = "NAME", default_value = "INBOX", add = clap_complete::ArgValueCompleter::new(super::complete::mailboxes))]
    mailbox: MailboxName,
    /// Body text
    #[arg(long, conflicts_with = "body_file")]
    body: Option<String>,
    /// File holding the body text (UTF-8)
    #[arg(long, value_name = "PATH")]
    body_file: Option<PathBuf>,
    /// File to attach; repeatable
    #[arg(short = 'A', long, value_name = "PATH")]
    attach: Vec<PathBuf>,
    #[command(flatten)]
    leaving: super::send::Leaving,
}

impl Common {
    fn request(&self, uid: u32, kind: Kind, may_be_empty: bool) -> Result<AnswerRequest, Failure> {
        let attachments = self
            .attach
            .iter()
            .map(|p| super::send::read_attachment(p))
            .collect::<Result<Vec<_>, _>>()?;
        let may_be_empty = may_be_empty || !attachments.is_empty();
        let composing = self.body.is_none() && self.body_file.is_none() && super::editor::wanted();
        let (text, edit) = match composing {
            true => (String::new(), Some(Box::new(edit_answer) as Edit)),
            false => {
                let text = super::send::body_text(&self.body, &self.body_file, may_be_empty)?;
                (text, None)
            }
        };
        Ok(AnswerRequest {
            mailbox: self.mailbox.clone(),
            uid,
            kind,
            text,
            attachments,
            dry_run: self.leaving.dry_run,
            queue: !self.leaving.no_queue,
            draft: self.leaving.draft,
            edit,
        })
    }
}

/// The answer in the editor: its recipients, subject and body (the quote below) as a
/// template, read back and checked.
fn edit_answer(mut draft: Draft) -> Result<Option<Draft>, Failure> {
    let join = |list: &[lettre::message::Mailbox]| {
        list.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let template = Template {
        to: join(&draft.to),
        cc: join(&draft.cc),
        bcc: join(&draft.bcc),
        subject: draft.subject.clone().unwrap_or_default(),
        // Two lines to type on, above the attribution and the quote.
        body: format!("\n\n{}", draft.text),
    };
    let Some(edited) = super::editor::edit(&template)? else {
        return Ok(None);
    };
    draft.to = super::send::addresses("To", &edited.to)?;
    draft.cc = super::send::addresses("Cc", &edited.cc)?;
    draft.bcc = super::send::addresses("Bcc", &edited.bcc)?;
    draft.subject = Some(edited.subject).filter(|s| !s.is_empty());
    draft.text = edited.body.trim_start_matches('\n').to_string();
    Ok(Some(draft))
}

fn answer(ctx: &super::context::Context, request: AnswerRequest) -> Result<(), Failure> {
    let report =
        ctx.on_account(async |account| crate::commands::answer::run(account, request).await)?;
    let Some(report) = report else {
        return super::send::nothing_sent();
    };
    crate::output::send_report(&report, ctx.json);
    report.outcome()
}

impl ReplyArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        let kind = Kind::Reply { all: self.all };
        answer(ctx, self.common.request(self.uid, kind, false)?)
    }
}

impl ForwardArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        let usage = |e| Failure::with_cause(Exit::Usage, e);
        let kind = Kind::Forward {
            to: compose::parse_mailboxes("--to", &self.to).map_err(usage)?,
            cc: compose::parse_mailboxes("--cc", &self.cc).map_err(usage)?,
            as_attachment: self.as_attachment,
        };
        answer(ctx, self.common.request(self.uid, kind, true)?)
    }
}
