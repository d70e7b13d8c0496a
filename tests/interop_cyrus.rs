//! `mailer fetch`, `list`, `read` and `mailboxes` against a second real server, Cyrus IMAP
//! 3.6 (imapd and pop3d), whose hierarchy separator is `.` and whose folders live under
//! INBOX (`INBOX.Archive`). What mailer stores must be byte for byte what Cyrus serves
//! (`UID FETCH BODY[]` from Python's imaplib), with LF line ends.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;

use common::cyrus::{Cyrus, cyrus};
use common::{Account, Mailer, message_files};
use serde_json::Value;

fn json(mailer: Mailer) -> Vec<Value> {
    let run = mailer.run();
    run.ok();
    let v: Value = serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout()));
    v.as_array().expect("a JSON array").clone()
}

/// `user` over IMAPS, fetching into the setup's Maildir.
fn imaps(cyrus: &Cyrus, user: &str) -> Account {
    Account::new(user).maildir().imap(cyrus, "IMAPS_PORT")
}

/// `user` over POP3S, fetching into the setup's Maildir.
fn pop3s(cyrus: &Cyrus, user: &str) -> Account {
    Account::new(user).maildir().pop3(cyrus, "POP3S_PORT")
}

#[test]
fn imaps_fetch_of_inbox_stores_what_cyrus_serves_and_only_once() {
    let cyrus = cyrus();
    cyrus.seed("carol", 20, "INBOX");
    let setup = imaps(cyrus, "carol").build();
    let inbox = setup.local_folder("INBOX");

    let first = json(setup.mailer(&["fetch", "--inbox", "--json"]));
    assert_eq!(first.len(), 20);
    assert!(first.iter().all(|m| m["mailbox"] == "INBOX"), "{first:?}");
    assert_eq!(message_files(&inbox), cyrus.messages("carol", "INBOX"));

    let second = json(setup.mailer(&["fetch", "--inbox", "--json"]));
    assert!(second.is_empty(), "{second:?}");
    assert_eq!(message_files(&inbox).len(), 20);

    // New mail after that: only it is fetched.
    cyrus.seed("carol", 3, "INBOX");
    let third = setup.mailer(&["fetch", "--inbox"]).run();
    third.ok();
    assert_eq!(third.stdout().lines().count(), 3, "{}", third.stdout());
    assert_eq!(message_files(&inbox), cyrus.messages("carol", "INBOX"));
}

#[test]
fn starttls_over_imap_and_stls_over_pop3_store_the_same_bytes() {
    let cyrus = cyrus();
    let dotted: &[u8] = b"Message-ID: <dots@example.test>\r\nSubject: dots\r\n\r\n.hidden\r\n..two\r\n.\r\n. space\r\nend\r\n";
    let utf8: &[u8] = "Message-ID: <utf8@example.test>\r\nSubject: =?UTF-8?B?5ZGo5oql?=\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n本周工作进展顺利。\r\n"
        .as_bytes();
    cyrus.append("dave", "INBOX", &[dotted, utf8]);
    cyrus.seed("dave", 4, "INBOX");
    let served = cyrus.messages("dave", "INBOX");
    assert_eq!(served.len(), 6);

    let imap = Account::new("dave")
        .maildir()
        .imap(cyrus, "IMAP_PORT")
        .security("starttls")
        .build();
    assert_eq!(json(imap.mailer(&["fetch", "--inbox", "--json"])).len(), 6);
    assert_eq!(message_files(&imap.path("Mail")), served);

    let pop3 = Account::new("dave")
        .maildir()
        .pop3(cyrus, "POP3_PORT")
        .security("starttls")
        .build();
    assert_eq!(json(pop3.mailer(&["fetch", "--inbox", "--json"])).len(), 6);
    let local = message_files(&pop3.path("Mail"));
    assert_eq!(local, served);
    assert!(
        local
            .iter()
            .any(|m| m.ends_with(b"\n\n.hidden\n..two\n.\n. space\nend\n")),
        "the dotted message is stored as sent"
    );
}

