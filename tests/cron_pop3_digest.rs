//! A digest of a POP3 mailbox. Its own test binary: the other cron tests deliver into
//! every INBOX of the stack, which a POP3 digest (INBOX only) would count.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Account, now_rfc5322, stack};

fn digest_text(stack: &common::Stack, needle: &str) -> String {
    stack.wait_for_count("alice", needle, 1);
    let raw = common::message_files(&stack.maildir("alice"))
        .into_iter()
        .find(|m| common::contains(m, needle.as_bytes()))
        .unwrap();
    let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
    parsed.body_text(0).unwrap().into_owned()
}

#[test]
fn pop3_digest_lists_recent_then_only_new_mail() {
    let stack = stack();
    let setup = Account::new("carol")
        .pop3(stack, "POP3S_PORT")
        .smtp(stack, "SUBMISSIONS_PORT")
        .build();
    let now = now_rfc5322();
    let recent_1 = format!(
        "Date: {now}\r\nSubject: pop-recent-1\r\nMessage-ID: <p1@example.test>\r\n\r\none\r\n"
    );
    let recent_2 = format!(
        "Date: {now}\r\nSubject: pop-recent-2\r\nMessage-ID: <p2@example.test>\r\n\r\ntwo\r\n"
    );
    let old = "Date: Mon, 6 Jan 2020 10:00:00 +0000\r\nSubject: pop-old\r\nMessage-ID: <p0@example.test>\r\n\r\nold\r\n";
    stack.deliver(
        "carol",
        "INBOX",
        &[old.as_bytes(), recent_1.as_bytes(), recent_2.as_bytes()],
    );

    let args =
        |subject: &'static str| ["digest", "--to", "alice@example.test", "--subject", subject];
    setup.mailer(&args("pop-digest-one {count}")).ok();
    let text = digest_text(stack, "pop-digest-one 2");
    assert!(
        text.contains("pop-recent-1") && text.contains("pop-recent-2"),
        "{text}"
    );
    assert!(
        !text.contains("pop-old"),
        "a first digest covers the last day: {text}"
    );

    setup.mailer(&args("pop-digest-none")).ok();
    assert_eq!(stack.count_containing("alice", "pop-digest-none"), 0);

    let fresh = format!(
        "Date: {now}\r\nSubject: pop-recent-3\r\nMessage-ID: <p3@example.test>\r\n\r\nthree\r\n"
    );
    stack.deliver("carol", "INBOX", &[fresh.as_bytes()]);
    setup.mailer(&args("pop-digest-two {count}")).ok();
    let text = digest_text(stack, "pop-digest-two 1");
    assert!(
        text.contains("pop-recent-3") && !text.contains("pop-recent-1"),
        "{text}"
    );
}
