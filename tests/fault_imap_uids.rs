//! IMAP servers whose UIDs cannot be trusted: a SEARCH that names a UID the mailbox
//! cannot have, a FETCH that brings a message nobody asked for or leaves one out, and a
//! SEARCH that finds nothing in a mailbox that is not empty. Only what was asked for and
//! stored advances the state, so no message is skipped for good.

#![allow(clippy::unwrap_used)]

mod common;

use common::fault::{Step, serve};
use common::{Account, Setup};

fn account(port: u16) -> Account {
    Account::fake("imap", port).server_key("timeout_secs", 5)
}

fn leak(text: String) -> &'static [u8] {
    Box::leak(text.into_bytes().into_boxed_slice())
}

/// `* N FETCH` responses carrying whole messages with these UIDs.
fn bodies(uids: &[u32]) -> &'static [u8] {
    let mut out = String::new();
    for (i, uid) in uids.iter().enumerate() {
        let msg = format!(
            "Message-ID: <{uid}@example.test>\r\nSubject: number {uid}\r\n\r\nbody {uid}\r\n"
        );
        out.push_str(&format!(
            "* {} FETCH (UID {uid} FLAGS () RFC822.SIZE {} BODY[] {{{}}}\r\n{msg})\r\n",
            i + 1,
            msg.len(),
            msg.len()
        ));
    }
    leak(out)
}

/// A session up to the SELECT of a mailbox with `exists` messages and `uid_next`, then
/// `rest`.
fn session(exists: u32, uid_next: u32, rest: Vec<Step>) -> u16 {
    let mut script = vec![
        Step::Send(b"* OK ready\r\n"),
        Step::Answer(b"", "OK LOGIN done"),
        Step::Answer(b"* CAPABILITY IMAP4rev1\r\n", "OK done"),
        Step::Answer(
            leak(format!(
                "* {exists} EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT {uid_next}] ok\r\n"
            )),
            "OK [READ-ONLY] done",
        ),
    ];
    script.extend(rest);
    script.push(Step::Answer(b"* BYE bye\r\n", "OK done"));
    serve(script)
}

fn stored_subjects(setup: &Setup) -> Vec<String> {
    let mut subjects: Vec<String> = common::message_files(&setup.path("Mail"))
        .iter()
        .filter_map(|m| {
            let text = String::from_utf8_lossy(m).into_owned();
            text.lines()
                .find_map(|l| l.strip_prefix("Subject: ").map(str::to_string))
        })
        .collect();
    subjects.sort();
    subjects
}

#[test]
fn a_uid_beyond_uidnext_is_ignored_and_later_mail_still_arrives() {
    let port = session(
        2,
        3,
        vec![
            Step::Answer(b"* SEARCH 1 2 4294967295\r\n", "OK done"),
            Step::Answer(bodies(&[1, 2]), "OK done"),
        ],
    );
    let setup = account(port).build();
    let run = setup.mailer(&["-v", "fetch", "--inbox"]).run();
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert!(run.stderr().contains("UIDNEXT 3"), "{}", run.stderr());
    assert_eq!(stored_subjects(&setup), ["number 1", "number 2"]);

    // The next run asks from UID 3 on, not from 4294967296, and gets the new message.
    let port = session(
        3,
        4,
        vec![
            Step::Answer(b"* SEARCH 3\r\n", "OK done"),
            Step::Answer(bodies(&[3]), "OK done"),
        ],
    );
    setup.configure(&account(port));
    setup.mailer(&["fetch", "--inbox"]).ok();
    assert_eq!(
        stored_subjects(&setup),
        ["number 1", "number 2", "number 3"]
    );
}

#[test]
fn a_message_not_asked_for_is_not_stored_and_one_left_out_is_fetched_next_time() {
    let port = session(
        3,
        4,
        vec![
            Step::Answer(b"* SEARCH 1 2 3\r\n", "OK done"),
            // UID 2 is left out; UID 9 was never asked for.
            Step::Answer(bodies(&[1, 9, 3]), "OK done"),
        ],
    );
    let setup = account(port).build();
    setup.mailer(&["fetch", "--inbox"]).ok();
    assert_eq!(stored_subjects(&setup), ["number 1", "number 3"]);

    let port = session(
        3,
        4,
        vec![
            Step::Answer(b"* SEARCH 2 3\r\n", "OK done"),
            Step::Answer(bodies(&[2]), "OK done"),
        ],
    );
    setup.configure(&account(port));
    setup.mailer(&["fetch", "--inbox"]).ok();
    assert_eq!(
        stored_subjects(&setup),
        ["number 1", "number 2", "number 3"]
    );
}

#[test]
fn an_empty_search_in_a_mailbox_that_is_not_empty_is_checked_with_fetch() {
    // GNU Mailutils' imap4d answers UID SEARCH UID 1:* with nothing.
    let port = session(
        2,
        3,
        vec![
            Step::Answer(b"* SEARCH\r\n", "OK done"),
            Step::Answer(b"* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\n", "OK done"),
            Step::Answer(bodies(&[1, 2]), "OK done"),
        ],
    );
    let setup = account(port).build();
    let run = setup.mailer(&["-v", "fetch", "--inbox"]).run();
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("UID SEARCH found 0 of the mailbox's 2 message(s)"),
        "{}",
        run.stderr()
    );
    assert_eq!(stored_subjects(&setup), ["number 1", "number 2"]);
}

#[test]
fn a_digest_checks_an_empty_search_too() {
    let digest = |setup: &Setup| {
        setup
            .mailer(&["digest", "--to", "x@example.test"])
            .fails_with(75)
    };
    // The digest's SMTP server is down: each digest waits in the outbox.
    let with_smtp = |port| {
        account(port)
            .server("smtp", "127.0.0.1", 1)
            .security("none")
    };
    let port = session(
        2,
        3,
        vec![
            Step::Answer(b"* SEARCH 1 2\r\n", "OK done"),
            Step::Answer(bodies(&[1, 2]), "OK done"),
        ],
    );
    let setup = with_smtp(port).build();
    digest(&setup);
    let port = session(
        4,
        5,
        vec![
            Step::Answer(b"* SEARCH\r\n", "OK done"),
            Step::Answer(b"* 3 FETCH (UID 3)\r\n* 4 FETCH (UID 4)\r\n", "OK done"),
            Step::Answer(bodies(&[3, 4]), "OK done"),
        ],
    );
    setup.configure(&with_smtp(port));
    digest(&setup);
    let queued: Vec<Vec<u8>> = std::fs::read_dir(setup.path("state/mailer/x/outbox"))
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(queued.len(), 2);
    let second = queued
        .iter()
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .find(|m| m.contains("number 3"))
        .expect("a digest of the messages the empty SEARCH left out");
    assert!(second.contains("number 4"), "{second}");
}

#[test]
fn a_first_search_that_finds_fewer_than_exists_is_checked_with_fetch() {
    let port = session(
        3,
        4,
        vec![
            Step::Answer(b"* SEARCH 3\r\n", "OK done"),
            Step::Answer(
                b"* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\n* 3 FETCH (UID 3)\r\n",
                "OK done",
            ),
            Step::Answer(bodies(&[1, 2, 3]), "OK done"),
        ],
    );
    let setup = account(port).build();
    setup.mailer(&["fetch", "--inbox"]).ok();
    assert_eq!(
        stored_subjects(&setup),
        ["number 1", "number 2", "number 3"]
    );
}
