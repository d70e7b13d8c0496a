//! `mailer digest`: one message summarising what arrived in a mailbox since the last
//! digest, for unattended runs from cron.
//!
//! Guarantees: the digest state advances only after the digest was accepted by the
//! server or durably queued, so a crash in between sends the same digest again at most
//! once and never skips a message; a lock keeps overlapping runs from sending two.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lettre::message::Mailbox;
use serde::{Deserialize, Serialize};

use super::queue::{Delivery, deliver};
use crate::config::Account;
use crate::error::{Exit, Failure};
use crate::imap;
use crate::message::compose::{self, AttachmentFile, Draft};
use crate::message::parse::{self, Full};
use crate::store::{self, lock, state};

/// What to summarise and where to send it.
#[derive(Debug, Clone)]
pub struct DigestRequest {
    pub to: Vec<Mailbox>,
    pub mailbox: String,
    pub max: usize,
    /// `{date}` and `{count}` are replaced.
    pub subject: String,
    pub send_if_empty: bool,
    pub attach_originals: bool,
}

/// What a digest run did.
#[derive(Debug)]
pub enum Outcome {
    /// Nothing new and `--if-empty skip`.
    Skipped,
    Sent {
        count: usize,
        more: usize,
        message_id: String,
    },
    Queued {
        count: usize,
        id: String,
        reason: String,
    },
}

/// The digest's own state, separate from `fetch`'s.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DigestState {
    uidvalidity: u32,
    /// Every message up to this UID has been in a digest.
    last_uid: u32,
}

/// Waits this long for a running digest before giving up.
const LOCK_WAIT: Duration = Duration::ZERO;
/// A first digest covers this much history.
const FIRST_RUN_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// Takes the account's digest lock, or says another digest is running.
pub fn lock(account: &Account, mailbox: &str) -> Result<lock::Lock, lock::Error> {
    let root = store::state_root().unwrap_or_else(|| PathBuf::from("."));
    let path = root
        .join(store::path_component(&account.name))
        .join(format!("digest-{}.lock", store::path_component(mailbox)));
    lock::acquire(&path, LOCK_WAIT)
}

pub async fn run(account: &Account, request: &DigestRequest) -> Result<Outcome, Failure> {
    if account.imap.is_none() {
        return Err(Failure::new(
            Exit::Config,
            format!(
                "{}: digest reads the mailbox over IMAP; account {:?} has no [accounts.{}.imap] section",
                account.config_path.display(),
                account.name,
                account.name
            ),
        ));
    }
    let state_root = store::state_root().ok_or_else(|| {
        Failure::new(
            Exit::Config,
            "no state directory: set XDG_STATE_HOME or HOME",
        )
    })?;
    let state_path = state::path(&state_root, &account.name, "digest", &request.mailbox);
    let saved: Option<DigestState> = state::load(&state_path).map_err(|e| {
        Failure::new(
            Exit::Data,
            format!("{e}: remove it to start the digest afresh"),
        )
    })?;

    let mut session = super::imap_session(account).await?;
    let collected = collect(&mut session, request, saved.as_ref()).await;
    session.logout().await;
    let (uidvalidity, messages, more) = collected?;

    if messages.is_empty() && !request.send_if_empty {
        // Remember the UIDVALIDITY, so the next run starts from here, not a day back.
        if saved.as_ref().is_none_or(|s| s.uidvalidity != uidvalidity) {
            let last = messages_floor(saved.as_ref(), uidvalidity);
            save(&state_path, uidvalidity, last)?;
        }
        return Ok(Outcome::Skipped);
    }

    let count = messages.len();
    let last_uid = messages
        .iter()
        .map(|(uid, _, _)| *uid)
        .max()
        .unwrap_or_else(|| messages_floor(saved.as_ref(), uidvalidity));
    let draft = build(account, request, &messages, more);
    let sender: lettre::Address = account.email.parse().map_err(|_| {
        Failure::new(
            Exit::Config,
            format!("accounts.{}.email is not an address", account.name),
        )
    })?;
    let message = compose::build(draft, &sender, account.display_name.as_deref())
        .map_err(|e| Failure::new(Exit::Data, format!("building the digest: {e}")))?;
    let delivery = deliver(account, &message, true).await?;
    // Accepted or durably queued: either way these messages have been digested.
    save(&state_path, uidvalidity, last_uid)?;
    Ok(match delivery {
        Delivery::Sent { .. } => Outcome::Sent {
            count,
            more,
            message_id: message.message_id,
        },
        Delivery::Queued { id, reason } => Outcome::Queued { count, id, reason },
    })
}

fn messages_floor(saved: Option<&DigestState>, uidvalidity: u32) -> u32 {
    saved
        .filter(|s| s.uidvalidity == uidvalidity)
        .map_or(0, |s| s.last_uid)
}

fn save(path: &std::path::Path, uidvalidity: u32, last_uid: u32) -> Result<(), Failure> {
    state::save(
        path,
        &DigestState {
            uidvalidity,
            last_uid,
        },
    )
    .map_err(|e| {
        Failure::new(
            Exit::Io,
            format!("saving digest state {}: {e}", path.display()),
        )
    })
}

