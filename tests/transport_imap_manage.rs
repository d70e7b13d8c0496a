//! Finding and filing mail on the server: `mailer search`, `move`, `copy`, `delete` and
//! `mailboxes create|rename|delete`, against the harness's Dovecot, whose own
//! `doveadm search` is the judge of what a query should find.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use common::{Account, Mailer, Stack, stack};
use serde_json::Value;

fn account(stack: &Stack, user: &str) -> Account {
    Account::new(user).maildir().imap(stack, "IMAPS_PORT")
}

fn json(mailer: Mailer) -> Value {
    let run = mailer.run();
    run.ok();
    serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout()))
}

fn uids_of(listed: &Value) -> BTreeSet<u64> {
    let rows = listed.as_array().unwrap();
    rows.iter().map(|m| m["uid"].as_u64().unwrap()).collect()
}

/// What Dovecot itself finds for search keys as doveadm writes them (IMAP's, with `OR`
/// between its two keys: `doveadm-search-query(7)`).
fn dovecot_finds(stack: &Stack, user: &str, mailbox: &str, keys: &[&str]) -> BTreeSet<u64> {
    let user = format!("{user}@example.test");
    let mut args = vec!["search", "-u", &user, "mailbox", mailbox, "("];
    args.extend_from_slice(keys);
    args.push(")");
    let out = stack.doveadm_output(&args);
    out.lines()
        .map(|l| l.split_whitespace().nth(1).unwrap().parse().unwrap())
        .collect()
}

fn message(from: &str, to: &str, cc: &str, subject: &str, body: &str) -> Vec<u8> {
    let cc = match cc {
        "" => String::new(),
        cc => format!("Cc: {cc}\r\n"),
    };
    format!(
        "From: {from}\r\nTo: {to}\r\n{cc}Subject: {subject}\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{}@example.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n",
        subject.len() + body.len()
    )
    .into_bytes()
}

fn with_attachment(from: &str, subject: &str, body: &str, file: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: dave@example.test\r\nSubject: {subject}\r\nDate: Tue, 01 Dec 2026 11:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"{file}\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQ==\r\n--b1--\r\n"
    )
    .into_bytes()
}

/// A mailbox of eight messages, flags set on two: UIDs 1 to 8 in this order.
fn seeded_search_box(stack: &Stack, user: &str, mailbox: &str) {
    let big = "numbers and more numbers\r\n".repeat(6000);
    let messages = [
        with_attachment(
            "Ann <ann@example.test>",
            "Budget 2027",
            "the numbers, attached",
            "budget.pdf",
        ),
        message(
            "bob@example.test",
            "dave@example.test",
            "",
            "Lunch?",
            "Tacos today",
        ),
        message(
            "=?UTF-8?B?5byg5Lyf?= <zhang@example.test>",
            "dave@example.test",
            "",
            "=?UTF-8?B?5Lya6K6u6YCa55+l?=",
            "明天下午开会",
        ),
        message(
            "ann@example.test",
            "carol@example.test",
            "bob@example.test",
            "Re: Budget 2027",
            "looks fine",
        ),
        message(
            "dora@example.test",
            "dave@example.test",
            "",
            "Big one",
            &big,
        ),
        with_attachment("bob@example.test", "Photos", "from the trip", "beach.jpg"),
        message(
            "eve@example.test",
            "dave@example.test",
            "",
            "say \"hi\"",
            "quotes",
        ),
        message(
            "ann@example.test",
            "dave@example.test",
            "",
            "Tacos again",
            "no numbers here",
        ),
    ];
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    // One at a time, so that the UIDs follow the order above.
    for m in refs {
        stack.deliver(user, mailbox, &[m]);
    }
    let user = format!("{user}@example.test");
    stack.doveadm(&[
        "flags", "add", "-u", &user, "\\Seen", "mailbox", mailbox, "uid", "1",
    ]);
    stack.doveadm(&[
        "flags",
        "add",
        "-u",
        &user,
        "\\Flagged",
        "mailbox",
        mailbox,
        "uid",
        "2,7",
    ]);
}

