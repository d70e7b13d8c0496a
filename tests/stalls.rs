//! A server that stops answering at any step: each step of SMTP, IMAP and POP3 gives up
//! after its bound (timeout_secs) with a message naming the step, and exit 75.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::Account;
use common::fault::{Step, serve};

const STALL: Step = Step::Stall(Duration::from_secs(4));

fn account(protocol: &str, port: u16) -> Account {
    Account::fake(protocol, port).server_key("timeout_secs", 1)
}

/// Plays each prefix of `steps` followed by a stall, and checks that `args` gives up at
/// the step named: `first` when the server says nothing at all, else the name beside
/// the last step played.
fn each_step_gives_up(protocol: &str, args: &[&str], first: &str, steps: &[(Step, &str)]) {
    for stop in 0..=steps.len() {
        let mut script: Vec<Step> = steps[..stop].iter().map(|(s, _)| s.clone()).collect();
        script.push(STALL);
        let port = serve(script);
        let run = account(protocol, port).build().mailer(args).run();
        let named = match stop {
            0 => first,
            n => steps[n - 1].1,
        };
        let err = run.fails_with(75);
        assert!(
            err.contains(&format!(": {named}")) && err.contains("no reply within 1 s"),
            "{protocol} stalled before {named}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn imap_gives_up_at_every_step() {
    let fetch_reply: &'static [u8] =
        b"* 1 FETCH (UID 1 FLAGS () RFC822.SIZE 40 BODY[] {40}\r\nSubject: stalled\r\n\r\nthe first ha";
    each_step_gives_up(
        "imap",
        &["fetch", "--inbox"],
        "greeting",
        &[
            (Step::Send(b"* OK ready\r\n"), "LOGIN"),
            (Step::Answer(b"", "OK LOGIN done"), "CAPABILITY"),
            (
                Step::Answer(b"* CAPABILITY IMAP4rev1\r\n", "OK done"),
                "EXAMINE",
            ),
            (
                Step::Answer(
                    b"* 1 EXISTS\r\n* OK [UIDVALIDITY 5] ok\r\n* OK [UIDNEXT 2] ok\r\n",
                    "OK [READ-ONLY] done",
                ),
                "UID SEARCH",
            ),
            (Step::Answer(b"* SEARCH 1\r\n", "OK done"), "UID FETCH"),
            (Step::ReadLine, "UID FETCH"),
            (Step::Send(fetch_reply), "UID FETCH"),
        ],
    );
}

#[test]
fn pop3_gives_up_at_every_step() {
    each_step_gives_up(
        "pop3",
        &["fetch", "--inbox"],
        "greeting",
        &[
            (Step::Send(b"+OK ready\r\n"), "CAPA"),
            (Step::ReadLine, "CAPA"),
            (Step::Send(b"+OK\r\nUIDL\r\nUSER\r\n.\r\n"), "USER"),
            (Step::ReadLine, "USER"),
            (Step::Send(b"+OK\r\n"), "PASS"),
            (Step::ReadLine, "PASS"),
            (Step::Send(b"+OK logged in\r\n"), "LIST"),
            (Step::ReadLine, "LIST"),
            (Step::Send(b"+OK\r\n1 40\r\n.\r\n"), "UIDL"),
            (Step::ReadLine, "UIDL"),
            (Step::Send(b"+OK\r\n1 u1\r\n.\r\n"), "RETR"),
            (Step::ReadLine, "RETR"),
            (
                Step::Send(b"+OK\r\nSubject: stalled\r\n\r\nthe first ha"),
                "RETR",
            ),
        ],
    );
}

#[test]
fn smtp_gives_up_at_every_step() {
    each_step_gives_up(
        "smtp",
        &[
            "send",
            "--to",
            "bob@example.test",
            "--body",
            "hi",
            "--no-queue",
        ],
        "greeting",
        &[
            (Step::Send(b"220 ready\r\n"), "EHLO"),
            (Step::ReadLine, "EHLO"),
            (Step::Send(b"250 ok\r\n"), "MAIL FROM"),
            (Step::ReadLine, "MAIL FROM"),
            (Step::Send(b"250 ok\r\n"), "RCPT TO <bob@example.test>"),
            (Step::ReadLine, "RCPT TO <bob@example.test>"),
            (Step::Send(b"250 ok\r\n"), "DATA"),
            (Step::ReadLine, "DATA"),
            (Step::Send(b"354 go on\r\n"), "DATA"),
        ],
    );
}