#[test]
fn fetch_of_inbox_archive_stores_into_the_archive_folder() {
    let cyrus = cyrus();
    cyrus.seed("carol", 5, "INBOX.Archive");
    let setup = imaps(cyrus, "carol").build();

    let got = json(setup.mailer(&["fetch", "-m", "INBOX.Archive", "--json"]));
    assert_eq!(got.len(), 5);
    assert!(
        got.iter().all(|m| m["mailbox"] == "INBOX.Archive"),
        "{got:?}"
    );
    // INBOX is the root of the Maildir, so its subfolder INBOX.Archive is the folder
    // .Archive, which other readers show under INBOX; .INBOX.Archive would show as a
    // second INBOX.
    let archive = setup.local_folder("Archive");
    let nested_inbox = setup.local_folder("INBOX.Archive");
    assert!(
        !nested_inbox.exists(),
        "`mailer fetch -m INBOX.Archive` stored into {} instead of {}",
        nested_inbox.display(),
        archive.display()
    );
    assert_eq!(
        message_files(&archive),
        cyrus.messages("carol", "INBOX.Archive")
    );
    // Python's mailbox module, an independent reader, finds the folder Archive.
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import mailbox,sys\nmd=mailbox.Maildir(sys.argv[1],factory=None,create=False)\nprint(' '.join(sorted(md.list_folders())), len(md.get_folder('Archive')))",
        ])
        .arg(setup.path("Mail"))
        .output()
        .expect("python3");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "Archive 5",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    assert!(json(setup.mailer(&["fetch", "-m", "INBOX.Archive", "--json"])).is_empty());
    assert_eq!(message_files(&archive).len(), 5);
}

