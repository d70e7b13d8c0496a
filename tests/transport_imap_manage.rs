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
