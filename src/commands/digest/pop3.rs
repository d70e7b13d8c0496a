//! The new messages of a POP3 inbox: a UIDL not summarised before.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::render::{Item, Window};
use crate::config::Server;
use crate::error::{Exit, Failure};
use crate::message::parse;
use crate::pop3::{Retrievals, Session};

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
    let unknown: Vec<&(u32, String)> = on_server
        .iter()
        .filter(|(_, u)| !known.contains(u))
        .collect();
    // A first run reads the Dates a chunk of TOPs at a time (together where the server
    // pipelines): neither a round trip per message nor every header held at once.
    for chunk in unknown.chunks(crate::pop3::HEADERS_AT_ONCE) {
        let dated = if first_run {
            arrived_since(&mut session, chunk, window.first_run_since).await?
        } else {
            vec![true; chunk.len()]
        };
        for ((n, uidl), new) in chunk.iter().zip(dated) {
            if new {
                candidates.push((*n, uidl.clone()));
            } else {
                baseline.push(uidl.clone());
            }
        }
    }
    let more = candidates.len().saturating_sub(window.max);
    candidates.truncate(window.max);
    let mut items = Vec::with_capacity(candidates.len());
    let mut plan = Retrievals::new(candidates.iter().map(|(n, _)| (*n, 0)).collect());
    for (_, uidl) in &candidates {
        let mut body = Vec::new();
        session.next_retr(&mut plan, &mut body).await?;
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

/// Whether each of `messages` is dated on or after `since` (undated counts as new).
async fn arrived_since(
    session: &mut Session,
    messages: &[&(u32, String)],
    since: i64,
) -> Result<Vec<bool>, Failure> {
    let numbers: Vec<u32> = messages.iter().map(|(n, _)| *n).collect();
    let headers = session.tops(&numbers).await?;
    Ok(headers
        .iter()
        .map(|header| {
            let date = parse::envelope_from_headers(header, 0).date;
            date.as_deref()
                .and_then(mail_parser::DateTime::parse_rfc3339)
                .is_none_or(|d| d.to_timestamp() >= since)
        })
        .collect())
}
