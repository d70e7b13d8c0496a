//! Fetch over POP3: new = a UIDL not stored before. State is the set of stored UIDLs;
//! file names record each message's UIDL too, so a run killed between committing files
//! and saving state stores nothing twice. With `--delete`, DELE is sent only for
//! messages already durable in the Maildir, and the server deletes them only at a QUIT
//! that succeeds: a connection lost before that deletes nothing.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::request::{FetchReport, FetchRequest, Job, Sink};
use super::writer::{self, Body, Key};
use crate::config::{Account, Server};
use crate::error::{Exit, Failure};
use crate::mailbox::MailboxName;
use crate::pop3::{Retrievals, Session};
use crate::store::maildir::{self, Folder};
use crate::store::state::{self, Pop3State};

pub async fn run(
    account: &Account,
    server: &Server,
    job: &Job<'_>,
    mut sink: Box<dyn Sink>,
) -> Result<FetchReport, Failure> {
    let (request, root) = (job.request, job.root);
    refuse_imap_only_flags(account, request)?;
    let delete = request.delete || server.delete_after_fetch;
    let state_path = state::path(job.account_dir, "pop3", &MailboxName::inbox());
    let (folder, stored) = open_local(root, &state_path)?;
    let mut session = Session::open(server).await?;
    let (listed, uidls) = session.list_and_uidl().await?;
    let sizes: HashMap<u32, u64> = listed.into_iter().collect();
    let ids = identities(&mut session, &sizes, uidls, &mut *sink).await?;

    let mut wanted: Vec<(u32, String)> = ids
        .iter()
        .filter(|(_, id)| !stored.contains(id))
        .cloned()
        .collect();
    let mut report = FetchReport {
        already_stored: ids.len() - wanted.len(),
        ..FetchReport::default()
    };
    if let Some(limit) = request.limit {
        let skip = wanted.len().saturating_sub(limit);
        wanted.drain(..skip);
    }
    // What the state keeps: the stored identities still on the server (older ones can
    // never come back), plus everything stored in this run.
    let on_server: HashSet<String> = ids.iter().map(|(_, id)| id.clone()).collect();
    let state = Arc::new(Mutex::new(StateFile {
        path: state_path,
        folder: root.to_path_buf(),
        stored: stored.intersection(&on_server).cloned().collect(),
    }));

    sink.start(wanted.len());
    if !wanted.is_empty() {
        let written = store_all(&mut session, folder, &wanted, &sizes, sink, &state).await?;
        report.stored = written.keys.len();
        report.bytes = written.bytes;
    } else {
        drop(sink);
    }
    let durable = lock_state(&state).stored.clone();
    finish(session, &ids, &durable, delete).await?;
    lock_state(&state)
        .save()
        .map_err(|e| Failure::io("saving state", e))?;
    Ok(report)
}

/// Flags POP3 cannot honour are refused before anything connects.
fn refuse_imap_only_flags(account: &Account, request: &FetchRequest) -> Result<(), Failure> {
    let refused = if !request.mailbox.is_inbox() {
        Some("--mailbox (POP3 has only the inbox)")
    } else if request.since.is_some() {
        Some("--since (POP3 cannot search by date)")
    } else if request.mark_seen {
        Some("--mark-seen (POP3 keeps no flags)")
    } else {
        None
    };
    match refused {
        Some(what) => Err(Failure::new(
            Exit::Usage,
            format!(
                "{what}: account {:?} uses POP3, which has no such thing",
                account.name
            ),
        )),
        None => Ok(()),
    }
}

/// The inbox folder, and the identities already stored in it: by the state at
/// `state_path`, and by the file names, which survive a run killed before it saved.
fn open_local(root: &Path, state_path: &Path) -> Result<(Folder, HashSet<String>), Failure> {
    let shown = root.display();
    let existed = maildir::exists(root);
    let folder = Folder::open(root, false)
        .map_err(|e| Failure::io(format!("opening Maildir {shown}"), e))?;
    folder.clean_stale_tmp();
    let saved = match state::load::<Pop3State>(state_path) {
        Ok(s) => s.filter(|s| existed && s.folder == root),
        Err(e) => {
            tracing::warn!("{e}; recovering from the Maildir's file names");
            None
        }
    };
    let mut stored: HashSet<String> = saved
        .map(|s| s.uidls.into_iter().collect())
        .unwrap_or_default();
    let entries = folder
        .scan()
        .map_err(|e| Failure::io(format!("reading Maildir {shown}"), e))?;
    stored.extend(entries.into_iter().filter_map(|e| e.uidl));
    Ok((folder, stored))
}

