//! `mailer flag add|remove FLAG UID…`: a flag set or cleared on messages of one mailbox,
//! one UID STORE whatever their number. The local Maildir is not changed: `fetch` stays
//! its one writer.

use crate::config::Account;
use crate::error::{Exit, Failure};
use crate::imap::{Access, UidSet};
use crate::mailbox::MailboxName;

use super::search::Chosen;

/// What a flag change did.
#[derive(Debug)]
pub struct Flagged {
    pub mailbox: String,
    /// As IMAP spells it (`\Seen`, `$Work`).
    pub flag: String,
    pub added: bool,
    /// The messages the server changed (of those asked for, the ones that are there).
    pub uids: Vec<u32>,
}

/// A flag as people name it, as IMAP spells it: `seen` is `\Seen`, and so on for the
/// system flags; any other word is a keyword, which IMAP allows only as an atom.
pub fn imap_flag(word: &str) -> Result<String, Failure> {
    const SYSTEM: [&str; 5] = ["Seen", "Flagged", "Answered", "Deleted", "Draft"];
    let bare = word.strip_prefix('\\').unwrap_or(word);
    if let Some(name) = SYSTEM.iter().find(|n| n.eq_ignore_ascii_case(bare)) {
        return Ok(format!("\\{name}"));
    }
    let atom = |b: u8| b.is_ascii_graphic() && !b"(){%*\"\\]".contains(&b);
    match !word.is_empty() && word.bytes().all(atom) {
        true => Ok(word.to_string()),
        false => Err(Failure::new(
            Exit::Usage,
            format!(
                "{word:?} is not a flag: give seen, flagged, answered, deleted, draft, or a keyword of letters, digits and $ (such as $Work)"
            ),
        )),
    }
}

/// Adds `flag` to the messages `chosen` of `mailbox`, or takes it away: one UID STORE
/// (after one UID SEARCH for a query).
pub async fn run(
    account: &Account,
    mailbox: &MailboxName,
    flag: &str,
    chosen: &Chosen,
    add: bool,
) -> Result<Flagged, Failure> {
    let opened = Some((mailbox, Access::ReadWrite));
    let changed = super::with_imap(account, opened, async |session| {
        let uids = match chosen {
            Chosen::Uids(uids) => uids.clone(),
            Chosen::Query(_) => match super::search::chosen(session, chosen).await? {
                found if found.is_empty() => return Ok(found),
                found => UidSet::from_sorted(&found),
            },
        };
        Ok(session.store_flag(&uids, flag, add).await?)
    })
    .await?;
    Ok(Flagged {
        mailbox: mailbox.to_string(),
        flag: flag.to_string(),
        added: add,
        uids: changed,
    })
}

#[cfg(test)]
mod tests {
    use super::imap_flag;

    #[test]
    fn flags_are_spelled_as_imap_spells_them() {
        assert_eq!(imap_flag("seen").unwrap(), "\\Seen");
        assert_eq!(imap_flag("\\FLAGGED").unwrap(), "\\Flagged");
        assert_eq!(imap_flag("$Work").unwrap(), "$Work");
        for bad in ["", "two words", "a(b", "\\Recent\"", "*"] {
            let err = imap_flag(bad).unwrap_err().to_string();
            assert!(err.contains("is not a flag"), "{err}");
        }
    }
}
