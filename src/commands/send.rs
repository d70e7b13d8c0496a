//! `mailer send`: build or prepare the message, then hand it to `deliver`.

use lettre::Address;
use lettre::message::Mailbox;

use super::deliver::{Delivery, deliver};
use crate::config::Account;
use crate::error::{Exit, Failure};
use crate::message::{Outgoing, compose, raw};

/// What to send, with every file already read and every flag checked.
#[derive(Debug)]
pub struct SendRequest {
    pub content: Content,
    /// Build the message and return it without connecting.
    pub dry_run: bool,
    /// Queue the message when the server is temporarily unreachable (the default).
    pub queue: bool,
    /// Save it in the Drafts mailbox instead of sending it.
    pub draft: bool,
}

#[derive(Debug)]
pub enum Content {
    /// A new message from flags.
    Draft(Box<compose::Draft>),
    /// An existing message; `recipients` overrides its headers' when given.
    Raw {
        bytes: Vec<u8>,
        recipients: Option<Vec<Address>>,
    },
}

/// The outcome of a send.
#[derive(Debug)]
pub struct SendReport {
    pub message: Outgoing,
    /// None for `--dry-run` and `--draft`: nothing was sent.
    pub delivery: Option<Delivery>,
    /// `--draft`: the mailbox it was saved in.
    pub drafted: Option<String>,
}

impl SendReport {
    /// A queued message ends the command with exit 75, so cron and scripts see that it
    /// has not left yet. What an earlier queue flush did is logged.
    pub fn outcome(&self) -> Result<(), Failure> {
        match &self.delivery {
            Some(Delivery::Queued { id, reason, exit }) => Err(Failure::new(
                *exit,
                format!(
                    "{reason}; queued {} as {id}: the next send or `mailer queue flush` delivers it",
                    self.message.message_id
                ),
            )),
            Some(Delivery::Sent { flushed }) => {
                for (id, message_id) in &flushed.sent {
                    tracing::info!("sent queued message {message_id} ({id})");
                }
                for (id, why) in &flushed.kept {
                    tracing::warn!("queued message {id} still waits: {why}");
                }
                Ok(())
            }
            None => Ok(()),
        }
    }
}

/// Builds the message and submits it.
pub async fn run(account: &Account, request: SendRequest) -> Result<SendReport, Failure> {
    let message = prepare(account, request.content)?;
    SendReport::of(
        account,
        message,
        request.dry_run,
        request.draft,
        request.queue,
    )
    .await
}

impl SendReport {
    /// Sends `message`, or only shows it (`dry_run`), or saves it in Drafts (`draft`).
    pub async fn of(
        account: &Account,
        message: Outgoing,
        dry_run: bool,
        draft: bool,
        queue: bool,
    ) -> Result<SendReport, Failure> {
        let (delivery, drafted) = match (dry_run, draft) {
            (true, _) => (None, None),
            (false, true) => (None, Some(super::drafts::save(account, &message).await?)),
            (false, false) => (Some(deliver(account, &message, queue).await?), None),
        };
        Ok(SendReport {
            message,
            delivery,
            drafted,
        })
    }
}

fn prepare(account: &Account, content: Content) -> Result<Outgoing, Failure> {
    let sender = &account.email;
    match content {
        Content::Draft(draft) => build(account, *draft),
        Content::Raw { bytes, recipients } => {
            let recipients = match recipients {
                Some(r) => raw::Recipients::Given(r),
                None => raw::Recipients::FromHeaders(Vec::new()),
            };
            let from = Mailbox::new(account.display_name.clone(), sender.clone());
            raw::prepare(&bytes, sender, recipients, &from)
                .map_err(|e| Failure::with_cause(Exit::Data, e).context("--raw"))
        }
    }
}

/// The message of `draft`, from the account.
pub fn build(account: &Account, draft: compose::Draft) -> Result<Outgoing, Failure> {
    compose::build(draft, &account.email, account.display_name.as_deref()).map_err(|e| {
        let exit = match e {
            compose::Error::Build(_) => Exit::Data,
            _ => Exit::Usage,
        };
        Failure::with_cause(exit, e)
    })
}