#[test]
fn list_read_and_mailboxes_show_cyrus_folders() {
    let cyrus = cyrus();
    cyrus.seed("carol", 6, "INBOX.Browse");
    let setup = imaps(cyrus, "carol").build();

    let listed = json(setup.mailer(&["list", "-m", "INBOX.Browse", "--limit", "3", "--json"]));
    let ids: Vec<u64> = listed.iter().map(|m| m["uid"].as_u64().unwrap()).collect();
    assert_eq!(ids, [6, 5, 4]);
    assert!(listed.iter().all(|m| m.get("path").is_none()));
    assert!(listed.iter().all(|m| m["mailbox"] == "INBOX.Browse"));

    let subject = listed[1]["subject"].as_str().unwrap();
    let read = setup.mailer(&["read", "-m", "INBOX.Browse", "5"]).run();
    assert!(read.ok().starts_with("Date:"), "{}", read.stdout());
    assert!(
        read.stdout().contains(&format!("Subject: {subject}")),
        "{}",
        read.stdout()
    );
    let read_json = setup
        .mailer(&["read", "-m", "INBOX.Browse", "5", "--json"])
        .run();
    read_json.ok();
    let v: Value = serde_json::from_str(&read_json.stdout()).unwrap();
    assert_eq!(v["subject"], subject);
    assert_eq!(v["message_id"], listed[1]["message_id"]);
    let err = setup
        .mailer(&["read", "-m", "INBOX.Browse", "99"])
        .fails_with(65);
    assert!(err.contains("no message with UID 99"), "{err}");

    let boxes = json(setup.mailer(&["mailboxes", "--json"]));
    let names: Vec<&str> = boxes.iter().map(|b| b["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"INBOX"), "{names:?}");
    let browse = boxes
        .iter()
        .find(|b| b["name"] == "INBOX.Browse")
        .unwrap_or_else(|| panic!("INBOX.Browse listed: {names:?}"));
    assert_eq!(
        (browse["total"].as_u64(), browse["unseen"].as_u64()),
        (Some(6), Some(6))
    );
}

#[test]
fn pop3s_fetch_is_byte_identical_and_incremental() {
    let cyrus = cyrus();
    cyrus.seed("alice", 10, "INBOX");
    let setup = pop3s(cyrus, "alice").build();
    let inbox = setup.path("Mail");

    let first = json(setup.mailer(&["fetch", "--inbox", "--json"]));
    assert_eq!(first.len(), 10);
    assert!(
        first
            .iter()
            .all(|m| !m["uidl"].as_str().unwrap().is_empty())
    );
    assert_eq!(message_files(&inbox), cyrus.messages("alice", "INBOX"));

    assert!(json(setup.mailer(&["fetch", "--inbox", "--json"])).is_empty());
    cyrus.seed("alice", 2, "INBOX");
    assert_eq!(json(setup.mailer(&["fetch", "--inbox", "--json"])).len(), 2);
    assert_eq!(message_files(&inbox).len(), 12);
    // The server keeps everything by default.
    assert_eq!(message_files(&inbox), cyrus.messages("alice", "INBOX"));
}

#[test]
fn pop3_delete_removes_only_what_was_stored() {
    let cyrus = cyrus();
    cyrus.seed("bob", 5, "INBOX");
    let before: HashSet<Vec<u8>> = cyrus.messages("bob", "INBOX").into_iter().collect();
    assert_eq!(before.len(), 5);
    let setup = pop3s(cyrus, "bob").build();
    let inbox = setup.path("Mail");

    // --limit 2 stores the newest two; only those two are deleted.
    let first = json(setup.mailer(&["fetch", "--inbox", "--limit", "2", "--delete", "--json"]));
    assert_eq!(first.len(), 2);
    let stored: HashSet<Vec<u8>> = message_files(&inbox).into_iter().collect();
    let left: HashSet<Vec<u8>> = cyrus.messages("bob", "INBOX").into_iter().collect();
    assert_eq!(stored.len(), 2);
    assert_eq!(left.len(), 3);
    assert!(
        stored.is_disjoint(&left),
        "a stored message is still on Cyrus"
    );
    assert_eq!(
        stored.union(&left).cloned().collect::<HashSet<_>>(),
        before,
        "a message was deleted without being stored"
    );

    // The rest, then nothing is left on the server and everything is here once.
    let second = json(setup.mailer(&["fetch", "--inbox", "--delete", "--json"]));
    assert_eq!(second.len(), 3);
    assert!(cyrus.messages("bob", "INBOX").is_empty());
    let local = message_files(&inbox);
    assert_eq!(local.len(), 5);
    assert_eq!(local.into_iter().collect::<HashSet<_>>(), before);
    assert!(json(setup.mailer(&["fetch", "--inbox", "--delete", "--json"])).is_empty());
}

#[test]
fn wrong_password_exits_77_and_unknown_mailbox_exits_65() {
    let cyrus = cyrus();
    let imap = imaps(cyrus, "carol").password_command("echo nope").build();
    let err = imap.mailer(&["fetch", "--inbox"]).fails_with(77);
    assert!(
        err.contains("refused the login of user \"carol@example.test\""),
        "{err}"
    );
    // The server's own words, as Cyrus sent them.
    assert!(
        err.contains(": Login failed: authentication failure"),
        "{err}"
    );

    // POP3: USER and PASS, pipelined with the first command (Cyrus lists PIPELINING
    // and USER), refused in Cyrus's words for PASS.
    let pop3 = pop3s(cyrus, "carol").password_command("echo nope").build();
    let err = pop3.mailer(&["fetch", "--inbox"]).fails_with(77);
    assert!(
        err.contains("refused the login of user \"carol@example.test\""),
        "{err}"
    );
    assert!(err.contains(": -ERR [AUTH] Invalid login"), "{err}");

    imap.configure(&imaps(cyrus, "carol"));
    let err = imap
        .mailer(&["fetch", "-m", "INBOX.NoSuchBox"])
        .fails_with(65);
    assert!(
        err.contains("no mailbox \"INBOX.NoSuchBox\" (the account has: INBOX")
            && err.contains("the server said: Mailbox does not exist"),
        "{err}"
    );
}

/// `search`, `mailboxes create`, `move` and `copy` on Cyrus: the same query finds the
/// same messages (Chinese text as UTF-8), and a moved message is byte for byte the one
/// that was there.
#[test]
fn search_and_move_work_on_cyrus_too() {
    let cyrus = cyrus();
    let message = |from: &str, subject: &str, body: &str| {
        format!(
            "From: {from}\r\nTo: carol@example.test\r\nSubject: {subject}\r\nMessage-ID: <{}@example.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n",
            body.len() + subject.len()
        )
        .into_bytes()
    };
    let messages = [
        message("ann@example.test", "Budget", "the numbers"),
        message(
            "bob@example.test",
            "=?UTF-8?B?5Lya6K6u6YCa55+l?=",
            "明天下午开会",
        ),
        message("ann@example.test", "Lunch", "tacos"),
    ];
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    cyrus.append("carol", "INBOX.Find", &refs);
    let before = cyrus.messages("carol", "INBOX.Find");
    let setup = imaps(cyrus, "carol").build();
    let uids = |query: &str| -> Vec<u64> {
        let found = json(setup.mailer(&["search", "-m", "INBOX.Find", "--json", query]));
        let mut uids: Vec<u64> = found.iter().map(|m| m["uid"].as_u64().unwrap()).collect();
        uids.sort();
        uids
    };
    assert_eq!(uids("from:ann"), [1, 3]);
    assert_eq!(uids("subject:会议"), [2]);
    assert_eq!(uids("明天"), [2]);
    assert_eq!(uids("tacos or subject:budget"), [1, 3]);
    setup.mailer(&["mailboxes", "create", "INBOX.Found"]).ok();
    setup
        .mailer(&[
            "move",
            "-m",
            "INBOX.Find",
            "--query",
            "from:ann",
            "INBOX.Found",
        ])
        .ok();
    setup
        .mailer(&["copy", "-m", "INBOX.Find", "2", "INBOX.Found"])
        .ok();
    let left = cyrus.messages("carol", "INBOX.Find");
    let found = cyrus.messages("carol", "INBOX.Found");
    assert_eq!(left.len(), 1);
    assert_eq!(found.len(), 3);
    // Found holds all three (two moved, one copied), byte for byte as they were; the
    // copied one is still in Find. (`messages` returns them sorted.)
    assert_eq!(
        found, before,
        "the moved and copied messages are not the ones that were there"
    );
    assert!(before.contains(&left[0]));
}
