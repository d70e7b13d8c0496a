//! Shell completion that asks mailer itself: account names after `-a`, mailbox names
//! after `-m` (INBOX, those the last `mailer mailboxes` saw and those fetched or
//! digested before, all known from the state directory), and queue ids after `queue
//! drop`. The script `mailer completions SHELL` prints calls back into the binary with
//! `MAILER_COMPLETE` set and the words of the command line; a `-c` among them picks the
//! config, an `-a` the account. Nothing here touches the network, and a config that
//! does not load completes nothing rather than printing an error.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use clap_complete::CompletionCandidate;

use crate::config::Config;

/// The variable the completion scripts set when they call mailer back.
pub const VAR: &str = "MAILER_COMPLETE";

/// The file in an account's state directory that holds its mailbox names.
const MAILBOXES: &str = "mailboxes.txt";

fn config() -> Option<Config> {
    let path = on_the_line("-c", "--config").map(PathBuf::from);
    Config::load(path.as_deref()).ok()
}

/// The value of an option among the words being completed, which the scripts pass
/// after `--` (`mailer -- mailer -c x.toml list -m `).
fn on_the_line(short: &str, long: &str) -> Option<OsString> {
    let words: Vec<OsString> = std::env::args_os()
        .skip_while(|a| a != "--")
        .skip(1)
        .collect();
    // The last word is the one being completed: not a value yet.
    let before = &words[..words.len().saturating_sub(1)];
    let with_equals = format!("{long}=");
    before.iter().enumerate().find_map(|(i, word)| {
        let text = word.to_string_lossy();
        if text == short || text == long {
            return before.get(i + 1).cloned();
        }
        text.strip_prefix(&with_equals).map(OsString::from)
    })
}

fn starting(current: &OsStr) -> impl Fn(&str) -> bool + '_ {
    move |name| name.starts_with(current.to_string_lossy().as_ref())
}

/// The accounts of the config, each with its address as help.
pub fn accounts(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(config) = config() else {
        return Vec::new();
    };
    config
        .accounts()
        .iter()
        .filter(|a| starting(current)(&a.name))
        .map(|a| CompletionCandidate::new(&a.name).help(Some(a.email.to_string().into())))
        .collect()
}

/// INBOX, the mailbox names `mailer mailboxes` last saw, and those with a fetch or
/// digest state: of the account `-a` names on the line, else of every account.
pub fn mailboxes(current: &OsStr) -> Vec<CompletionCandidate> {
    let mut names = vec!["INBOX".to_string()];
    let chosen = on_the_line("-a", "--account");
    let config = config();
    let accounts = config.as_ref().map(|c| c.accounts()).unwrap_or_default();
    for account in accounts
        .iter()
        .filter(|a| chosen.as_ref().is_none_or(|c| *c == *a.name))
    {
        let Ok(dir) = crate::store::account_dir(&account.name) else {
            continue;
        };
        if let Ok(text) = std::fs::read_to_string(dir.join(MAILBOXES)) {
            names.extend(text.lines().take(10_000).map(str::to_string));
        }
        names.extend(with_state(&dir));
    }
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|n| starting(current)(n))
        .map(CompletionCandidate::new)
        .collect()
}

/// The mailboxes an account's fetch and digest states are kept for
/// (`imap/Archive.json`, `digest/%E8%8D%89%E7%A8%BF.json`), their names decoded.
fn with_state(account_dir: &std::path::Path) -> Vec<String> {
    let mut names = Vec::new();
    for kind in ["imap", "digest"] {
        let files = std::fs::read_dir(account_dir.join(kind))
            .into_iter()
            .flatten()
            .flatten();
        for file in files.take(10_000) {
            let name = file.file_name();
            let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            if let Some(mailbox) = crate::store::from_path_component(stem) {
                names.push(mailbox);
            }
        }
    }
    names
}

/// The ids of what waits in the outboxes, each with its account as help.
pub fn queue_ids(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(config) = config() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for account in config.accounts() {
        let Ok(outbox) = crate::commands::deliver::outbox(account) else {
            continue;
        };
        for id in outbox.ids().unwrap_or_default() {
            if starting(current)(&id) {
                let help = format!("queued for {}", account.name);
                out.push(CompletionCandidate::new(id).help(Some(help.into())));
            }
        }
    }
    out
}

/// Keeps the names `mailer mailboxes` listed for completion; a failure only means
/// completion offers fewer names.
pub fn remember_mailboxes<'a>(account: &str, names: impl Iterator<Item = &'a str>) {
    let Ok(dir) = crate::store::account_dir(account) else {
        return;
    };
    let mut text = String::new();
    for name in names.filter(|n| !n.contains(['\n', '\r'])) {
        text.push_str(name);
        text.push('\n');
    }
    let kept = crate::store::create_private_dir(&dir)
        .and_then(|()| crate::store::write_atomic(&dir.join(MAILBOXES), text.as_bytes()));
    if let Err(e) = kept {
        tracing::debug!("not keeping the mailbox names for completion: {e}");
    }
}

/// The script for `shell` that `mailer completions SHELL` prints: it calls back into
/// mailer (found on PATH) for every completion.
pub fn registration(
    shell: clap_complete::Shell,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};
    let completer: &dyn EnvCompleter = match shell {
        clap_complete::Shell::Bash => &Bash,
        clap_complete::Shell::Zsh => &Zsh,
        clap_complete::Shell::Fish => &Fish,
        clap_complete::Shell::Elvish => &Elvish,
        _ => &Powershell,
    };
    completer.write_registration(VAR, "mailer", "mailer", "mailer", out)
}
