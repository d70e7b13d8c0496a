//! Shell completion that asks mailer itself: account names after `-a`, mailbox names
//! after `-m` (those the last `mailer mailboxes` saw, kept in the state directory), and
//! queue ids after `queue drop`. The script `mailer completions SHELL` prints calls back
//! into the binary with `MAILER_COMPLETE` set; nothing here touches the network, and a
//! config that does not load completes nothing rather than printing an error.

use std::ffi::OsStr;

use clap_complete::CompletionCandidate;

use crate::config::Config;

/// The variable the completion scripts set when they call mailer back.
pub const VAR: &str = "MAILER_COMPLETE";

/// The file in an account's state directory that holds its mailbox names.
const MAILBOXES: &str = "mailboxes.txt";

fn config() -> Option<Config> {
    Config::load(None).ok()
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

/// INBOX and the mailbox names `mailer mailboxes` last saw, of every account.
pub fn mailboxes(current: &OsStr) -> Vec<CompletionCandidate> {
    let mut names = vec!["INBOX".to_string()];
    for account in config().iter().flat_map(|c| c.accounts()) {
        let Ok(dir) = crate::store::account_dir(&account.name) else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(dir.join(MAILBOXES)) else {
            continue;
        };
        names.extend(text.lines().take(10_000).map(str::to_string));
    }
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|n| starting(current)(n))
        .map(CompletionCandidate::new)
        .collect()
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
