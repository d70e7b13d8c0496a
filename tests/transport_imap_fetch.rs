//! `mailer fetch` and friends against the harness's real Dovecot: messages arrive in the
//! Maildir byte for byte, exactly once, whatever happens in between.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::fault::{CutProxy, Direction};
use common::roundtrips::RoundTrips;
use common::{Account, Mailer, Stack, message_files, stack};
use serde_json::Value;

/// carol over IMAPS, fetching into the setup's Maildir.
fn carol(stack: &Stack) -> Account {
    Account::new("carol").maildir().imap(stack, "IMAPS_PORT")
}

fn json(mailer: Mailer) -> Vec<Value> {
    let run = mailer.run();
    run.ok();
    let v: Value = serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout()));
    v.as_array().expect("a JSON array").clone()
}

fn message_ids(folder: &std::path::Path) -> Vec<String> {
    let mut ids: Vec<String> = message_files(folder)
        .iter()
        .map(|m| {
            mail_parser::MessageParser::default()
                .parse_headers(m)
                .and_then(|p| p.message_id().map(str::to_string))
                .expect("every stored message has a Message-ID")
        })
        .collect();
    ids.sort();
    ids
}

#[test]
fn fetch_stores_every_message_byte_identical_and_only_once() {
    let stack = stack();
    stack.seed("carol", 40, "Once");
    let setup = carol(stack).build();

    let first = json(setup.mailer(&["fetch", "--mailbox", "Once", "--json"]));
    assert_eq!(first.len(), 40);
    let local = setup.local_folder("Once");
    assert_eq!(
        message_files(&local),
        stack.server_messages("carol", "Once")
    );
    for m in &first {
        let path = m["path"].as_str().expect("path");
        assert!(std::path::Path::new(path).starts_with(&local), "{path}");
        assert!(m["uid"].as_u64().is_some_and(|u| u > 0), "{m}");
        assert!(m["date"].as_str().unwrap().contains('T'));
        assert!(m["size"].as_u64().unwrap() > 0);
    }
    // Python's mailbox module, an independent reader, sees the same messages.
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import mailbox,sys\nmd=mailbox.Maildir(sys.argv[1],factory=None,create=False).get_folder('Once')\nprint('\\n'.join(sorted(m['Message-ID'] for m in md)))",
        ])
        .arg(setup.path("Mail"))
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let python_ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|id| id.trim_matches(['<', '>']).to_string())
        .collect();
    assert_eq!(python_ids, message_ids(&local));

    let second = json(setup.mailer(&["fetch", "--mailbox", "Once", "--json"]));
    assert!(second.is_empty(), "{second:?}");
    assert_eq!(message_files(&local).len(), 40);

    // New mail after that: only it is fetched.
    stack.seed("carol", 3, "Once");
    let third = setup.mailer(&["fetch", "--mailbox", "Once"]).run();
    third.ok();
    assert_eq!(third.stdout().lines().count(), 3, "{}", third.stdout());
    assert_eq!(message_files(&local).len(), 43);
}

#[test]
fn limit_takes_the_newest_and_since_filters_by_date() {
    let stack = stack();
    stack.seed("carol", 12, "Limit");
    let setup = carol(stack).build();
    let none = json(setup.mailer(&["fetch", "-m", "Limit", "--since", "2999-01-01", "--json"]));
    assert!(none.is_empty());
    let newest = json(setup.mailer(&["fetch", "-m", "Limit", "--limit", "5", "--json"]));
    let ids: Vec<u64> = newest.iter().map(|m| m["uid"].as_u64().unwrap()).collect();
    assert_eq!(ids, [8, 9, 10, 11, 12]);
    let err = setup
        .mailer(&["fetch", "--since", "last week"])
        .fails_with(64);
    assert!(err.contains("--since"), "{err}");
}

