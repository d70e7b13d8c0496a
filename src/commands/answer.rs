//! `mailer reply` and `mailer forward`: the original fetched over IMAP (left unread),
//! the answer built from it (`message::reply`), then sent as `send` sends, its copy in
//! Sent included. Once the server accepted it, the original is flagged `\Answered`
//! (a reply) or `$Forwarded` (a forward), as other clients show.

use lettre::message::Mailbox;

use super::deliver::Delivery;
use super::send::SendReport;
use crate::config::Account;
use crate::error::{Exit, Failure};
use crate::imap::{Access, UidSet};
use crate::mailbox::MailboxName;
use crate::message::compose::{AttachmentFile, Draft};
use crate::message::reply::{self, Answer};

/// Has a person edit the answer before it leaves (the editor); None: send nothing.
pub type Edit = Box<dyn Fn(Draft) -> Result<Option<Draft>, Failure>>;

/// What to answer, and how.
pub struct AnswerRequest {
    pub mailbox: MailboxName,
    pub uid: u32,
    pub kind: Kind,
    pub text: String,
    pub attachments: Vec<AttachmentFile>,
    pub dry_run: bool,
    /// Save it in the Drafts mailbox instead of sending it.
    pub draft: bool,
    pub queue: bool,
    /// The editor, when the answer is composed in one.
    pub edit: Option<Edit>,
}

#[derive(Debug)]
pub enum Kind {
    /// To the sender (Reply-To), or with `all` to everyone the original names.
    Reply { all: bool },
    /// To these, the original inline or attached whole.
    Forward {
        to: Vec<Mailbox>,
        cc: Vec<Mailbox>,
        as_attachment: bool,
    },
}

/// Sends the answer; None when it was left empty or unchanged in the editor.
pub async fn run(account: &Account, request: AnswerRequest) -> Result<Option<SendReport>, Failure> {
    let original = original(account, &request.mailbox, request.uid).await?;
    let mut draft = match &request.kind {
        Kind::Reply { all } => {
            let answer = Answer {
                all: *all,
                text: request.text,
                attachments: request.attachments,
            };
            reply::reply(&original, &account.email, answer)
        }
        Kind::Forward {
            to,
            cc,
            as_attachment,
        } => {
            let mut draft = reply::forward(&original, request.text, *as_attachment);
            draft.to = to.clone();
            draft.cc = cc.clone();
            draft.attachments.extend(request.attachments);
            draft
        }
    };
    if let Some(edit) = &request.edit {
        match edit(draft)? {
            Some(edited) => draft = edited,
            None => return Ok(None),
        }
    }
    if draft.to.is_empty() && draft.cc.is_empty() {
        return Err(Failure::new(
            Exit::Data,
            format!(
                "message {} of {} names no one to reply to (no From, Reply-To or To): use `mailer send --to ADDR`",
                request.uid, request.mailbox
            ),
        ));
    }
    let message = super::send::build(account, draft)?;
    let report = SendReport::of(
        account,
        message,
        request.dry_run,
        request.draft,
        request.queue,
    )
    .await?;
    if let Some(Delivery::Sent { .. }) = report.delivery {
        let flag = match request.kind {
            Kind::Reply { .. } => "\\Answered",
            Kind::Forward { .. } => "$Forwarded",
        };
        mark_original(account, &request.mailbox, request.uid, flag).await;
    }
    Ok(Some(report))
}

/// The message answered, whole, left unread (`BODY.PEEK[]`).
async fn original(account: &Account, mailbox: &MailboxName, uid: u32) -> Result<Vec<u8>, Failure> {
    let opened = Some((mailbox, Access::ReadOnly));
    let fetched = super::with_imap(account, opened, async |session| {
        Ok(session.bodies(&UidSet::one(uid)).await?)
    })
    .await?;
    let body = fetched
        .into_iter()
        .find(|f| f.uid() == Some(uid))
        .and_then(|f| f.body().map(<[u8]>::to_vec));
    body.ok_or_else(|| {
        Failure::new(
            Exit::Data,
            format!(
                "no message with UID {uid} in {mailbox}: `mailer list -m {mailbox}` shows the UIDs"
            ),
        )
    })
}

/// Flags the original once the answer has left; a failure is only a warning, since the
/// answer was sent.
async fn mark_original(account: &Account, mailbox: &MailboxName, uid: u32, flag: &str) {
    let opened = Some((mailbox, Access::ReadWrite));
    let marked = super::with_imap(account, opened, async |session| {
        Ok(session.store_flag(&UidSet::one(uid), flag, true).await?)
    })
    .await;
    if let Err(e) = marked {
        tracing::warn!("sent, but flagging message {uid} of {mailbox} {flag} failed: {e}");
    }
}
