//! `mailer sendmail`: a message from standard input, submitted like `send --raw`, queued
//! when the server cannot take it now.

use lettre::Address;
use lettre::message::Mailbox;

use super::deliver::deliver;
use super::send::SendReport;
use crate::config::Account;
use crate::error::{Exit, Failure};
use crate::message::raw::{self, Recipients};

/// A sendmail invocation, parsed.
#[derive(Debug)]
pub struct SendmailRequest {
    pub input: Vec<u8>,
    /// `-t`: recipients from the message's To, Cc and Bcc, plus `recipients`.
    pub extract: bool,
    /// `-f`: the envelope sender, else the account's address.
    pub envelope_from: Option<Address>,
    /// `-F`: the name for a From header the message lacks.
    pub full_name: Option<String>,
    pub recipients: Vec<Address>,
}

pub async fn run(account: &Account, request: SendmailRequest) -> Result<SendReport, Failure> {
    let sender = request
        .envelope_from
        .unwrap_or_else(|| account.email.clone());
    let name = request.full_name.or_else(|| account.display_name.clone());
    let from = Mailbox::new(name, account.email.clone());
    let recipients = if request.extract {
        Recipients::FromHeaders(request.recipients)
    } else {
        Recipients::Given(request.recipients)
    };
    let message = raw::prepare(&request.input, &sender, recipients, &from)
        .map_err(|e| Failure::with_cause(Exit::Data, e).context("sendmail"))?;
    let delivery = deliver(account, &message, true).await?;
    Ok(SendReport {
        message,
        delivery: Some(delivery),
        drafted: None,
    })
}