#[test]
fn chinese_japanese_and_legacy_charsets_decode_exactly() {
    let stack = stack();
    let gbk: &[u8] = b"From: =?gbk?B?1dTI/Q==?= <zhao@example.test>\r\nTo: carol@example.test\r\nSubject: =?gb2312?B?1tyxqA==?=\r\nMessage-ID: <gbk-1@example.test>\r\nDate: Thu, 26 Nov 2026 09:00:00 +0800\r\nContent-Type: text/plain; charset=gbk\r\n\r\n\xc4\xe3\xba\xc3\r\n";
    let jis: &[u8] = b"From: =?ISO-2022-JP?B?GyRCMnE1RBsoQg==?= <jp@example.test>\r\nTo: carol@example.test\r\nSubject: =?shift_jis?B?k/qWe4zq?=\r\nMessage-ID: <jis-1@example.test>\r\nDate: Thu, 26 Nov 2026 10:00:00 +0900\r\n\r\nhi\r\n";
    stack.deliver("carol", "Charsets", &[gbk, jis]);
    let setup = carol(stack).build();
    let got = json(setup.mailer(&["fetch", "-m", "Charsets", "--json"]));
    let mut seen: Vec<(String, String)> = got
        .iter()
        .map(|m| {
            (
                m["subject"].as_str().unwrap().to_string(),
                m["from"][0]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("周报".to_string(), "赵三".to_string()),
            ("日本語".to_string(), "会議".to_string())
        ]
    );
    // The same message read offline decodes its GBK body.
    let gbk_file = setup.write("gbk.eml", gbk);
    let read = setup
        .mailer(&["read", "--file", gbk_file.to_str().unwrap(), "--json"])
        .run();
    let v: Value = serde_json::from_str(&read.stdout()).unwrap();
    assert_eq!(v["text"].as_str().map(|t| t.trim()), Some("你好"));
    assert_eq!(v["subject"], "周报");
}

#[test]
fn killed_mid_fetch_and_rerun_stores_each_message_exactly_once() {
    let stack = stack();
    let total = 1500;
    stack.seed("carol", total, "Kill");
    let setup = carol(stack).build();
    let local = setup.local_folder("Kill");

    let mut child = setup.mailer(&["fetch", "-m", "Kill"]).spawn();
    let deadline = Instant::now() + Duration::from_secs(60);
    let partial = loop {
        let n = ["new", "cur"]
            .iter()
            .map(|s| {
                std::fs::read_dir(local.join(s))
                    .map(|d| d.count())
                    .unwrap_or(0)
            })
            .sum::<usize>();
        if n > 0 || Instant::now() > deadline {
            break n;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert!(
        partial > 0 && partial < total,
        "the kill must land mid-fetch ({partial} of {total})"
    );

    setup.mailer(&["fetch", "-m", "Kill"]).ok();
    let ids = message_ids(&local);
    assert_eq!(ids.len(), total);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        total,
        "duplicates stored"
    );
    assert_eq!(
        message_files(&local),
        stack.server_messages("carol", "Kill")
    );
}

#[test]
fn uidvalidity_change_does_not_duplicate() {
    let stack = stack();
    stack.seed("carol", 10, "Recreated");
    let setup = carol(stack).build();
    assert_eq!(
        json(setup.mailer(&["fetch", "-m", "Recreated", "--json"])).len(),
        10
    );

    // The mailbox is recreated: the same messages under new UIDs and a new UIDVALIDITY,
    // as after a server migration. Two new messages arrive as well.
    let folder = stack.server_folder("carol", "Recreated");
    std::fs::remove_file(folder.join("dovecot-uidlist")).unwrap();
    stack.resync("carol", "Recreated");
    stack.doveadm(&[
        "mailbox",
        "update",
        "--uid-validity",
        "4242",
        "-u",
        "carol@example.test",
        "Recreated",
    ]);
    stack.deliver(
        "carol",
        "Recreated",
        &[
            b"Message-ID: <new-1@example.test>\r\nSubject: new one\r\n\r\na\r\n",
            b"Subject: no message id\r\n\r\nb\r\n",
        ],
    );
    let again = json(setup.mailer(&["fetch", "-m", "Recreated", "--json"]));
    assert_eq!(again.len(), 2, "{again:?}");
    let local = setup.local_folder("Recreated");
    assert_eq!(
        message_files(&local),
        stack.server_messages("carol", "Recreated")
    );
    // And it stays settled.
    assert!(json(setup.mailer(&["fetch", "-m", "Recreated", "--json"])).is_empty());
}

/// The inbox's UIDVALIDITY changes between two fetches: the search and the messages
/// sent with the login (from the old state's UID on) are passed over, the stored
/// messages are recognised by their Message-IDs, and only the new one is stored.
#[test]
fn an_inbox_whose_uidvalidity_changed_is_fetched_without_duplicates() {
    let stack = stack();
    let bob = || Account::new("bob").maildir().imap(stack, "IMAPS_PORT");
    let setup = bob().build();
    stack.seed("bob", 3, "INBOX");
    assert_eq!(json(setup.mailer(&["fetch", "--inbox", "--json"])).len(), 3);
    stack.doveadm(&[
        "mailbox",
        "update",
        "--uid-validity",
        "4343",
        "-u",
        "bob@example.test",
        "INBOX",
    ]);
    stack.deliver(
        "bob",
        "INBOX",
        &[b"Message-ID: <after-change@example.test>\r\nSubject: after\r\n\r\nc\r\n"],
    );
    let again = json(setup.mailer(&["fetch", "--inbox", "--json"]));
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0]["subject"], "after");
    assert_eq!(
        message_files(&setup.local_folder("INBOX")),
        stack.server_messages("bob", "INBOX")
    );
}

