//! The new messages of a POP3 inbox: a UIDL not summarised before.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::render::{Item, Window};
use crate::config::Server;
use crate::error::{Exit, Failure};
use crate::message::parse;
use crate::pop3::Session;

/// The POP3 digest's state: the UIDLs already summarised (or older than the first run).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DigestState {
    uidls: Vec<String>,
}

/// The new messages, as many as the window takes; how many more wait; and the state
/// once they are digested. A first run reads each message's Date (TOP n 0) to cover only
/// the window's last day.
pub async fn collect(
    server: &Server,
    saved: Option<DigestState>,
    window: Window,
) -> Result<(Vec<Item>, usize, DigestState), Failure> {
    let mut session = Session::open(server).await?;
    let Some(on_server) = session.uidl().await? else {
        return Err(Failure::new(
            Exit::Unavailable,
            format!(
                "{}: the POP3 server has no UIDL, which a digest needs to tell new mail",
                server.address()
            ),
        ));
    };
    let first_run = saved.is_none();
    let known: HashSet<String> = saved.unwrap_or_default().uidls.into_iter().collect();
    let mut baseline = Vec::new();
    let mut candidates = Vec::new();
    for (n, uidl) in on_server.iter().filter(|(_, u)| !known.contains(u)) {
        if first_run && !arrived_since(&mut session, *n, window.first_run_since).await? {
            baseline.push(uidl.clone());
            continue;
        }
        candidates.push((*n, uidl.clone()));
    }
    let more = candidates.len().saturating_sub(window.max);
    candidates.truncate(window.max);
    let mut items = Vec::with_capacity(candidates.len());
    for (n, uidl) in &candidates {
        let mut body = Vec::new();
        session.send_retr(*n).await?;
        session.read_retr(&mut body).await?;
        items.push(Item::new(uidl.clone(), &body));
    }
    session.leave().await;
    let present: HashSet<&String> = on_server.iter().map(|(_, u)| u).collect();
    let mut uidls: Vec<String> = known.into_iter().filter(|u| present.contains(u)).collect();
    uidls.extend(baseline);
    uidls.extend(candidates.into_iter().map(|(_, u)| u));
    uidls.sort_unstable();
    Ok((items, more, DigestState { uidls }))
}

/// Whether message `n` is dated on or after `since` (undated counts as new).
async fn arrived_since(session: &mut Session, n: u32, since: i64) -> Result<bool, Failure> {
    let header = session.top(n).await?;
    let date = parse::envelope_from_headers(&header, 0).date;
    Ok(date
        .as_deref()
        .and_then(mail_parser::DateTime::parse_rfc3339)
        .is_none_or(|d| d.to_timestamp() >= since))
}
