//! Mailbox names as people give them, with `INBOX` normalised once.
//!
//! IMAP says the name INBOX is case-insensitive (RFC 3501 section 5.1); every other
//! name is case-sensitive. Turning `inbox` or `Inbox` into `INBOX` here, when the name
//! enters mailer, means state files, locks and Maildir folders never disagree about it.

use std::fmt;
use std::str::FromStr;

/// A mailbox name for people (not modified UTF-7: the IMAP module encodes it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MailboxName(String);

impl MailboxName {
    /// The inbox.
    pub fn inbox() -> MailboxName {
        MailboxName("INBOX".to_string())
    }

    pub fn new(name: &str) -> MailboxName {
        if name.eq_ignore_ascii_case("INBOX") {
            MailboxName::inbox()
        } else {
            MailboxName(name.to_string())
        }
    }

    pub fn is_inbox(&self) -> bool {
        self.0 == "INBOX"
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MailboxName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for MailboxName {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(MailboxName::new(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbox_is_normalised_and_other_names_kept() {
        assert_eq!(MailboxName::new("inbox"), MailboxName::inbox());
        assert!(MailboxName::new("Inbox").is_inbox());
        assert_eq!(MailboxName::new("Archive").as_str(), "Archive");
        assert!(!MailboxName::new("INBOX.Sent").is_inbox());
    }
}
