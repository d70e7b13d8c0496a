//! The new messages of an IMAP mailbox, by UID.

use serde::{Deserialize, Serialize};

use super::render::{Item, Window};
use crate::config::Server;
use crate::date::Day;
use crate::error::Failure;
use crate::imap::{Access, MailboxInfo, Session, UidSet};
use crate::mailbox::MailboxName;

/// The IMAP digest's own state, separate from `fetch`'s.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DigestState {
    uidvalidity: u32,
    /// Every message up to this UID has been in a digest.
    last_uid: u32,
}

/// The new messages of `mailbox`, oldest first, as many as the window takes; how many
/// more wait; and the state once they are digested. A first digest (or one after the
/// mailbox was recreated) covers the window's last day.
pub async fn collect(
    server: &Server,
    mailbox: &MailboxName,
    saved: Option<DigestState>,
    window: Window,
) -> Result<(Vec<Item>, usize, DigestState), Failure> {
    // The search for what is new goes in the login's write, as the saved state has it:
    // when the UIDVALIDITY changed, its answer is passed over and the right one asked.
    let since = saved
        .is_none()
        .then(|| Day::from_timestamp(window.first_run_since));
    let after = saved.as_ref().map_or(0, |s| s.last_uid);
    let expected = crate::imap::Expected::default().with_new_after(after, since);
    let mut session = Session::open_in(server, mailbox, Access::ReadOnly, &expected).await?;
    let collected = from_session(&mut session, mailbox, saved, window).await;
    session.logout().await;
    collected
}

async fn from_session(
    session: &mut Session,
    mailbox: &MailboxName,
    saved: Option<DigestState>,
    window: Window,
) -> Result<(Vec<Item>, usize, DigestState), Failure> {
    let info = session.select(mailbox, Access::ReadOnly).await?;
    let saved = saved.filter(|s| s.uidvalidity == info.uidvalidity);
    let floor = saved.as_ref().map_or(0, |s| s.last_uid);
    let mut next = start_state(&info, saved.as_ref());
    if info.exists == 0 {
        return Ok((Vec::new(), 0, next));
    }
    // A first digest (or one after the mailbox was recreated) covers the window's day.
    let since = saved
        .is_none()
        .then(|| Day::from_timestamp(window.first_run_since));
    let uids = session.new_uids(floor, since, &info).await?;
    let more = uids.len().saturating_sub(window.max);
    let chosen: Vec<u32> = uids.into_iter().take(window.max).collect();
    let Some(&last_chosen) = chosen.last() else {
        return Ok((Vec::new(), 0, next));
    };
    let fetched = session.bodies(&UidSet::from_sorted(&chosen)).await?;
    let mut out: Vec<(u32, Item)> = fetched
        .iter()
        .filter_map(|f| {
            let uid = f.uid()?;
            let body = f.body()?;
            Some((uid, Item::new(uid.to_string(), body)))
        })
        .collect();
    out.sort_by_key(|(uid, _)| *uid);
    // With more waiting than the window takes, the next digest continues after the last one listed.
    next.last_uid = match more {
        0 => next.last_uid.max(last_chosen),
        _ => last_chosen,
    };
    Ok((out.into_iter().map(|(_, item)| item).collect(), more, next))
}

/// The state before this run's messages count. Whatever a first run does not list is
/// older than its window: it counts as covered, so the next run starts from now.
fn start_state(info: &MailboxInfo, saved: Option<&DigestState>) -> DigestState {
    let floor = saved.map_or(0, |s| s.last_uid);
    DigestState {
        uidvalidity: info.uidvalidity,
        last_uid: match (saved, info.uid_next) {
            (None, Some(n)) => n.saturating_sub(1),
            _ => floor,
        },
    }
}
