//! What a fetch is asked to do, whom it tells, and what it reports.

use std::path::Path;

use crate::date::Day;
use crate::mailbox::MailboxName;
use crate::message::parse::Envelope;

/// What to fetch.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    pub mailbox: MailboxName,
    /// Only the newest N of the new messages.
    pub limit: Option<usize>,
    /// Only messages received on or after this day (IMAP).
    pub since: Option<Day>,
    /// Set \Seen on the server once a message is stored (IMAP).
    pub mark_seen: bool,
    /// Delete messages from the server once they are stored (POP3).
    pub delete: bool,
}

/// A fetch about to run: the request, where mail goes, and where state lives.
pub struct Job<'a> {
    pub request: &'a FetchRequest,
    /// The account's Maildir.
    pub root: &'a Path,
    /// The account's state directory.
    pub account_dir: &'a Path,
}

/// Receives each message once it is durable.
pub trait Sink: Send {
    /// Called once, with how many messages will be downloaded.
    fn start(&mut self, total: usize);
    fn stored(&mut self, envelope: &Envelope);
    /// Something the user should know about the run that is not a failure.
    fn notice(&mut self, text: &str);
}

/// What a fetch did.
#[derive(Debug, Default)]
pub struct FetchReport {
    pub stored: usize,
    pub bytes: u64,
    /// Messages recognised as already stored (after a UIDVALIDITY change or a crash).
    pub already_stored: usize,
}
