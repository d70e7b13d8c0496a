//! Completion as a bash user gets it: the script `mailer completions bash` prints is
//! sourced, and TAB after `-a`, `-m` and `queue drop` offers this config's accounts,
//! the mailboxes `mailer mailboxes` saw, and what waits in the outbox.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{Account, Setup, stack};

/// What bash offers for the command line `line`, the cursor at its end (after a
/// space, the next word).
fn tab(setup: &Setup, line: &str) -> Vec<String> {
    let bin = Path::new(env!("CARGO_BIN_EXE_mailer")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let script = r#"
        source <(mailer completions bash)
        read -ra COMP_WORDS <<< "$LINE"
        [[ $LINE == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
        _clap_complete_mailer mailer "${COMP_WORDS[COMP_CWORD]}"
        printf '%s\n' "${COMPREPLY[@]}"
    "#;
    let out = Command::new("bash")
        .args(["-c", script])
        .env("LINE", line)
        .env("PATH", path)
        .env("MAILER_CONFIG", setup.config())
        .env("XDG_STATE_HOME", setup.path("state"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn tab_offers_accounts_mailboxes_and_queue_ids() {
    let stack = stack();
    stack.deliver("carol", "Archive", &[b"Subject: a\r\n\r\nx\r\n".as_slice()]);
    let setup = Account::new("carol")
        .imap(stack, "IMAPS_PORT")
        .server("smtp", "127.0.0.1", common::closed_port())
        .security("none")
        .build();

    assert_eq!(tab(&setup, "mailer -a "), ["carol"]);
    let commands = tab(&setup, "mailer ");
    // The commands first, then the flags.
    let first_flag = commands.iter().position(|c| c.starts_with('-')).unwrap();
    let list = commands.iter().position(|c| c == "list").unwrap();
    assert!(list < first_flag, "{commands:?}");
    assert!(
        commands[first_flag..].iter().all(|c| c.starts_with('-')),
        "{commands:?}"
    );
    assert_eq!(tab(&setup, "mailer li"), ["list"]);

    // Mailboxes: INBOX always, and the others once `mailboxes` has listed them.
    assert_eq!(tab(&setup, "mailer list -m "), ["INBOX"]);
    setup.mailer(&["mailboxes"]).ok();
    assert_eq!(tab(&setup, "mailer list -m Ar"), ["Archive"]);

    // Queue ids: what `queue list` shows.
    let send = [
        "send",
        "--to",
        "bob@example.test",
        "-s",
        "later",
        "--body",
        "x",
    ];
    setup.mailer(&send).fails_with(75);
    let listed = setup.mailer(&["queue", "list", "--json"]).run().stdout();
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let id = listed[0]["queue_id"].as_str().unwrap().to_string();
    assert_eq!(tab(&setup, "mailer queue drop ")[0], id);
}

/// A `-c` on the line picks the config whose accounts are offered, an `-a` the account
/// whose mailboxes are; a mailbox fetched before is offered without `mailboxes`.
#[test]
fn tab_follows_the_config_and_account_on_the_line_and_offers_fetched_mailboxes() {
    let stack = stack();
    stack.deliver("bob", "Projects", &[b"Subject: a\r\n\r\nx\r\n".as_slice()]);
    let setup = Account::new("carol")
        .maildir()
        .imap(stack, "IMAPS_PORT")
        .build();
    let other = Account::new("bob")
        .maildir()
        .imap(stack, "IMAPS_PORT")
        .build();
    assert_eq!(tab(&setup, "mailer -a "), ["carol"]);
    let line = format!("mailer -c {} -a ", other.config().display());
    assert_eq!(tab(&setup, &line), ["bob"]);
    let line = format!("mailer --config={} -a ", other.config().display());
    assert_eq!(tab(&setup, &line), ["bob"]);

    // A mailbox fetched before is offered, for the account named on the line.
    other.mailer(&["fetch", "-m", "Projects"]).ok();
    assert_eq!(tab(&other, "mailer list -m "), ["INBOX", "Projects"]);
    assert_eq!(tab(&other, "mailer -a bob list -m P"), ["Projects"]);
    assert_eq!(tab(&other, "mailer -a nobody list -m "), ["INBOX"]);
    // carol fetched nothing but INBOX.
    assert_eq!(tab(&setup, "mailer -a carol list -m "), ["INBOX"]);
}
