//! POP3 servers misbehaving in ways a real one cannot be made to: garbage, stalls,
//! a cut in the middle of a message. One clear line, exit 75, nothing stored twice.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::fault::{Step, serve};
use common::{Account, message_files};

fn account(port: u16) -> Account {
    Account::fake("pop3", port).server_key("timeout_secs", 1)
}

const LOGIN: [Step; 6] = [
    Step::Send(b"+OK POP3 ready\r\n"),
    Step::ReadLine,
    Step::Send(b"+OK\r\nUIDL\r\nPIPELINING\r\n.\r\n"),
    Step::ReadLine,
    Step::Send(b"+OK\r\n"),
    Step::ReadLine,
];

fn script(rest: &[Step]) -> Vec<Step> {
    let mut v = LOGIN.to_vec();
    v.push(Step::Send(b"+OK logged in\r\n"));
    v.extend_from_slice(rest);
    v
}

#[test]
fn garbage_reply_is_a_clear_temporary_failure() {
    let port = serve(vec![Step::Send(b"HTTP/1.1 400 Bad Request\r\n\r\n")]);
    let err = account(port)
        .build()
        .mailer(&["fetch", "--inbox"])
        .fails_with(75);
    assert!(err.contains("greeting: not a POP3 reply"), "{err}");
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn a_stall_mid_session_times_out() {
    let port = serve(script(&[
        Step::ReadLine,
        Step::Stall(Duration::from_secs(4)),
    ]));
    let err = account(port)
        .build()
        .mailer(&["fetch", "--inbox"])
        .fails_with(75);
    assert!(err.contains("LIST: no reply within 1 s"), "{err}");
}

const LIST_AND_UIDL: [Step; 4] = [
    Step::ReadLine,
    Step::Send(b"+OK 2 messages\r\n1 30\r\n2 30\r\n.\r\n"),
    Step::ReadLine,
    Step::Send(b"+OK\r\n1 uid-one\r\n2 uid-two\r\n.\r\n"),
];

#[test]
fn a_cut_inside_a_message_keeps_what_was_complete_and_a_rerun_adds_no_duplicate() {
    // Both RETRs are pipelined; the connection dies inside the second message.
    let mut first = LIST_AND_UIDL.to_vec();
    first.extend([
        Step::ReadLine,
        Step::ReadLine,
        Step::Send(b"+OK\r\nSubject: one\r\n\r\n..dot\r\n.\r\n"),
        Step::Send(b"+OK\r\nSubject: two\r\n\r\nhalf"),
        Step::Close,
    ]);
    let setup = account(serve(script(&first))).build();
    let err = setup.mailer(&["fetch", "--inbox"]).fails_with(75);
    assert!(err.contains("RETR"), "{err}");
    assert_eq!(
        message_files(&setup.path("Mail")),
        vec![b"Subject: one\n\n.dot\n".to_vec()]
    );

    // The rerun asks only for message 2: uid-one is stored.
    let mut second = LIST_AND_UIDL.to_vec();
    second.extend([
        Step::ReadLine,
        Step::Send(b"+OK\r\nSubject: two\r\n\r\nwhole\r\n.\r\n"),
        Step::ReadLine,
        Step::Send(b"+OK bye\r\n"),
    ]);
    setup.configure(&account(serve(script(&second))));
    setup.mailer(&["fetch", "--inbox"]).ok();
    assert_eq!(
        message_files(&setup.path("Mail")),
        vec![
            b"Subject: one\n\n.dot\n".to_vec(),
            b"Subject: two\n\nwhole\n".to_vec()
        ]
    );
}

#[test]
fn a_message_slower_than_the_timeout_arrives_while_bytes_keep_coming() {
    // 1 s of allowed silence; the message takes about 2.5 s but never pauses for 1 s.
    let mut steps = LIST_AND_UIDL.to_vec();
    steps.extend([
        Step::ReadLine,
        Step::ReadLine,
        Step::Send(b"+OK\r\nSubject: one\r\n\r\nquick\r\n.\r\n"),
        Step::Dribble(
            b"+OK\r\nSubject: two\r\n\r\nslow but steady\r\n.\r\n",
            5,
            Duration::from_millis(250),
        ),
        Step::ReadLine,
        Step::Send(b"+OK bye\r\n"),
    ]);
    let setup = account(serve(script(&steps))).build();
    setup.mailer(&["fetch", "--inbox"]).ok();
    assert_eq!(message_files(&setup.path("Mail")).len(), 2);
}