fn lock_state(state: &Mutex<StateFile>) -> std::sync::MutexGuard<'_, StateFile> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Downloads `wanted` through the writer thread; the state hears of each durable batch.
async fn store_all(
    session: &mut Session,
    folder: Folder,
    wanted: &[(u32, String)],
    sizes: &HashMap<u32, u64>,
    sink: Box<dyn Sink>,
    state: &Arc<Mutex<StateFile>>,
) -> Result<writer::Written, Failure> {
    let on_commit = {
        let state = state.clone();
        move |keys: &[Key], _: &[Key]| {
            let mut s = lock_state(&state);
            s.stored.extend(keys.iter().filter_map(|k| match k {
                Key::Uidl(id) => Some(id.clone()),
                Key::Uid(_) => None,
            }));
            s.save()
        }
    };
    let inbox = MailboxName::inbox().to_string();
    let (sender, handle) =
        writer::start(folder, sink, inbox, None, Box::new(|_, _| false), on_commit);
    let network = download(session, wanted, sizes, sender).await;
    let written = handle.finish()?;
    network?;
    Ok(written)
}

/// Ends the session. With `delete`, DELE goes out first for every durable message, and
/// only a QUIT that succeeds makes the server delete them.
async fn finish(
    mut session: Session,
    ids: &[(u32, String)],
    durable: &HashSet<String>,
    delete: bool,
) -> Result<(), Failure> {
    if !delete {
        // Nothing depends on QUIT when nothing is deleted.
        session.leave().await;
        return Ok(());
    }
    let doomed: Vec<u32> = ids
        .iter()
        .filter(|(_, id)| durable.contains(id))
        .map(|(n, _)| *n)
        .collect();
    session.dele_all(&doomed).await?;
    session.quit().await.map_err(|e| {
        Failure::from(e).context("QUIT failed, so the server may have kept the messages marked for deletion (every one is stored; the next run deletes them)")
    })
}

struct StateFile {
    path: PathBuf,
    folder: PathBuf,
    stored: HashSet<String>,
}

impl StateFile {
    fn save(&self) -> std::io::Result<()> {
        let mut uidls: Vec<String> = self.stored.iter().cloned().collect();
        uidls.sort_unstable();
        state::save(
            &self.path,
            &Pop3State {
                uidls,
                folder: self.folder.clone(),
            },
        )
    }
}

/// Each message's identity: its UIDL (`uidls`, as UIDL gave them), or, on a server
/// without UIDL, a hash of its header section and size (the sink is told, once).
async fn identities(
    session: &mut Session,
    sizes: &HashMap<u32, u64>,
    uidls: Option<Vec<(u32, String)>>,
    sink: &mut dyn Sink,
) -> Result<Vec<(u32, String)>, Failure> {
    if let Some(uidls) = uidls {
        return Ok(uidls);
    }
    sink.notice(
        "the POP3 server has no UIDL; recognising messages by a hash of their headers and size instead",
    );
    let mut numbers: Vec<u32> = sizes.keys().copied().collect();
    numbers.sort_unstable();
    let mut out = Vec::with_capacity(numbers.len());
    let identity = |n: u32, header: &[u8]| {
        let header = crate::store::maildir::to_lf(header);
        let end = memchr::memmem::find(&header, b"\n\n").map_or(header.len(), |p| p + 1);
        (n, format!("h:{:016x}:{}", fnv1a(&header[..end]), sizes[&n]))
    };
    if session.caps.top {
        for chunk in numbers.chunks(crate::pop3::HEADERS_AT_ONCE) {
            let headers = session.tops(chunk).await?;
            out.extend(chunk.iter().zip(&headers).map(|(n, h)| identity(*n, h)));
        }
        return Ok(out);
    }
    let sized = numbers
        .iter()
        .map(|n| (*n, sizes.get(n).copied().unwrap_or(0)));
    let mut plan = Retrievals::new(sized.collect());
    let mut whole = Vec::new();
    while let Some(n) = session.next_retr(&mut plan, &mut whole).await? {
        out.push(identity(n, &whole));
        whole.clear();
    }
    Ok(out)
}

/// FNV-1a: a stable 64-bit hash, the same on every machine and Rust version.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Retrieves the wanted messages, RETRs sent ahead as the server allows (see
/// `pop3::Retrievals`).
async fn download(
    session: &mut Session,
    wanted: &[(u32, String)],
    sizes: &HashMap<u32, u64>,
    sender: writer::Sender,
) -> Result<(), Failure> {
    let size = |n: &u32| sizes.get(n).copied();
    let plan = wanted.iter().map(|(n, _)| (*n, size(n).unwrap_or(0)));
    let mut plan = Retrievals::new(plan.collect());
    for (n, id) in wanted {
        // The server's LIST size, as a first guess only: no more than a reply can hold.
        let guess = size(n)
            .unwrap_or(0)
            .min(crate::net::limits::POP3_REPLY as u64) as usize;
        let mut body = Vec::with_capacity(guess + 64);
        session.next_retr(&mut plan, &mut body).await?;
        let size = size(n).unwrap_or(body.len() as u64);
        if !sender
            .send(Key::Uidl(id.clone()), Body::Bytes(body), Vec::new(), size)
            .await
        {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