/// `mailer search` finds what Dovecot's own search finds for the same criteria, for
/// every key of the query language, `and`/`or`/`not`, quoted phrases and Chinese text;
/// `has:attachment` finds the messages whose structure has one.
#[test]
fn search_finds_what_dovecot_finds() {
    let stack = stack();
    seeded_search_box(stack, "carol", "Search");
    let setup = account(stack, "carol").build();
    let two_weeks_ago = {
        let out = std::process::Command::new("date")
            .args(["-d", "14 days ago", "+%Y-%m-%d"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let cases: &[(&str, &[&str])] = &[
        ("from:ann", &["FROM", "ann"]),
        ("subject:budget", &["SUBJECT", "budget"]),
        ("subject:会议", &["SUBJECT", "会议"]),
        ("明天", &["TEXT", "明天"]),
        ("from:张伟", &["FROM", "张伟"]),
        (
            "from:ann or from:bob",
            &["FROM", "ann", "OR", "FROM", "bob"],
        ),
        (
            "tacos not from:ann",
            &["TEXT", "tacos", "NOT", "FROM", "ann"],
        ),
        (
            "-from:ann and -from:bob",
            &["NOT", "FROM", "ann", "NOT", "FROM", "bob"],
        ),
        (
            "(from:ann or cc:bob) numbers",
            &[
                "(", "FROM", "ann", "OR", "CC", "bob", ")", "TEXT", "numbers",
            ],
        ),
        ("to:carol", &["TO", "carol"]),
        ("body:trip", &["BODY", "trip"]),
        ("\"looks fine\"", &["TEXT", "looks fine"]),
        ("subject:\"say \\\"hi\\\"\"", &["SUBJECT", "say \"hi\""]),
        ("is:unread", &["UNSEEN"]),
        ("is:read", &["SEEN"]),
        ("is:flagged", &["FLAGGED"]),
        ("is:answered", &["ANSWERED"]),
        ("larger:100K", &["LARGER", "102400"]),
        ("smaller:1k", &["SMALLER", "1024"]),
        ("since:2w", &["SINCE", &two_weeks_ago]),
        ("before:2w", &["BEFORE", &two_weeks_ago]),
        ("uid:2:4,7", &["UID", "2:4,7"]),
    ];
    for (query, keys) in cases {
        let want = dovecot_finds(stack, "carol", "Search", keys);
        let found = json(setup.mailer(&[
            "search", "-m", "Search", "--limit", "100", "--json", "--", query,
        ]));
        assert_eq!(uids_of(&found), want, "{query} (Dovecot: {keys:?})");
    }
    // The cases above are not all empty or all full: each tells something.
    let from_ann = json(setup.mailer(&["search", "-m", "Search", "--json", "from:ann"]));
    assert_eq!(uids_of(&from_ann), BTreeSet::from([1, 4, 8]));
    let attached = json(setup.mailer(&["search", "-m", "Search", "--json", "has:attachment"]));
    assert_eq!(uids_of(&attached), BTreeSet::from([1, 6]));
    let not_attached = json(setup.mailer(&[
        "search",
        "-m",
        "Search",
        "--json",
        "not has:attachment from:bob",
    ]));
    assert_eq!(uids_of(&not_attached), BTreeSet::from([2]));
    // Shown as list shows them: newest first, the limit the newest.
    let newest = json(setup.mailer(&["search", "-m", "Search", "--json", "-l", "2", "from:ann"]));
    let rows = newest.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["uid"], 8);
    assert_eq!(rows[0]["subject"], "Tacos again");
    assert_eq!(rows[1]["uid"], 4);
    let none = setup
        .mailer(&["search", "-m", "Search", "from:nobody"])
        .ok();
    assert_eq!(none, "");
}

/// A query that does not parse is refused before connecting (64), with the position
/// of the mistake; `gmail:` on a server that is not Gmail's is refused with the keys to
/// use instead.
#[test]
fn a_query_that_does_not_parse_says_where() {
    let stack = stack();
    let setup = account(stack, "carol").build();
    let err = setup
        .mailer(&["search", "from:ann", "subject:"])
        .fails_with(64);
    assert!(err.contains("at character 18"), "{err}");
    assert!(err.contains("`subject:` with nothing after it"), "{err}");
    let err = setup.mailer(&["search", "colour:red"]).fails_with(64);
    assert!(err.contains("`colour:` is not a key"), "{err}");
    let err = setup
        .mailer(&["search", "gmail:\"in:sent\""])
        .fails_with(64);
    assert!(err.contains("X-GM-RAW"), "{err}");
}

fn filed(n: usize, subject: &str) -> Vec<Vec<u8>> {
    (1..=n)
        .map(|i| {
            message(
                "ann@example.test",
                "bob@example.test",
                "",
                &format!("{subject} {i}"),
                &format!("message {i} of {n}\r\n\r\nwith a second paragraph, {subject}"),
            )
        })
        .collect()
}

fn deliver_all(stack: &Stack, user: &str, mailbox: &str, messages: &[Vec<u8>]) {
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    stack.deliver(user, mailbox, &refs);
}

fn sorted(mut files: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    files.sort();
    files
}

/// `move` and `copy` file messages by UID, by range and by query, the moved messages
/// byte for byte the ones that were there; a mailbox that does not exist is named in
/// the error with the ones that do.
#[test]
fn move_and_copy_file_messages_on_the_server() {
    let stack = stack();
    deliver_all(stack, "bob", "Filing", &filed(6, "filing"));
    let before = sorted(stack.server_messages("bob", "Filing"));
    let setup = account(stack, "bob").build();
    let out = json(setup.mailer(&["mailboxes", "create", "Kept", "--subscribe", "--json"]));
    assert_eq!(
        out,
        serde_json::json!({"action": "create", "mailbox": "Kept"})
    );

    let moved = json(setup.mailer(&["move", "-m", "Filing", "1:2", "9", "Kept", "--json"]));
    assert_eq!(
        moved,
        serde_json::json!({"action": "move", "mailbox": "Filing", "to": "Kept", "uids": [1, 2]})
    );
    assert_eq!(stack.server_messages("bob", "Filing").len(), 4);
    assert_eq!(stack.server_messages("bob", "Kept").len(), 2);
    let both = [
        stack.server_messages("bob", "Filing"),
        stack.server_messages("bob", "Kept"),
    ];
    assert_eq!(sorted(both.concat()), before, "a move changed the bytes");

    let copied = json(setup.mailer(&["copy", "-m", "Filing", "3", "Kept", "--json"]));
    assert_eq!(copied["uids"], serde_json::json!([3]));
    assert_eq!(stack.server_messages("bob", "Filing").len(), 4);
    assert_eq!(stack.server_messages("bob", "Kept").len(), 3);

    let by_query = json(setup.mailer(&[
        "move",
        "-m",
        "Filing",
        "--query",
        "subject:\"filing 5\" or subject:\"filing 6\"",
        "Kept",
        "--json",
    ]));
    assert_eq!(by_query["uids"], serde_json::json!([5, 6]));
    let listed = json(setup.mailer(&["list", "-m", "Filing", "--json"]));
    assert_eq!(uids_of(&listed), BTreeSet::from([3, 4]));
    let both = [
        stack.server_messages("bob", "Filing"),
        stack.server_messages("bob", "Kept"),
    ];
    let mut want = before.clone();
    want.push(
        before
            .iter()
            .find(|m| common::contains(m, b"filing 3\r\n") || common::contains(m, b"filing 3\n"))
            .unwrap()
            .clone(),
    );
    assert_eq!(sorted(both.concat()), sorted(want));

    let err = setup
        .mailer(&["move", "-m", "Filing", "3", "Nowhere"])
        .fails_with(65);
    assert!(err.contains("Nowhere"), "{err}");
    assert!(err.contains("Kept"), "{err}");
    let err = setup
        .mailer(&["move", "-m", "Filing", "3", "Filing"])
        .fails_with(64);
    assert!(err.contains("in Filing already"), "{err}");
    let err = setup.mailer(&["move", "3", "x:y", "Kept"]).fails_with(64);
    assert!(err.contains("\"x:y\" is not a UID"), "{err}");
    let err = setup
        .mailer(&["move", "--query", "from:", "Kept"])
        .fails_with(64);
    assert!(err.contains("at character 6"), "{err}");
    assert_eq!(stack.server_messages("bob", "Filing").len(), 2);
    // flag takes a query too.
    let flagged = json(setup.mailer(&[
        "flag",
        "add",
        "flagged",
        "-m",
        "Filing",
        "--query",
        "subject:\"filing 4\"",
        "--json",
    ]));
    assert_eq!(flagged["uids"], serde_json::json!([4]));
    let found = json(setup.mailer(&["search", "-m", "Filing", "--json", "is:flagged"]));
    assert_eq!(uids_of(&found), BTreeSet::from([4]));
}

/// `delete` moves messages to the mailbox marked \Trash, and with `--expunge` removes
/// exactly those named, never other messages someone marked deleted; without a Trash it
/// says what to do instead.
#[test]
fn delete_moves_to_the_trash_or_expunges_only_those_named() {
    let stack = stack();
    deliver_all(stack, "alice", "Binned", &filed(4, "binned"));
    let setup = account(stack, "alice").build();
    let err = setup
        .mailer(&["delete", "-m", "Binned", "1"])
        .fails_with(69);
    assert!(err.contains("no mailbox as \\Trash"), "{err}");
    assert_eq!(stack.server_messages("alice", "Binned").len(), 4);

    setup.mailer(&["mailboxes", "create", "Trash"]).ok();
    let deleted = json(setup.mailer(&["delete", "-m", "Binned", "1", "2", "--json"]));
    assert_eq!(
        deleted,
        serde_json::json!({"action": "delete", "mailbox": "Binned", "to": "Trash", "expunged": false, "uids": [1, 2]})
    );
    assert_eq!(stack.server_messages("alice", "Binned").len(), 2);
    assert_eq!(stack.server_messages("alice", "Trash").len(), 2);
    let err = setup.mailer(&["delete", "-m", "Trash", "1"]).fails_with(64);
    assert!(err.contains("--expunge"), "{err}");

    // UID 4 is marked deleted by someone else: expunging UID 3 leaves it.
    setup
        .mailer(&["flag", "add", "deleted", "-m", "Binned", "4"])
        .ok();
    let gone = json(setup.mailer(&["delete", "--expunge", "-m", "Binned", "3", "--json"]));
    assert_eq!(gone["expunged"], true);
    assert_eq!(gone["uids"], serde_json::json!([3]));
    let left = json(setup.mailer(&["list", "-m", "Binned", "--json"]));
    assert_eq!(uids_of(&left), BTreeSet::from([4]));
}

/// `mailboxes create`, `rename` and `delete`, with names in UTF-8; a mailbox that holds
/// messages is deleted only with --force, and the INBOX never.
#[test]
fn mailboxes_are_created_renamed_and_deleted() {
    let stack = stack();
    let setup = account(stack, "dora").password("dörapw").build();
    let names = |setup: &common::Setup| -> Vec<String> {
        let listed = json(setup.mailer(&["mailboxes", "--json"]));
        let rows = listed.as_array().unwrap();
        rows.iter()
            .map(|m| m["name"].as_str().unwrap().to_string())
            .collect()
    };
    setup.mailer(&["mailboxes", "create", "项目"]).ok();
    assert!(
        names(&setup).contains(&"项目".to_string()),
        "{:?}",
        names(&setup)
    );
    let renamed = json(setup.mailer(&["mailboxes", "rename", "项目", "Projekte-2026", "--json"]));
    assert_eq!(
        renamed,
        serde_json::json!({"action": "rename", "mailbox": "项目", "to": "Projekte-2026"})
    );
    let now = names(&setup);
    assert!(
        now.contains(&"Projekte-2026".to_string()) && !now.contains(&"项目".to_string()),
        "{now:?}"
    );
    deliver_all(stack, "dora", "Projekte-2026", &filed(1, "kept"));
    let err = setup
        .mailer(&["mailboxes", "delete", "Projekte-2026"])
        .fails_with(64);
    assert!(err.contains("holds 1 message"), "{err}");
    assert!(names(&setup).contains(&"Projekte-2026".to_string()));
    setup
        .mailer(&["mailboxes", "delete", "Projekte-2026", "--force"])
        .ok();
    assert!(!names(&setup).contains(&"Projekte-2026".to_string()));
    let err = setup
        .mailer(&["mailboxes", "delete", "inbox"])
        .fails_with(64);
    assert!(err.contains("INBOX cannot be deleted"), "{err}");
    let err = setup
        .mailer(&["mailboxes", "create", "Projekte-2026", "--json"])
        .run();
    assert_eq!(err.code(), 0, "{}", err.stderr());
    let again = setup
        .mailer(&["mailboxes", "create", "Projekte-2026"])
        .fails_with(69);
    assert!(again.contains("CREATE"), "{again}");
}

/// A query's thousand messages move in two round trips once the mailbox is open: one
/// UID SEARCH, one UID MOVE (after the TLS handshake and the login with its SELECT in
/// one write); `search` sends its SEARCH with the login and EXAMINE, so that once the
/// session is open only the FETCH of the newest envelopes is left.
#[test]
fn a_thousand_messages_move_in_two_round_trips_after_the_login() {
    let stack = stack();
    deliver_all(stack, "carol", "Bulk", &filed(1000, "bulk"));
    let proxy = common::roundtrips::RoundTrips::to(stack.port("IMAPS_PORT"));
    let setup = account(stack, "carol")
        .server_key("port", proxy.port())
        .build();
    let found = json(setup.mailer(&["search", "-m", "Bulk", "--json", "subject:bulk"]));
    assert_eq!(found.as_array().unwrap().len(), 20);
    setup.mailer(&["mailboxes", "create", "Bulk-done"]).ok();
    let moved = json(setup.mailer(&[
        "move",
        "-m",
        "Bulk",
        "--query",
        "subject:bulk",
        "Bulk-done",
        "--json",
    ]));
    assert_eq!(moved["uids"].as_array().unwrap().len(), 1000);
    assert_eq!(stack.server_messages("carol", "Bulk-done").len(), 1000);
    let trips = proxy.of_connections(3);
    // search: TLS, greeting, LOGIN+EXAMINE+SEARCH, FETCH; then, with the capabilities
    // known, move: TLS, LOGIN+SELECT, SEARCH, MOVE.
    assert_eq!((trips[0], trips[2]), (4, 4), "{trips:?}");
}

/// What `send` prints: the Message-ID.
fn sent_message_id(setup: &common::Setup, args: &[&str]) -> String {
    let run = setup.mailer(args).run();
    run.ok();
    run.stdout().trim().to_string()
}

fn crlf_to_lf(bytes: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(bytes)
        .replace("\r\n", "\n")
        .into_bytes()
}

/// After the server accepts a message, a copy goes to the mailbox marked \Sent, once,
/// read: the exact bytes the recipients got, with a Bcc header in this copy only;
/// `save_sent = false` keeps none.
#[test]
fn a_copy_of_what_is_sent_lands_in_sent_once() {
    let stack = stack();
    let proxy = common::roundtrips::RoundTrips::to(stack.port("IMAPS_PORT"));
    let with_sent = |a: Account| {
        a.smtp(stack, "SUBMISSIONS_PORT")
            .imap(stack, "IMAPS_PORT")
            .server_key("port", proxy.port())
    };
    let setup = with_sent(Account::new("alice")).build();
    setup.mailer(&["mailboxes", "create", "Sent"]).ok();
    let id = sent_message_id(
        &setup,
        &[
            "send",
            "--to",
            "bob@example.test",
            "--bcc",
            "carol@example.test",
            "-s",
            "kept in Sent",
            "--body",
            "hello",
        ],
    );
    let sent = stack.server_messages("alice", "Sent");
    assert_eq!(sent.len(), 1);
    // The copy's session, counted exactly: the TLS handshake's two (LOGIN goes with its
    // last flight, the capabilities known from `mailboxes create`), the LIST that finds
    // \Sent (ID with it), and the APPEND with its message in one write (LITERAL+).
    assert_eq!(proxy.of_connections(2)[1], 4);
    let copy = String::from_utf8(sent[0].clone()).unwrap();
    assert!(copy.starts_with("Bcc: carol@example.test\n"), "{copy}");
    assert!(copy.contains(&format!("Message-ID: {id}")), "{copy}");
    let received = stack.wait_for_message("bob", &id);
    assert!(!common::contains(&received, b"carol@example.test"));
    let submitted = copy.strip_prefix("Bcc: carol@example.test\n").unwrap();
    assert!(
        crlf_to_lf(&received).ends_with(submitted.as_bytes()),
        "the copy is not the bytes sent"
    );
    let listed = json(setup.mailer(&["list", "-m", "Sent", "--json"]));
    assert_eq!(listed[0]["flags"], serde_json::json!(["\\Seen"]));
    let dir = setup.path("state/mailer/alice/sent-copies");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);

    setup.configure(&with_sent(Account::new("alice")).set("save_sent", false));
    sent_message_id(
        &setup,
        &["send", "--to", "bob@example.test", "--body", "no copy"],
    );
    assert_eq!(stack.server_messages("alice", "Sent").len(), 1);
}

/// The Sent copy's IMAP session is opened while the message is being submitted, not
/// after: with the SMTP server's replies held back until an IMAP connection comes, the
/// send goes through at once and the copy lands.
#[test]
fn the_sent_copy_session_opens_while_the_message_is_submitted() {
    let stack = stack();
    let direct = Account::new("carol").imap(stack, "IMAPS_PORT").build();
    direct.mailer(&["mailboxes", "create", "Sent-ahead"]).ok();
    let imap = std::sync::Arc::new(common::fault::CutProxy::pass(stack.port("IMAPS_PORT")));
    let seen = imap.clone();
    let smtp = common::fault::Held::until(stack.port("SUBMISSIONS_PORT"), move || {
        !seen.traffic().is_empty()
    });
    let setup = Account::new("carol")
        .smtp(stack, "SUBMISSIONS_PORT")
        .server_key("port", smtp.port())
        .imap(stack, "IMAPS_PORT")
        .server_key("port", imap.port())
        .set("sent_mailbox", "Sent-ahead")
        .build();
    sent_message_id(
        &setup,
        &["send", "--to", "bob@example.test", "--body", "ahead"],
    );
    assert!(
        !smtp.held_too_long(),
        "the IMAP session waited for the SMTP session to end"
    );
    assert_eq!(stack.server_messages("carol", "Sent-ahead").len(), 1);
}

/// When the copy cannot be appended the send still succeeds (exit 0, a warning); the
/// next flush appends it, and a copy whose APPEND had begun is looked for first, so
/// Sent never holds two.
#[test]
fn a_copy_that_could_not_be_appended_is_appended_by_the_next_flush_exactly_once() {
    let stack = stack();
    let good = || {
        Account::new("bob")
            .smtp(stack, "SUBMISSIONS_PORT")
            .imap(stack, "IMAPS_PORT")
            .set("sent_mailbox", "Sent Items")
    };
    let setup = good().build();
    setup.mailer(&["mailboxes", "create", "Sent Items"]).ok();
    let down = common::closed_port();
    setup.configure(&good().server_key("port", down));
    let run = setup
        .mailer(&[
            "send",
            "--to",
            "alice@example.test",
            "--body",
            "while IMAP is down",
        ])
        .run();
    run.ok();
    assert!(
        run.stderr().contains("could not be saved"),
        "{}",
        run.stderr()
    );
    assert_eq!(stack.server_messages("bob", "Sent Items").len(), 0);

    setup.configure(&good());
    let run = setup.mailer(&["-v", "queue", "flush"]).run();
    run.ok();
    assert_eq!(
        stack.server_messages("bob", "Sent Items").len(),
        1,
        "{}",
        run.stderr()
    );
    setup.mailer(&["queue", "flush"]).ok();
    assert_eq!(stack.server_messages("bob", "Sent Items").len(), 1);

    // An APPEND whose answer was lost: the copy is in Sent, and marked begun here.
    let there = stack.server_messages("bob", "Sent Items").remove(0);
    let id = {
        let text = String::from_utf8_lossy(&there);
        let line = text
            .lines()
            .find(|l| l.starts_with("Message-ID: "))
            .unwrap();
        line["Message-ID: ".len()..].to_string()
    };
    let dir = setup.path("state/mailer/bob/sent-copies");
    let mut file = format!("mailer-sent-copy: 1\nmessage-id: {id}\n\n").into_bytes();
    file.extend_from_slice(&there);
    std::fs::write(dir.join("1-00000001.tried"), &file).unwrap();
    let other = b"From: bob@example.test\r\nTo: alice@example.test\r\nSubject: begun, never stored\r\nMessage-ID: <begun@example.test>\r\n\r\nx\r\n";
    let mut file = b"mailer-sent-copy: 1\nmessage-id: <begun@example.test>\n\n".to_vec();
    file.extend_from_slice(other);
    std::fs::write(dir.join("1-00000002.tried"), &file).unwrap();
    setup.mailer(&["queue", "flush"]).ok();
    let sent = stack.server_messages("bob", "Sent Items");
    assert_eq!(sent.len(), 2, "one copy of each, not three");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

/// The headers Python's `email` package reads from a message: a second opinion.
fn python_headers(message: &[u8], names: &[&str]) -> Value {
    use std::io::Write;
    let script = "import email, json, sys\nfrom email import policy\nm = email.message_from_bytes(sys.stdin.buffer.read(), policy=policy.default)\nout = {n: (str(m[n]) if m[n] is not None else None) for n in sys.argv[1:]}\nout['_parts'] = [p.get_content_type() for p in m.walk()]\nout['_inner_subjects'] = [str(p.get_content()['Subject']) for p in m.walk() if p.get_content_type() == 'message/rfc822']\nprint(json.dumps(out))\n";
    let mut child = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(names)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(message).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

const ASKED: &[u8] = b"From: Dora <dora@example.test>\r\nReply-To: bob@example.test\r\nTo: carol@example.test\r\nCc: alice@example.test\r\nSubject: Re: AW: the plan\r\nDate: Tue, 01 Dec 2026 09:15:00 +0000\r\nMessage-ID: <three@example.test>\r\nIn-Reply-To: <two@example.test>\r\nReferences: <one@example.test> <two@example.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nShall we?\r\n";

/// `reply --all` goes to Reply-To, with the others in Cc and the account left out, as
/// Python's `email` reads it: threaded (In-Reply-To, References), `Re:` once, the
/// original quoted; the original is then flagged \Answered. `forward --as-attachment`
/// carries the original whole, and flags it $Forwarded.
#[test]
fn reply_and_forward_answer_the_original() {
    let stack = stack();
    stack.deliver("carol", "Answer", &[ASKED]);
    let setup = account(stack, "carol")
        .smtp(stack, "SUBMISSIONS_PORT")
        .build();
    let id = sent_message_id(
        &setup,
        &[
            "reply",
            "--all",
            "-m",
            "Answer",
            "1",
            "--body",
            "Yes, Tuesday.",
        ],
    );
    let got = stack.wait_for_message("bob", &id);
    let h = python_headers(&got, &["To", "Cc", "Subject", "In-Reply-To", "References"]);
    assert_eq!(h["To"], "bob@example.test", "{h}");
    assert_eq!(h["Cc"], "alice@example.test", "{h}");
    assert_eq!(h["Subject"], "Re: the plan");
    assert_eq!(h["In-Reply-To"], "<three@example.test>");
    assert_eq!(
        h["References"],
        "<one@example.test> <two@example.test> <three@example.test>"
    );
    let text = String::from_utf8_lossy(&got);
    assert!(text.contains("Yes, Tuesday."), "{text}");
    assert!(
        text.contains("Dora wrote:") && text.contains("> Shall we?"),
        "{text}"
    );
    let flags = || json(setup.mailer(&["list", "-m", "Answer", "--json"]))[0]["flags"].clone();
    assert_eq!(flags(), serde_json::json!(["\\Answered"]));

    let id = sent_message_id(
        &setup,
        &[
            "forward",
            "-m",
            "Answer",
            "1",
            "--to",
            "alice@example.test",
            "--as-attachment",
        ],
    );
    let got = stack.wait_for_message("alice", &id);
    let h = python_headers(&got, &["Subject", "To"]);
    assert_eq!(h["Subject"], "Fwd: the plan");
    assert_eq!(
        h["_inner_subjects"],
        serde_json::json!(["Re: AW: the plan"]),
        "{h}"
    );
    let flags = flags();
    assert!(
        flags.as_array().unwrap().contains(&"$Forwarded".into()),
        "{flags}"
    );
    let err = setup
        .mailer(&["reply", "-m", "Answer", "99", "--body", "x"])
        .fails_with(65);
    assert!(err.contains("no message with UID 99 in Answer"), "{err}");
}

/// Waits (10 s at most) until `done` says yes of what mailer wrote to stderr so far.
fn wait_for_log(
    lines: &std::sync::Arc<std::sync::Mutex<String>>,
    what: &str,
    done: impl Fn(&str) -> bool,
) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let log = lines.lock().unwrap().clone();
        if done(&log) {
            return;
        }
        assert!(
            std::time::Instant::now() < until,
            "waited for {what}; the log:\n{log}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// `watch --fetch` holds an IDLE, connects again after its connection is cut (the
/// first IDLE never reaches the server), stores a message delivered through Postfix
/// within 2 s of its sending, hands it to `--exec` as JSON, and ends with exit 0 on
/// SIGTERM.
#[test]
fn watch_fetches_new_mail_as_it_comes_and_survives_a_cut() {
    use std::io::Read;
    let stack = stack();
    let port = common::fault::cut_first_on(stack.port("IMAP_PORT"), b"IDLE");
    let setup = Account::new("alice")
        .maildir()
        .imap(stack, "IMAP_PORT")
        .security("none")
        .server_key("allow_insecure_auth", true)
        .server_key("port", port)
        .build();
    let told = setup.path("told.json");
    let exec = format!("cat >> '{}'", told.display());
    let mut child = setup
        .mailer(&["-v", "watch", "--fetch", "--exec", &exec])
        .spawn();
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut stderr = child.stderr.take().unwrap();
    let sink = log.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    wait_for_log(&log, "a second session after the cut", |l| {
        l.contains("connecting again in 1 s") && l.matches("watching INBOX").count() >= 2
    });

    let sender = account(stack, "carol")
        .smtp(stack, "SUBMISSIONS_PORT")
        .build();
    let sent_at = std::time::Instant::now();
    let id = sent_message_id(
        &sender,
        &[
            "send",
            "--to",
            "alice@example.test",
            "-s",
            "watched",
            "--body",
            "hi",
        ],
    );
    let stored = || {
        common::message_files(&setup.local_folder("INBOX"))
            .iter()
            .any(|m| common::contains(m, id.as_bytes()))
    };
    while !stored() {
        assert!(
            sent_at.elapsed() < std::time::Duration::from_secs(2),
            "not stored within 2 s; the log:\n{}",
            log.lock().unwrap()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !std::fs::read_to_string(&told)
        .unwrap_or_default()
        .contains(&id)
    {
        assert!(
            std::time::Instant::now() < until,
            "--exec was not given {id}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // One array per run of the command, each a document of its own.
    let text = std::fs::read_to_string(&told).unwrap();
    let runs: Vec<Value> = serde_json::Deserializer::from_str(&text)
        .into_iter::<Value>()
        .map(Result::unwrap)
        .collect();
    let ours: Vec<&Value> = runs
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .filter(|m| m["message_id"] == id.as_str())
        .collect();
    assert_eq!(ours.len(), 1, "{text}");
    assert_eq!(ours[0]["subject"], "watched");
    assert!(ours[0]["path"].is_string());

    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < until,
            "watch did not end on SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(0), "{}", log.lock().unwrap());
}

/// With no body on a terminal, `send` and `reply` open `$EDITOR` on a template; what
/// comes back is checked and sent; a template left unchanged sends nothing (exit 0).
#[test]
fn send_and_reply_compose_in_the_editor() {
    let stack = stack();
    stack.deliver("carol", "Edited", &[ASKED]);
    let setup = account(stack, "carol")
        .smtp(stack, "SUBMISSIONS_PORT")
        .build();
    let send_editor = setup.write(
        "send-editor.sh",
        b"#!/bin/sh\nsed -i 's/^To: $/To: bob@example.test/; s/^Subject: .*/Subject: typed in vi/' \"$1\"\nprintf 'written in the editor\\n' >> \"$1\"\n",
    );
    let reply_editor = setup.write(
        "reply-editor.sh",
        b"#!/bin/sh\nawk 'body == 0 && /^$/ { print; print \"Sounds good.\"; body = 1; next } { print }' \"$1\" > \"$1.new\" && mv \"$1.new\" \"$1\"\n",
    );
    for script in [&send_editor, &reply_editor] {
        common::set_mode(script, 0o755);
    }
    let mailer = format!(
        "{} -c {}",
        env!("CARGO_BIN_EXE_mailer"),
        setup.config().display()
    );
    let editor = |script: &std::path::Path| vec![("EDITOR", script.to_str().unwrap().to_string())];
    let env = editor(&send_editor);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let screen = common::on_a_terminal(&setup, &format!("{mailer} send"), &env, b"");
    let id = screen.trim().to_string();
    let got = stack.wait_for_message("bob", &id);
    let h = python_headers(&got, &["Subject", "To"]);
    assert_eq!(h["Subject"], "typed in vi", "{screen}");
    assert!(common::contains(&got, b"written in the editor"));

    let unchanged = [("EDITOR", "true")];
    let screen = common::on_a_terminal(
        &setup,
        &format!("{mailer} send --to bob@example.test"),
        &unchanged,
        b"",
    );
    assert!(screen.contains("nothing sent"), "{screen}");

    let env = editor(&reply_editor);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let screen = common::on_a_terminal(&setup, &format!("{mailer} reply -m Edited 1"), &env, b"");
    let id = screen.trim().to_string();
    let got = String::from_utf8(stack.wait_for_message("bob", &id)).unwrap();
    let (typed, quote) = (
        got.find("Sounds good.").unwrap(),
        got.find("> Shall we?").unwrap(),
    );
    assert!(
        typed < got.find("Dora wrote:").unwrap() && typed < quote,
        "{got}"
    );
    assert!(got.contains("> Shall we?"), "{got}");
    let screen = common::on_a_terminal(
        &setup,
        &format!("{mailer} reply -m Edited 1"),
        &unchanged,
        b"",
    );
    assert!(screen.contains("nothing sent"), "{screen}");
}

/// `--draft` saves the message in the mailbox marked \Drafts, flagged \Draft and read,
/// Bcc kept, instead of sending it; with no such mailbox it says so (69).
#[test]
fn a_draft_is_saved_in_drafts_not_sent() {
    let stack = stack();
    let setup = account(stack, "carol")
        .smtp(stack, "SUBMISSIONS_PORT")
        .build();
    let args = [
        "send",
        "--to",
        "bob@example.test",
        "--bcc",
        "alice@example.test",
        "-s",
        "half written",
        "--body",
        "to be continued",
        "--draft",
        "--json",
    ];
    let err = setup.mailer(&args).fails_with(69);
    assert!(err.contains("no mailbox \\Drafts"), "{err}");
    setup.mailer(&["mailboxes", "create", "Drafts"]).ok();
    let saved = json(setup.mailer(&args));
    assert_eq!(saved["sent"], false);
    assert_eq!(saved["draft_mailbox"], "Drafts");
    let drafts = stack.server_messages("carol", "Drafts");
    assert_eq!(drafts.len(), 1);
    assert!(drafts[0].starts_with(b"Bcc: alice@example.test\n"));
    let listed = json(setup.mailer(&["list", "-m", "Drafts", "--json"]));
    let mut flags: Vec<String> = serde_json::from_value(listed[0]["flags"].clone()).unwrap();
    flags.sort();
    assert_eq!(flags, ["\\Draft", "\\Seen"]);
}

/// `--local` answers from the Maildir `fetch` filled, without the network: `search`
/// finds what the server finds, `list` and `read` show the stored messages, also with
/// the server out of reach.
#[test]
fn local_search_list_and_read_need_no_network() {
    let stack = stack();
    seeded_search_box(stack, "bob", "LocalSearch");
    let setup = account(stack, "bob").build();
    setup.mailer(&["fetch", "-m", "LocalSearch"]).ok();
    for query in [
        "from:ann",
        "subject:会议",
        "明天",
        "tacos not from:ann",
        "(from:ann or cc:bob) numbers",
        "is:flagged",
        "is:unread",
        "has:attachment",
        "larger:100K",
        "uid:2:4,7",
        "to:carol",
        "body:trip",
    ] {
        let on_server =
            json(setup.mailer(&["search", "-m", "LocalSearch", "-l", "100", "--json", query]));
        let local = json(setup.mailer(&[
            "search",
            "--local",
            "-m",
            "LocalSearch",
            "-l",
            "100",
            "--json",
            query,
        ]));
        assert_eq!(uids_of(&local), uids_of(&on_server), "{query}");
    }
    setup.configure(&account(stack, "bob").server_key("port", common::closed_port()));
    let listed = json(setup.mailer(&["list", "--local", "-m", "LocalSearch", "--json"]));
    assert_eq!(uids_of(&listed), (1..=8).collect());
    assert_eq!(listed[0]["uid"], 8, "newest first");
    let read = json(setup.mailer(&["read", "--local", "-m", "LocalSearch", "3", "--json"]));
    assert_eq!(read["subject"], "会议通知");
    assert!(read["text"].as_str().unwrap().contains("明天下午开会"));
    let err = setup
        .mailer(&["list", "--local", "-m", "NeverFetched"])
        .fails_with(66);
    assert!(err.contains("mailer fetch -m NeverFetched"), "{err}");
}
