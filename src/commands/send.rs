//! `mailer send`: build or prepare the message, then submit it over the account's SMTP.

use lettre::Address;

use super::queue::{Delivery, deliver};
use crate::config::Account;
use crate::error::{Exit, Failure};
use crate::message::{Outgoing, compose, raw};
use crate::smtp;

/// What to send, with every file already read and every flag checked.
#[derive(Debug)]
pub struct SendRequest {
    pub content: Content,
    /// Build the message and return it without connecting.
    pub dry_run: bool,
    /// Queue the message when the server is temporarily unreachable (the default).
    pub queue: bool,
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
    /// None for `--dry-run`: nothing was sent.
    pub delivery: Option<Delivery>,
}

/// Builds the message and submits it.
pub async fn run(account: &Account, request: SendRequest) -> Result<SendReport, Failure> {
    let message = prepare(account, request.content)?;
    if request.dry_run {
        return Ok(SendReport {
            message,
            delivery: None,
        });
    }
    let delivery = deliver(account, &message, request.queue).await?;
    Ok(SendReport {
        message,
        delivery: Some(delivery),
    })
}

/// The account's address as an envelope sender.
fn sender(account: &Account) -> Result<Address, Failure> {
    account.email.parse().map_err(|_| {
        Failure::new(
            Exit::Config,
            format!(
                "{}: accounts.{}.email {:?} is not an address",
                account.config_path.display(),
                account.name,
                account.email
            ),
        )
    })
}

fn prepare(account: &Account, content: Content) -> Result<Outgoing, Failure> {
    let sender = sender(account)?;
    match content {
        Content::Draft(draft) => compose::build(*draft, &sender, account.display_name.as_deref())
            .map_err(|e| {
                let exit = match e {
                    compose::Error::Build(_) => Exit::Data,
                    _ => Exit::Usage,
                };
                Failure::new(exit, e.to_string())
            }),
        Content::Raw { bytes, recipients } => raw::prepare(
            &bytes,
            &sender,
            match recipients {
                Some(r) => raw::Recipients::Given(r),
                None => raw::Recipients::FromHeaders(Vec::new()),
            },
            &lettre::message::Mailbox::new(account.display_name.clone(), sender.clone()),
        )
        .map_err(|e| Failure::new(Exit::Data, format!("--raw: {e}"))),
    }
}

/// Opens an authenticated session on the account's SMTP server.
pub async fn open_smtp(account: &Account) -> Result<smtp::Session, Failure> {
    let server = account.smtp.as_ref().ok_or_else(|| {
        Failure::new(
            Exit::Config,
            format!(
                "{}: account {:?} has no [accounts.{}.smtp] section: add one with at least host",
                account.config_path.display(),
                account.name,
                account.name
            ),
        )
    })?;
    let password = super::password_reader(account, server, "smtp");
    Ok(smtp::Session::open(server, password).await?)
}