#[test]
fn a_second_fetch_while_one_runs_exits_75() {
    let stack = stack();
    let setup = carol(stack).build();
    let lock_path = setup.path("state/mailer/carol/lock");
    std::fs::create_dir_all(lock_path.parent().unwrap()).unwrap();
    let held = std::fs::File::create(&lock_path).unwrap();
    held.lock().unwrap();
    let err = setup.mailer(&["fetch", "--inbox"]).fails_with(75);
    assert!(err.contains("another mailer run holds"), "{err}");
    drop(held);
    setup.mailer(&["fetch", "--inbox"]).ok();
}

#[test]
fn list_read_mailboxes_and_mark_seen() {
    let stack = stack();
    stack.seed("carol", 8, "Browse");
    let setup = carol(stack).build();

    let listed = json(setup.mailer(&["list", "-m", "Browse", "--limit", "3", "--json"]));
    let ids: Vec<u64> = listed.iter().map(|m| m["uid"].as_u64().unwrap()).collect();
    assert_eq!(ids, [8, 7, 6]);
    assert!(listed.iter().all(|m| m.get("path").is_none()));

    let read = setup.mailer(&["read", "-m", "Browse", "7"]).run();
    assert!(read.ok().starts_with("Date:"), "{}", read.stdout());
    assert!(read.stdout().contains("Subject:"));

    let boxes = json(setup.mailer(&["mailboxes", "--json"]));
    let browse = boxes
        .iter()
        .find(|b| b["name"] == "Browse")
        .expect("Browse listed");
    assert_eq!(
        (browse["total"].as_u64(), browse["unseen"].as_u64()),
        (Some(8), Some(8))
    );

    // Fetching leaves the server alone unless --mark-seen is given.
    setup
        .mailer(&["fetch", "-m", "Browse", "--limit", "2"])
        .ok();
    let boxes = json(setup.mailer(&["mailboxes", "--json"]));
    let browse = boxes.iter().find(|b| b["name"] == "Browse").unwrap();
    assert_eq!(browse["unseen"].as_u64(), Some(8));
    stack.seed("carol", 2, "Browse");
    setup.mailer(&["fetch", "-m", "Browse", "--mark-seen"]).ok();
    let boxes = json(setup.mailer(&["mailboxes", "--json"]));
    let browse = boxes.iter().find(|b| b["name"] == "Browse").unwrap();
    assert_eq!(
        browse["unseen"].as_u64(),
        Some(8),
        "the 2 new ones are now seen"
    );
}