/// The new messages, oldest first, at most `max`; and how many more are waiting.
async fn collect(
    session: &mut imap::Session,
    request: &DigestRequest,
    saved: Option<&DigestState>,
) -> Result<(u32, Vec<(u32, Full, Vec<u8>)>, usize), Failure> {
    let info = session.select(&request.mailbox, true).await?;
    let query = match saved.filter(|s| s.uidvalidity == info.uidvalidity) {
        Some(s) => format!("UID {}:*", s.last_uid.saturating_add(1)),
        None => {
            // A first digest (or a recreated mailbox) covers the last day, not all history.
            let since = SystemTime::now()
                .checked_sub(FIRST_RUN_WINDOW)
                .unwrap_or(UNIX_EPOCH)
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            let day = parse::imap_day(since.as_secs() as i64);
            format!("SINCE {day}")
        }
    };
    if info.exists == 0 {
        return Ok((info.uidvalidity, Vec::new(), 0));
    }
    let floor = messages_floor(saved, info.uidvalidity);
    let uids: Vec<u32> = session
        .search(&query)
        .await?
        .into_iter()
        .filter(|u| *u > floor)
        .collect();
    let more = uids.len().saturating_sub(request.max);
    let chosen: Vec<u32> = uids.into_iter().take(request.max).collect();
    if chosen.is_empty() {
        return Ok((info.uidvalidity, Vec::new(), 0));
    }
    let fetched = session
        .fetch_all(&imap::uid_set(&chosen), "(UID BODY.PEEK[])")
        .await?;
    let mut out: Vec<(u32, Full, Vec<u8>)> = fetched
        .iter()
        .filter_map(|f| {
            let uid = f.uid()?;
            let body = f.body()?;
            Some((uid, parse::full(body), body.to_vec()))
        })
        .collect();
    out.sort_by_key(|(uid, _, _)| *uid);
    Ok((info.uidvalidity, out, more))
}

/// The first lines of a body, for the summary.
fn preview(text: Option<&str>) -> String {
    let text = text.unwrap_or("");
    let mut lines = Vec::new();
    let mut chars = 0;
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('>'))
    {
        let line: String = line.chars().take(200).collect();
        chars += line.chars().count();
        lines.push(line);
        if lines.len() == 3 || chars > 300 {
            break;
        }
    }
    lines.join("\n")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn build(
    account: &Account,
    request: &DigestRequest,
    messages: &[(u32, Full, Vec<u8>)],
    more: usize,
) -> Draft {
    let today = parse::today();
    let subject = request
        .subject
        .replace("{date}", &today)
        .replace("{count}", &messages.len().to_string());
    let mut text = String::new();
    let mut html = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body style=\"font-family:sans-serif\">\n",
    );
    html.push_str(&format!(
        "<h2>{}</h2>\n",
        escape(&format!(
            "{} new in {} ({})",
            messages.len(),
            request.mailbox,
            account.email
        ))
    ));
    if messages.is_empty() {
        text.push_str(&format!("No new messages in {}.\n", request.mailbox));
        html.push_str("<p>No new messages.</p>\n");
    } else {
        html.push_str("<table cellpadding=\"6\" style=\"border-collapse:collapse\">\n<tr><th align=\"left\">Date</th><th align=\"left\">From</th><th align=\"left\">Subject</th></tr>\n");
    }
    for (i, (_, full, _)) in messages.iter().enumerate() {
        let e = &full.envelope;
        let date = e
            .date
            .as_deref()
            .map(|d| d.get(..16).unwrap_or(d).replace('T', " "))
            .unwrap_or_default();
        let from = e
            .from
            .first()
            .map(|p| match (&p.name, &p.address) {
                (Some(n), Some(a)) if !n.is_empty() => format!("{n} <{a}>"),
                (_, Some(a)) => a.clone(),
                (Some(n), None) => n.clone(),
                (None, None) => String::new(),
            })
            .unwrap_or_default();
        let subject = e.subject.as_deref().unwrap_or("(no subject)");
        let lines = preview(full.text.as_deref());
        text.push_str(&format!("{}. {date}  {from}\n   {subject}\n", i + 1));
        for l in lines.lines() {
            text.push_str(&format!("   | {l}\n"));
        }
        text.push('\n');
        html.push_str(&format!(
            "<tr style=\"border-top:1px solid #ddd\"><td valign=\"top\">{}</td><td valign=\"top\">{}</td><td valign=\"top\"><b>{}</b><br><span style=\"color:#555\">{}</span></td></tr>\n",
            escape(&date),
            escape(&from),
            escape(subject),
            escape(&lines).replace('\n', "<br>")
        ));
    }
    if !messages.is_empty() {
        html.push_str("</table>\n");
    }
    if more > 0 {
        let note = format!("{more} more new message(s) will be in the next digest.");
        text.push_str(&format!("{note}\n"));
        html.push_str(&format!("<p>{}</p>\n", escape(&note)));
    }
    html.push_str("</body></html>\n");
    let attachments = if request.attach_originals {
        messages
            .iter()
            .map(|(uid, _, raw)| AttachmentFile {
                filename: format!("message-{uid}.eml"),
                content_type: "message/rfc822".into(),
                data: raw.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    Draft {
        to: request.to.clone(),
        subject: Some(subject),
        text,
        html: Some(html),
        attachments,
        ..Draft::default()
    }
}
