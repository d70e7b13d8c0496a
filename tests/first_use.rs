//! What a new user hit, trying mailer the way the README and docs/ tell: a cron job's
//! bare environment, a mailbox name with a typo, the outbox of a second account, a file
//! that is not a message, a POP3 account. Each is a bug that was, and must stay gone.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Account, Setup, stack};

/// `maildir = "~/..."` under `env -i` (no HOME) must not become `./~/...` in the
/// working directory: the run stops with a config error naming the key and its line.
#[test]
fn a_maildir_under_home_without_home_is_a_config_error_and_nothing_is_written() {
    let stack = stack();
    stack.seed("bob", 1, "INBOX");
    let setup = Account::new("bob")
        .set("maildir", "~/Mail/bob")
        .imap(stack, "IMAPS_PORT")
        .build();
    let err = setup
        .mailer(&["fetch", "--inbox"])
        .env_remove("HOME")
        .fails_with(78);
    assert!(err.contains("accounts.bob.maildir"), "{err}");
    assert!(err.contains("HOME is not set"), "{err}");
    let text = std::fs::read_to_string(setup.config()).unwrap();
    let line = 1 + text.lines().position(|l| l.starts_with("maildir")).unwrap();
    assert!(
        err.contains(&format!(".toml:{line}:")),
        "the key's line: {err}"
    );
    assert!(!setup.path("~").exists(), "a literal ~ directory was made");
    assert!(
        !setup.path("state/mailer/bob").exists(),
        "state was written"
    );
}

#[test]
fn a_relative_maildir_is_a_config_error() {
    let setup = Account::new("bob").set("maildir", "Mail/bob").build();
    let err = setup.mailer(&["fetch", "--inbox"]).fails_with(78);
    assert!(
        err.contains("accounts.bob.maildir: \"Mail/bob\" is relative"),
        "{err}"
    );
    assert!(!setup.path("Mail").exists());
}

/// A missing mailbox with a non-ASCII name is a missing mailbox (65), with the ones the
/// account has; not a parser dump and not "try again later" (75), which a cron
/// wrapper would hide for ever.
#[test]
fn a_missing_mailbox_with_a_chinese_name_is_named_with_the_ones_there_are() {
    let stack = stack();
    stack.seed("bob", 1, "Archive");
    let setup = Account::new("bob")
        .maildir()
        .imap(stack, "IMAPS_PORT")
        .build();
    for command in [&["fetch", "-m", "已发送"][..], &["list", "-m", "已发送"]] {
        let err = setup.mailer(command).fails_with(65);
        assert!(err.contains("no mailbox \"已发送\""), "{err}");
        assert!(err.contains("(the account has: "), "{err}");
        assert!(err.contains("Archive") && err.contains("INBOX"), "{err}");
        assert!(!err.contains("input: ["), "{err}");
    }
    let err = setup.mailer(&["fetch", "-m", "Archiv"]).fails_with(65);
    assert!(
        err.contains("no mailbox \"Archiv\" (the account has: "),
        "{err}"
    );
}

/// Queue ids are found in whichever account's outbox holds them: `queue drop ID` with
/// the id `queue list` just printed, whatever the default account.
#[test]
fn queue_drop_finds_an_id_of_another_account() {
    let closed = common::closed_port();
    let down = |id: &str| {
        Account::new(id)
            .server("smtp", "127.0.0.1", closed)
            .security("none")
    };
    let setup = down("alice").account(down("bob")).build();
    let run = setup
        .mailer(&[
            "-a",
            "bob",
            "send",
            "--to",
            "c@example.test",
            "--subject",
            "s",
            "--body",
            "b",
        ])
        .run();
    assert_eq!(run.code(), 75, "{}", run.stderr());
    let listed = setup.mailer(&["queue", "list"]).run().stdout();
    let line = listed
        .lines()
        .find(|l| l.contains("bob"))
        .unwrap_or_else(|| {
            panic!("queue list names the account: {listed}");
        });
    let id = line.split_whitespace().next().unwrap();
    setup.mailer(&["queue", "drop", id]).ok();
    assert!(setup.mailer(&["queue", "list"]).run().stdout().is_empty());
    let err = setup.mailer(&["queue", "drop", id]).fails_with(64);
    assert!(err.contains("no queued message"), "{err}");
}

/// `read --file` of something that is not a message refuses it, as `send --raw` does.
#[test]
fn read_file_refuses_what_is_not_a_message() {
    let setup = Setup::empty();
    let pdf = setup.write(
        "report.pdf",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n\n",
    );
    let binary = setup.write("noise.bin", &[0u8, 159, 146, 150, 10, 10, 255, 1]);
    for path in [
        pdf.as_path(),
        binary.as_path(),
        std::path::Path::new("/dev/null"),
    ] {
        let err = setup
            .mailer(&["read", "--file", path.to_str().unwrap()])
            .fails_with(65);
        assert!(
            err.contains(&format!("{}: not an RFC 5322 message", path.display())),
            "{err}"
        );
    }
    let eml = setup.write(
        "ok.eml",
        b"Subject: fine\r\nFrom: a@example.test\r\n\r\nbody\r\n",
    );
    let out = setup
        .mailer(&["read", "--file", eml.to_str().unwrap()])
        .run();
    assert!(out.ok().contains("fine") || out.stdout().contains("fine"));
}

/// A POP3 account reads a message by the id `list` prints, saves its attachments, and
/// is told what POP3 has instead of "add an [imap] section".
#[test]
fn a_pop3_account_reads_by_the_id_list_prints() {
    let stack = stack();
    stack.deliver(
        "carol",
        "INBOX",
        &[b"Subject: pop3-read-token\r\nFrom: z@example.test\r\nMessage-ID: <p3r@example.test>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nthe body\r\n--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=notes.txt\r\n\r\nnotes\r\n--b--\r\n"],
    );
    let setup = Account::new("carol")
        .maildir()
        .pop3(stack, "POP3S_PORT")
        .build();
    let run = setup.mailer(&["list", "--json"]).run();
    run.ok();
    let listed: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    let entry = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["subject"] == "pop3-read-token")
        .unwrap();
    let id = entry["uidl"].as_str().unwrap();
    let out = setup.mailer(&["read", id]).run();
    out.ok();
    assert!(out.stdout().contains("the body"), "{}", out.stdout());
    let dir = setup.path("saved");
    std::fs::create_dir(&dir).unwrap();
    setup
        .mailer(&["attachments", id, "--dir", dir.to_str().unwrap()])
        .ok();
    assert_eq!(std::fs::read(dir.join("notes.txt")).unwrap(), b"notes");
    // Nothing was deleted from the server by reading.
    assert_eq!(stack.count_containing("carol", "pop3-read-token"), 1);

    let err = setup.mailer(&["read", "no-such-id"]).fails_with(65);
    assert!(err.contains("no message \"no-such-id\""), "{err}");
    let err = setup.mailer(&["mailboxes"]).fails_with(64);
    assert!(err.contains("uses POP3, which has only the inbox"), "{err}");
    assert!(!err.contains("[accounts.carol.imap]"), "{err}");
}