#[test]
fn attachment_names_never_escape_the_directory_or_overwrite() {
    let stack = stack();
    let hostile = concat!(
        "Message-ID: <att-1@example.test>\r\nSubject: names\r\nMIME-Version: 1.0\r\n",
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n",
        "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n",
        "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"../../.bashrc\"\r\n\r\nrm -rf ~\r\n",
        "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"/tmp/evil.txt\"\r\n\r\nabs\r\n",
        "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"=?utf-8?q?a=00b.bin?=\"\r\n\r\nnul\r\n",
        "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"keep.txt\"\r\n\r\ntheirs\r\n",
        "--b--\r\n"
    );
    stack.deliver("carol", "Hostile", &[hostile.as_bytes()]);
    let setup = carol(stack).build();
    let out_dir = setup.path("out");
    std::fs::create_dir(&out_dir).unwrap();
    std::fs::write(out_dir.join("keep.txt"), b"mine").unwrap();

    setup
        .mailer(&[
            "attachments",
            "-m",
            "Hostile",
            "1",
            "--dir",
            out_dir.to_str().unwrap(),
        ])
        .ok();
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["ab.bin", "bashrc", "evil.txt", "keep (1).txt", "keep.txt"]
    );
    assert_eq!(std::fs::read(out_dir.join("keep.txt")).unwrap(), b"mine");
    assert!(!setup.path(".bashrc").exists());
}

#[test]
fn wrong_password_exits_77_and_unknown_mailbox_is_named() {
    let stack = stack();
    let setup = carol(stack).password_command("echo nope").build();
    let err = setup.mailer(&["fetch", "--inbox"]).fails_with(77);
    assert!(
        err.contains("refused the login of user \"carol@example.test\""),
        "{err}"
    );
    // The server's own words, as Dovecot sent them.
    assert!(
        err.contains(": [AUTHENTICATIONFAILED] Authentication failed."),
        "{err}"
    );
    // list opens the mailbox in the login's write: a refused login is still told in
    // the login's words, not in those of the EXAMINE that followed it.
    let err = setup.mailer(&["list"]).fails_with(77);
    assert!(
        err.contains(": [AUTHENTICATIONFAILED] Authentication failed."),
        "{err}"
    );
    setup.configure(&carol(stack));
    for command in ["fetch", "list"] {
        let err = setup.mailer(&[command, "-m", "NoSuchBox"]).fails_with(65);
        assert!(
            err.contains("no mailbox \"NoSuchBox\" (the account has: INBOX, ")
                && err.contains("; the server said: Mailbox doesn't exist: NoSuchBox"),
            "{command}: {err}"
        );
    }
    // Dovecot names a missing mailbox in UTF-8, in the pipelined EXAMINE's reply too.
    let err = setup.mailer(&["list", "-m", "Чтение"]).fails_with(65);
    assert!(
        err.contains("; the server said: Mailbox doesn't exist: Чтение"),
        "{err}"
    );
}

#[test]
fn a_password_command_that_never_answers_is_stopped_at_timeout_secs() {
    let stack = stack();
    let setup = carol(stack)
        .password_command("sleep 30")
        .server_key("timeout_secs", 2)
        .build();
    let started = std::time::Instant::now();
    let err = setup.mailer(&["list"]).fails_with(78);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{err}"
    );
    assert!(
        err.contains("accounts.carol.imap: password_command \"sleep 30\""),
        "{err}"
    );
    assert!(err.contains("within 2 s"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_chinese_mailbox_name_is_fetched_into_dovecots_own_folder_name() {
    let stack = stack();
    // 已发送 ("Sent") as IMAP spells it on the wire and Dovecot names its folder.
    stack.seed("carol", 3, "&XfJT0ZAB-");
    let setup = carol(stack).build();
    let boxes = json(setup.mailer(&["mailboxes", "--json"]));
    assert!(boxes.iter().any(|b| b["name"] == "已发送"), "{boxes:?}");
    let got = json(setup.mailer(&["fetch", "-m", "已发送", "--json"]));
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|m| m["mailbox"] == "已发送"));
    assert_eq!(
        message_files(&setup.local_folder("&XfJT0ZAB-")),
        stack.server_messages("carol", "&XfJT0ZAB-")
    );
}

