//! `mailer fetch` over POP3 against the harness's real Dovecot (POP3S, STLS, plain):
//! byte-identical, incremental by UIDL, and deleting only what is durably stored.

mod common;

use common::fault::cut_proxy;
use common::{Setup, message_files, stack};

fn json(run: &common::Run) -> Vec<serde_json::Value> {
    run.ok();
    serde_json::from_str::<serde_json::Value>(&run.stdout())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout()))
        .as_array()
        .expect("an array")
        .clone()
}

#[test]
fn pop3s_fetch_is_byte_identical_and_incremental() {
    let stack = stack();
    stack.seed("alice", 25, "INBOX");
    let setup = Setup::pop3(stack, "alice", stack.port("POP3S_PORT"), "tls");
    let first = json(&setup.mailer(&["fetch", "--inbox", "--json"]));
    assert_eq!(first.len(), 25);
    assert!(first.iter().all(|m| !m["id"].as_str().unwrap().is_empty()));
    assert_eq!(
        message_files(&setup.path("Mail")),
        stack.server_messages("alice", "INBOX")
    );
    assert!(json(&setup.mailer(&["fetch", "--inbox", "--json"])).is_empty());
    stack.seed("alice", 2, "INBOX");
    assert_eq!(
        json(&setup.mailer(&["fetch", "--inbox", "--json"])).len(),
        2
    );
    assert_eq!(message_files(&setup.path("Mail")).len(), 27);
    // The server keeps everything by default.
    assert_eq!(stack.server_messages("alice", "INBOX").len(), 27);

    let listed = json(&setup.mailer(&["list", "--limit", "3", "--json"]));
    assert_eq!(listed.len(), 3);
}

#[test]
fn stls_round_trips_lines_that_start_with_a_dot() {
    let stack = stack();
    let dotted: &[u8] = b"Message-ID: <dots@example.test>\r\nSubject: dots\r\n\r\n.hidden\r\n..two\r\n.\r\n. space\r\nend\r\n";
    stack.deliver("bob", "INBOX", &[dotted]);
    let setup = Setup::pop3(stack, "bob", stack.port("POP3_PORT"), "starttls");
    let got = json(&setup.mailer(&["fetch", "--inbox", "--json"]));
    assert_eq!(got.len(), 1);
    let local = message_files(&setup.path("Mail"));
    assert_eq!(local, stack.server_messages("bob", "INBOX"));
    assert!(local[0].ends_with(b"\n\n.hidden\n..two\n.\n. space\nend\n"));
}

#[test]
fn delete_removes_exactly_what_is_stored_and_a_cut_before_quit_removes_nothing() {
    let stack = stack();
    stack.seed("carol", 5, "INBOX");

    // --limit 2 stores the newest two; only those two are deleted.
    let direct = Setup::pop3(stack, "carol", stack.port("POP3S_PORT"), "tls");
    let first = json(&direct.mailer(&["fetch", "--inbox", "--limit", "2", "--delete", "--json"]));
    assert_eq!(first.len(), 2);
    assert_eq!(stack.server_messages("carol", "INBOX").len(), 3);

    // Two more arrive; this run is cut when it sends QUIT, after DELE: the server must
    // keep all five, and nothing is stored twice.
    stack.seed("carol", 2, "INBOX");
    let port = cut_proxy(stack.port("POP3_PORT"), b"QUIT");
    let cut = Setup::pop3(stack, "carol", port, "none");
    std::fs::remove_dir_all(cut.path("Mail")).ok();
    // Same Maildir and state as the direct account, through the proxy.
    cut.edit(
        &cut.path("Mail").display().to_string(),
        &direct.path("Mail").display().to_string(),
    );
    let state_src = direct.path("state");
    let run = cut_with_state(&cut, &state_src);
    let err = run.fails_with(75);
    assert!(
        err.contains("QUIT failed") && err.contains("every one is stored"),
        "{err}"
    );
    assert_eq!(stack.server_messages("carol", "INBOX").len(), 5);
    // Stored durably before the cut: the three older ones --limit left, and the two new.
    assert_eq!(message_files(&direct.path("Mail")).len(), 7);

    // A clean rerun stores nothing new and now deletes them.
    let again = json(&direct.mailer(&["fetch", "--inbox", "--delete", "--json"]));
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(stack.server_messages("carol", "INBOX").len(), 0);
    assert_eq!(message_files(&direct.path("Mail")).len(), 7);
}

/// Runs `fetch --delete` through the cutting proxy with the direct account's state.
fn cut_with_state(cut: &Setup, state: &std::path::Path) -> common::Run {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mailer"))
        .arg("-c")
        .arg(cut.config())
        .args(["fetch", "--inbox", "--delete"])
        .env("XDG_STATE_HOME", state)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    common::Run(out)
}

#[test]
fn wrong_password_exits_77_and_plain_text_login_needs_consent() {
    let stack = stack();
    let setup = Setup::pop3(stack, "alice", stack.port("POP3S_PORT"), "tls");
    setup.edit("echo alicepw", "echo wrong");
    let err = setup.mailer(&["fetch", "--inbox"]).fails_with(77);
    assert!(
        err.contains("refused the login of user \"alice@example.test\""),
        "{err}"
    );

    let plain = Setup::pop3(stack, "alice", stack.port("POP3_PORT"), "none");
    plain.edit("allow_insecure_auth = true", "allow_insecure_auth = false");
    let err = plain.mailer(&["fetch", "--inbox"]).fails_with(78);
    assert!(
        err.contains("not sending a password over an unencrypted connection"),
        "{err}"
    );
}
