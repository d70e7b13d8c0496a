//! IMAP servers misbehaving in ways a real one cannot be made to: garbage, stalls, cuts.
//! Each ends in one clear line and a temporary-failure exit, never a panic.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::Account;
use common::fault::{Step, serve};

fn account(port: u16) -> Account {
    Account::fake("imap", port).server_key("timeout_secs", 1)
}

fn assert_clean_failure(run: &common::Run, code: i32, needle: &str) {
    let err = run.fails_with(code);
    assert!(err.contains(needle), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_silent_server_times_out() {
    let port = serve(vec![Step::Stall(Duration::from_secs(5))]);
    let run = account(port).build().mailer(&["fetch", "--inbox"]).run();
    assert_clean_failure(&run, 75, "greeting: no reply within 1 s");
}

#[test]
fn garbage_instead_of_a_greeting() {
    let port = serve(vec![
        Step::Send(b"\x00\xffHELLO THERE\r\n* NONSENSE {\r\n"),
        Step::Stall(Duration::from_secs(3)),
    ]);
    let run = account(port).build().mailer(&["fetch", "--inbox"]).run();
    assert!(
        matches!(run.code(), 69 | 75),
        "exit {}: {}",
        run.code(),
        run.stderr()
    );
    assert_eq!(run.stderr().lines().count(), 1, "{}", run.stderr());
}

#[test]
fn connection_cut_in_the_middle_of_a_fetch_stores_nothing_broken() {
    let port = serve(vec![
        Step::Send(b"* OK ready\r\n"),
        Step::Answer(b"", "OK LOGIN done"),
        Step::Answer(b"* CAPABILITY IMAP4rev1\r\n", "OK done"),
        Step::Answer(
            b"* 2 EXISTS\r\n* OK [UIDVALIDITY 5] ok\r\n* OK [UIDNEXT 3] ok\r\n",
            "OK [READ-ONLY] done",
        ),
        Step::Answer(b"* SEARCH 1 2\r\n", "OK done"),
        Step::ReadLine,
        Step::Send(
            b"* 1 FETCH (UID 1 FLAGS () RFC822.SIZE 20 BODY[] {20}\r\nSubject: cut\r\n\r\nbo",
        ),
        Step::Close,
    ]);
    let setup = account(port).build();
    let run = setup.mailer(&["fetch", "--inbox"]).run();
    assert_clean_failure(&run, 75, "UID FETCH");
    let stored: usize = ["new", "cur"]
        .iter()
        .map(|s| {
            std::fs::read_dir(setup.path("Mail").join(s))
                .map(|d| d.count())
                .unwrap_or(0)
        })
        .sum();
    assert_eq!(stored, 0, "a half-received message must not be stored");
}

const OFFERS_SASL_IR: &[u8] =
    b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] Coremail System IMap Server Ready\r\n";

fn bearer_account(port: u16) -> Account {
    account(port).oauth2("xoauth2", "echo token-for-the-fake")
}

/// A server that offers SASL-IR gets the token on the AUTHENTICATE line: one round
/// trip less.
#[test]
fn a_bearer_token_goes_with_authenticate_when_the_server_offers_sasl_ir() {
    let port = serve(vec![
        Step::Send(OFFERS_SASL_IR),
        Step::Expect(
            b"A0001 AUTHENTICATE XOAUTH2 dXNlcj1",
            b"A0001 NO [AUTHENTICATIONFAILED] SASL-IR form refused\r\n",
        ),
    ]);
    let run = bearer_account(port).build().mailer(&["list"]).run();
    assert_clean_failure(
        &run,
        77,
        "refused the login of user \"x@example.test\": [AUTHENTICATIONFAILED] SASL-IR form refused",
    );
}

/// Coremail (163.com, 126.com) offers SASL-IR and refuses it: with `sasl_ir = false`
/// the token waits for the server's go-ahead.
#[test]
fn sasl_ir_false_sends_the_token_after_the_go_ahead() {
    let port = serve(vec![
        Step::Send(OFFERS_SASL_IR),
        Step::Expect(b"A0001 AUTHENTICATE XOAUTH2\r\n", b"+ \r\n"),
        Step::Expect(b"dXNlcj1", b"A0001 OK AUTHENTICATE completed\r\n"),
        Step::Answer(b"* CAPABILITY IMAP4rev1\r\n", "OK done"),
        Step::Answer(
            b"* 0 EXISTS\r\n* OK [UIDVALIDITY 5] ok\r\n",
            "OK [READ-ONLY] done",
        ),
        Step::Answer(b"* BYE\r\n", "OK done"),
    ]);
    let setup = bearer_account(port).server_key("sasl_ir", false).build();
    let out = setup.mailer(&["list"]).ok();
    assert_eq!(out, "");
}

/// A server may run the SEARCH and the FETCH sent with the login at once (RFC 3501
/// 5.5): here a message comes before the SEARCH's answer and the SEARCH's tagged reply
/// after the FETCH's. Both messages are stored, once, and the next command's reply is
/// read as its own.
#[test]
fn a_search_answered_among_the_messages_it_found() {
    let port = serve(vec![
        Step::Send(b"* OK [CAPABILITY IMAP4rev1] ready\r\n"),
        Step::Answer(b"", "OK [CAPABILITY IMAP4rev1] LOGIN done"),
        Step::Expect(b"E1 EXAMINE", b""),
        Step::Expect(b"S1 UID SEARCH UID 1:*", b""),
        Step::Expect(
            b"B1 UID FETCH 1:4294967295 ",
            b"* 2 EXISTS\r\n* OK [UIDVALIDITY 5] ok\r\n* OK [UIDNEXT 3] ok\r\n\
              E1 OK [READ-ONLY] done\r\n\
              * 1 FETCH (UID 1 FLAGS () RFC822.SIZE 23 BODY[]<0> {23}\r\n\
              Subject: one\r\n\r\nfirst\r\n)\r\n\
              * SEARCH 1 2\r\n\
              * 2 FETCH (UID 2 FLAGS () RFC822.SIZE 24 BODY[]<0> {24}\r\n\
              Subject: two\r\n\r\nsecond\r\n)\r\n\
              B1 OK fetched\r\nS1 OK searched\r\n",
        ),
        Step::Answer(b"* BYE\r\n", "OK bye"),
    ]);
    let setup = account(port).maildir().build();
    let run = setup.mailer(&["fetch", "--inbox", "--json"]).run();
    run.ok();
    let stored: Vec<serde_json::Value> = serde_json::from_str(&run.stdout()).unwrap();
    let subjects: Vec<&str> = stored
        .iter()
        .map(|m| m["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["one", "two"], "{}", run.stdout());
    let mut bodies = common::message_files(&setup.path("Mail"));
    bodies.sort();
    assert_eq!(
        bodies,
        [
            b"Subject: one\n\nfirst\n".to_vec(),
            b"Subject: two\n\nsecond\n".to_vec()
        ]
    );
}
