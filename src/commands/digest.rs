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
pub fn lock(account: &Account, mailbox: &str) -> Result<lock::Lock, Failure> {
    let root = store::state_root().ok_or_else(|| {
        Failure::new(
            Exit::Config,
            "no state directory: set XDG_STATE_HOME or HOME",
        )
    })?;
    let mailbox = if mailbox.eq_ignore_ascii_case("INBOX") {
        "INBOX"
    } else {
        mailbox
    };
    let path = root
        .join(store::path_component(&account.name))
        .join(format!("digest-{}.lock", store::path_component(mailbox)));
    lock::acquire(&path, LOCK_WAIT).map_err(|e| match e {
        lock::Error::Busy { .. } => Failure::new(Exit::TempFail, e.to_string()),
        lock::Error::Io { .. } => Failure::new(Exit::Io, e.to_string()),
    })
}

/// A summarised message: its server key, parsed form and raw bytes.
type Item = (String, Full, Vec<u8>);

/// The state to save once the digest is accepted or queued.
enum Pending {
    Imap(PathBuf, DigestState),
    Pop3(PathBuf, Pop3DigestState),
}

impl Pending {
    fn save(&self) -> Result<(), Failure> {
        let (path, result) = match self {
            Pending::Imap(p, s) => (p, state::save(p, s)),
            Pending::Pop3(p, s) => (p, state::save(p, s)),
        };
        result.map_err(|e| {
            Failure::new(
                Exit::Io,
                format!("saving digest state {}: {e}", path.display()),
            )
        })
    }
}

/// The POP3 digest's state: the UIDLs already summarised (or older than the first run).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Pop3DigestState {
    uidls: Vec<String>,
}

pub async fn run(account: &Account, request: &DigestRequest) -> Result<Outcome, Failure> {
    let state_root = store::state_root().ok_or_else(|| {
        Failure::new(
            Exit::Config,
            "no state directory: set XDG_STATE_HOME or HOME",
        )
    })?;
    let load_error = |e: String| {
        Failure::new(
            Exit::Data,
            format!("{e}: remove it to start the digest afresh"),
        )
    };
    let (messages, more, pending) = match (&account.imap, &account.pop3) {
        (None, Some(server)) => {
            if !request.mailbox.eq_ignore_ascii_case("INBOX") {
                return Err(Failure::new(
                    Exit::Usage,
                    format!(
                        "--mailbox {:?}: account {:?} uses POP3, which has only the inbox",
                        request.mailbox, account.name
                    ),
                ));
            }
            let path = state::path(&state_root, &account.name, "digest-pop3", "INBOX");
            let saved: Option<Pop3DigestState> = state::load(&path).map_err(load_error)?;
            let (messages, more, next) = collect_pop3(account, server, request, saved).await?;
            (messages, more, Pending::Pop3(path, next))
        }
        (None, None) => {
            return Err(Failure::new(
                Exit::Config,
                format!(
                    "{}: account {:?} has neither [accounts.{}.imap] nor [accounts.{}.pop3] to read",
                    account.config_path.display(),
                    account.name,
                    account.name,
                    account.name
                ),
            ));
        }
        _ => {
            let mailbox = if request.mailbox.eq_ignore_ascii_case("INBOX") {
                "INBOX"
            } else {
                &request.mailbox
            };
            let path = state::path(&state_root, &account.name, "digest", mailbox);
            let saved: Option<DigestState> = state::load(&path).map_err(load_error)?;
            let mut session = super::imap_session(account).await?;
            let collected = collect(&mut session, request, saved.as_ref()).await;
            session.logout().await;
            let (messages, more, next) = collected?;
            (messages, more, Pending::Imap(path, next))
        }
    };

    if messages.is_empty() && !request.send_if_empty {
        // Remember where this run started, so the next one does not go back a day.
        pending.save()?;
        return Ok(Outcome::Skipped);
    }

    let count = messages.len();
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
    pending.save()?;
    Ok(match delivery {
        Delivery::Sent { .. } => Outcome::Sent {
            count,
            more,
            message_id: message.message_id,
        },
        Delivery::Queued { id, reason } => Outcome::Queued { count, id, reason },
    })
}