/// Round trips of `list`, counted exactly by a proxy: the TLS handshake's two (the
/// greeting answers the second), LOGIN with ID and EXAMINE in the same write (LOGIN's
/// OK says what the server offers, so no CAPABILITY), the FETCH of the envelopes;
/// LOGOUT is not waited for.
#[test]
fn list_waits_for_the_network_only_where_it_must() {
    let stack = stack();
    stack.seed("carol", 3, "Counted");
    let proxy = RoundTrips::to(stack.port("IMAPS_PORT"));
    let setup = Account::new("carol")
        .imap(stack, "IMAPS_PORT")
        .server_key("port", proxy.port())
        .build();
    let listed = setup
        .mailer(&["list", "-m", "Counted", "--limit", "2", "--json"])
        .run()
        .stdout();
    assert_eq!(
        serde_json::from_str::<Value>(&listed)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(proxy.of_connections(1)[0], 4);
}

/// Round trips of `fetch --inbox`, counted exactly: the TLS handshake's two (the
/// greeting answers the second), then LOGIN with ID, EXAMINE, the UID SEARCH for what
/// is new since the saved state and the UID FETCH of it, all in one write; LOGOUT is
/// not waited for. The next fetch knows the server's capabilities from this one, so it
/// does not wait for the greeting. When nothing is new, nothing comes: not even the
/// newest message, which `UID FETCH n:*` would name whatever its UID.
#[test]
fn fetch_waits_for_the_network_only_where_it_must() {
    let stack = stack();
    let setup = carol(stack).build();
    let fetch = |want_trips: usize| -> usize {
        let proxy = RoundTrips::to(stack.port("IMAPS_PORT"));
        setup.configure(&carol(stack).server_key("port", proxy.port()));
        let stored = json(setup.mailer(&["fetch", "--inbox", "--json"])).len();
        assert_eq!(proxy.of_connections(1)[0], want_trips);
        stored
    };
    stack.seed("carol", 2, "INBOX");
    assert!(fetch(3) >= 2);
    let mut newest = b"From: bob@example.test\r\nSubject: newest\r\n\r\n".to_vec();
    newest.resize(1 << 20, b'x');
    newest.extend_from_slice(b"\r\n");
    stack.deliver("carol", "INBOX", &[&newest]);
    assert!(fetch(2) >= 1);
    let proxy = CutProxy::pass(stack.port("IMAPS_PORT"));
    setup.configure(&carol(stack).server_key("port", proxy.port()));
    let again = setup.mailer(&["fetch", "--inbox", "--json"]).run();
    assert_eq!(again.stdout().trim(), "[]", "{}", again.stdout());
    let came = proxy.wait_finished()[0].bytes(Direction::ToClient);
    assert!(came < 64 << 10, "{came} bytes came for nothing new");
    assert_eq!(
        message_files(&setup.local_folder("INBOX")),
        stack.server_messages("carol", "INBOX")
    );
}

/// What a `list` learns (the server's capabilities, the mailbox's count) lets the next
/// one skip waiting for the greeting and fetch the envelopes in the login's own write:
/// one round trip after the TLS handshake. When the mailbox grew since, the list is
/// still the newest; when it shrank, one more FETCH gets those the guess missed.
#[test]
fn a_list_after_a_list_is_one_round_trip_after_the_handshake() {
    let stack = stack();
    stack.seed("carol", 5, "Again");
    let setup = carol(stack).build();
    let list = |want_trips: usize| -> Vec<u64> {
        let proxy = RoundTrips::to(stack.port("IMAPS_PORT"));
        setup.configure(&carol(stack).server_key("port", proxy.port()));
        let listed = setup
            .mailer(&["list", "-m", "Again", "--limit", "2", "--json"])
            .run()
            .stdout();
        assert_eq!(proxy.of_connections(1)[0], want_trips, "{listed}");
        serde_json::from_str::<Value>(&listed)
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["uid"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(list(4), [5, 4]);
    assert_eq!(list(2), [5, 4]);
    stack.seed("carol", 3, "Again");
    assert_eq!(list(2), [8, 7]);
    stack.doveadm(&[
        "expunge",
        "-u",
        "carol@example.test",
        "mailbox",
        "Again",
        "uid",
        "4:8",
    ]);
    assert_eq!(list(3), [3, 2]);
    assert_eq!(list(2), [3, 2]);
}

/// A message larger than one response may hold (8 MiB) comes in pieces, one FETCH each,
/// and is stored byte for byte, its CRLF line ends turned to LF also where a piece ends
/// between the CR and the LF; the small message beside it is stored too, and a second
/// fetch stores nothing again.
#[test]
fn a_message_larger_than_a_piece_is_stored_whole() {
    const PIECE: usize = 8 << 20;
    let stack = stack();
    let line = format!(
        "{:-<78}\r\n",
        "All work and no play makes a message too large "
    );
    assert_eq!(line.len(), 80);
    let mut head = String::from(
        "From: Bob <bob@example.test>\r\nTo: carol@example.test\r\nSubject: large\r\n\
         Message-ID: <large-piece-test@example.test>\r\nX-Pad: ",
    );
    // The first piece ends on a CR: the CR of some line sits at byte PIECE - 1.
    while !(PIECE - 1 - (head.len() + 2 + 2) - 78).is_multiple_of(80) {
        head.push('x');
    }
    head.push_str("\r\n\r\n");
    let mut big = head.into_bytes();
    while big.len() < 20 << 20 {
        big.extend_from_slice(line.as_bytes());
    }
    assert_eq!(&big[PIECE - 1..PIECE + 1], b"\r\n");
    let small = b"From: bob@example.test\r\nSubject: small\r\nMessage-ID: <small-piece-test@example.test>\r\n\r\nsmall\r\n";
    stack.deliver("carol", "Large", &[&big, small]);
    let setup = carol(stack).build();
    let out = setup.mailer(&["fetch", "-m", "Large"]).run();
    out.ok();
    assert_eq!(
        message_files(&setup.local_folder("Large")),
        stack.server_messages("carol", "Large")
    );
    assert_eq!(message_files(&setup.local_folder("Large")).len(), 2);
    let again = setup.mailer(&["fetch", "-m", "Large", "--json"]).run();
    assert_eq!(again.stdout().trim(), "[]", "{}", again.stdout());
    assert_eq!(message_files(&setup.local_folder("Large")).len(), 2);
}

/// `flag add` and `flag remove` change the server's flags of the messages named (UIDs
/// and ranges, one UID STORE), as `list` then shows; a UID that is not there is left
/// out of what changed; a word that is no flag or no UID is refused before anything is
/// sent (64).
#[test]
fn flags_are_set_and_cleared_on_the_server() {
    let stack = stack();
    stack.seed("carol", 4, "Flags");
    let setup = carol(stack).build();
    let flags_of = |setup: &common::Setup| -> Vec<(u64, Vec<String>)> {
        let listed = setup
            .mailer(&["list", "-m", "Flags", "--json"])
            .run()
            .stdout();
        let mut rows: Vec<(u64, Vec<String>)> = serde_json::from_str::<Value>(&listed)
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let flags = m["flags"].as_array().unwrap();
                let flags = flags.iter().map(|f| f.as_str().unwrap().to_string());
                (m["uid"].as_u64().unwrap(), flags.collect())
            })
            .collect();
        rows.sort();
        rows
    };
    let out = setup
        .mailer(&[
            "flag", "add", "flagged", "-m", "Flags", "1:2", "4,99", "--json",
        ])
        .run()
        .stdout();
    let done: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(done["uids"], serde_json::json!([1, 2, 4]), "{out}");
    assert_eq!(done["flag"], "\\Flagged");
    let flagged = |rows: &[(u64, Vec<String>)]| -> Vec<u64> {
        rows.iter()
            .filter(|(_, f)| f.iter().any(|f| f == "\\Flagged"))
            .map(|(u, _)| *u)
            .collect()
    };
    assert_eq!(flagged(&flags_of(&setup)), [1, 2, 4]);
    setup
        .mailer(&["flag", "remove", "flagged", "-m", "Flags", "2"])
        .ok();
    assert_eq!(flagged(&flags_of(&setup)), [1, 4]);
    setup
        .mailer(&["flag", "add", "$Work", "-m", "Flags", "3"])
        .ok();
    let rows = flags_of(&setup);
    assert!(rows[2].1.iter().any(|f| f == "$Work"), "{rows:?}");
    let err = setup
        .mailer(&["flag", "add", "not a flag", "-m", "Flags", "1"])
        .fails_with(64);
    assert!(err.contains("\"not a flag\" is not a flag"), "{err}");
    let err = setup
        .mailer(&["flag", "add", "seen", "-m", "Flags", "1:x"])
        .fails_with(64);
    assert!(err.contains("\"1:x\" is not a UID"), "{err}");
}