/// The new messages of an IMAP mailbox, oldest first, at most `max`; how many more wait;
/// and the state once they are digested.
async fn collect(
    session: &mut imap::Session,
    request: &DigestRequest,
    saved: Option<&DigestState>,
) -> Result<(Vec<Item>, usize, DigestState), Failure> {
    let info = session.select(&request.mailbox, true).await?;
    let floor = saved
        .filter(|s| s.uidvalidity == info.uidvalidity)
        .map_or(0, |s| s.last_uid);
    let query = match saved.filter(|s| s.uidvalidity == info.uidvalidity) {
        Some(s) => format!("UID {}:*", s.last_uid.saturating_add(1)),
        // A first digest (or a recreated mailbox) covers the last day, not all history.
        None => format!("SINCE {}", parse::imap_day(first_run_start())),
    };
    // Whatever this run does not list is older than its window: a first run (or one after
    // a UIDVALIDITY change) covers it, so the next run starts from now.
    let fresh_start = saved.is_none_or(|s| s.uidvalidity != info.uidvalidity);
    let mut next = DigestState {
        uidvalidity: info.uidvalidity,
        last_uid: match (fresh_start, info.uid_next) {
            (true, Some(n)) => n.saturating_sub(1),
            _ => floor,
        },
    };
    if info.exists == 0 {
        return Ok((Vec::new(), 0, next));
    }
    let uids: Vec<u32> = session
        .search(&query)
        .await?
        .into_iter()
        .filter(|u| *u > floor)
        .collect();
    let more = uids.len().saturating_sub(request.max);
    let chosen: Vec<u32> = uids.into_iter().take(request.max).collect();
    if chosen.is_empty() {
        return Ok((Vec::new(), 0, next));
    }
    let fetched = session
        .fetch_all(&imap::uid_set(&chosen), "(UID BODY.PEEK[])")
        .await?;
    let mut out: Vec<(u32, Item)> = fetched
        .iter()
        .filter_map(|f| {
            let uid = f.uid()?;
            let body = f.body()?;
            Some((uid, (uid.to_string(), parse::full(body), body.to_vec())))
        })
        .collect();
    out.sort_by_key(|(uid, _)| *uid);
    // With more waiting than --max, the next digest continues after the last one listed.
    next.last_uid = match more {
        0 => next
            .last_uid
            .max(chosen.iter().copied().max().unwrap_or(floor)),
        _ => chosen.iter().copied().max().unwrap_or(floor),
    };
    Ok((out.into_iter().map(|(_, item)| item).collect(), more, next))
}

/// The same over POP3: new = a UIDL not summarised before. A first run reads each
/// message's Date (TOP n 0) to cover only the last day.
async fn collect_pop3(
    account: &Account,
    server: &crate::config::Server,
    request: &DigestRequest,
    saved: Option<Pop3DigestState>,
) -> Result<(Vec<Item>, usize, Pop3DigestState), Failure> {
    let password = super::password_reader(account, server, "pop3");
    let mut session = crate::pop3::Session::open(server, password).await?;
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
    let known: std::collections::HashSet<String> =
        saved.unwrap_or_default().uidls.into_iter().collect();
    let mut baseline = Vec::new();
    let mut candidates = Vec::new();
    for (n, uidl) in &on_server {
        if known.contains(uidl) {
            continue;
        }
        if first_run {
            let header = session.top(*n).await?;
            let date = parse::envelope_from_headers(&header, 0).date;
            let recent = date
                .as_deref()
                .and_then(mail_parser::DateTime::parse_rfc3339)
                .is_none_or(|d| d.to_timestamp() >= first_run_start());
            if !recent {
                baseline.push(uidl.clone());
                continue;
            }
        }
        candidates.push((*n, uidl.clone()));
    }
    let more = candidates.len().saturating_sub(request.max);
    candidates.truncate(request.max);
    let mut items = Vec::with_capacity(candidates.len());
    for (n, uidl) in &candidates {
        let mut body = Vec::new();
        session.send_retr(*n).await?;
        session.read_retr(&mut body).await?;
        items.push((uidl.clone(), parse::full(&body), body));
    }
    let _ = session.quit().await;
    let present: std::collections::HashSet<&String> = on_server.iter().map(|(_, u)| u).collect();
    let mut uidls: Vec<String> = known.into_iter().filter(|u| present.contains(u)).collect();
    uidls.extend(baseline);
    uidls.extend(candidates.into_iter().map(|(_, u)| u));
    uidls.sort_unstable();
    Ok((items, more, Pop3DigestState { uidls }))
}

/// The Unix time a first digest starts from.
fn first_run_start() -> i64 {
    SystemTime::now()
        .checked_sub(FIRST_RUN_WINDOW)
        .unwrap_or(UNIX_EPOCH)
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
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

fn build(account: &Account, request: &DigestRequest, messages: &[Item], more: usize) -> Draft {
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
            .map(|(key, _, raw)| AttachmentFile {
                filename: format!("message-{}.eml", crate::store::path_component(key)),
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
