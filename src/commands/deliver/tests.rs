//! The delivery policy against a stub transport: what is sent, in which order, what is
//! queued, and what is given up on, without a server.

use std::collections::VecDeque;

use super::*;
use crate::net;

/// A transport that answers from a script and records what it was given.
#[derive(Default)]
struct Stub {
    answers: VecDeque<Result<(), smtp::Error>>,
    sent: Vec<String>,
    quit: bool,
}

impl Stub {
    fn answering(answers: Vec<Result<(), smtp::Error>>) -> Stub {
        Stub {
            answers: answers.into(),
            ..Stub::default()
        }
    }
}

impl Transport for &mut Stub {
    async fn send(&mut self, message: &Outgoing) -> Result<(), smtp::Error> {
        self.sent.push(message.message_id.clone());
        self.answers.pop_front().unwrap_or(Ok(()))
    }

    async fn quit(self) {
        self.quit = true;
    }
}

fn reply(code: u16) -> smtp::Error {
    smtp::Error::Rejected {
        addr: "smtp.example.org:465".into(),
        step: smtp::Step::Data,
        code: smtp::Code(code),
        text: "try later".into(),
    }
}

fn refused_connection() -> smtp::Error {
    smtp::Error::Net(net::Error::Connect {
        addr: "smtp.example.org:465".into(),
        reason: "Connection refused".into(),
        temporary: true,
    })
}

fn message(n: u32) -> Outgoing {
    Outgoing {
        sender: "alice@example.org".parse().unwrap(),
        recipients: vec!["bob@example.org".parse().unwrap()],
        message_id: format!("<{n}@example.org>"),
        bytes: format!("Subject: {n}\r\n\r\nbody\r\n").into_bytes(),
    }
}

fn outbox_with(n: u32) -> (tempfile::TempDir, Outbox) {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::new(dir.path().join("outbox"));
    for i in 1..=n {
        outbox.add(&message(i), "earlier failure").unwrap();
        // Ids order by time: keep them distinct.
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    (dir, outbox)
}

fn run<T>(fut: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(fut)
}

#[test]
fn older_messages_go_first_over_the_same_connection() {
    let (_dir, outbox) = outbox_with(2);
    let mut stub = Stub::default();
    let delivery = run(deliver_over(Ok(&mut stub), &outbox, &message(9), true)).unwrap();
    assert_eq!(
        stub.sent,
        ["<1@example.org>", "<2@example.org>", "<9@example.org>"]
    );
    assert!(stub.quit);
    let Delivery::Sent { flushed } = delivery else {
        panic!("not sent")
    };
    assert_eq!(flushed.sent.len(), 2);
    assert!(outbox.list().unwrap().is_empty());
}

#[test]
fn a_temporary_failure_stops_the_flush_and_keeps_the_rest() {
    let (_dir, outbox) = outbox_with(3);
    let mut stub = Stub::answering(vec![Ok(()), Err(reply(452))]);
    let report = run(flush_with(&mut &mut stub, &outbox));
    assert_eq!(stub.sent.len(), 2, "the third was not tried");
    assert_eq!(report.sent.len(), 1);
    assert_eq!(report.kept.len(), 2);
    assert!(report.retry);
    let left = outbox.list().unwrap();
    assert_eq!(left.len(), 2);
    assert_eq!(left[0].as_ref().unwrap().attempts, 2);
    // The third was not tried: its line says so rather than repeat its old error alone.
    assert!(report.kept[0].1.contains("try later"), "{:?}", report.kept);
    assert!(
        report.kept[1].1.starts_with("not tried in this flush"),
        "{:?}",
        report.kept
    );
}

/// A login refused with the first queued message (it went with that message's
/// transaction): the rest are not tried, and none is called refused for good.
#[test]
fn a_refused_login_keeps_every_message_queued_untried() {
    let (_dir, outbox) = outbox_with(3);
    let login = smtp::Error::AuthRefused(net::LoginRefused {
        addr: "smtp.example.org:465".into(),
        user: "alice".into(),
        reply: "535 5.7.8 Authentication failed".into(),
    });
    let mut stub = Stub::answering(vec![Err(login)]);
    let report = run(flush_with(&mut &mut stub, &outbox));
    assert_eq!(stub.sent.len(), 1, "nothing after the refused login");
    assert!(report.retry);
    assert_eq!(report.kept.len(), 3);
    assert!(
        report.kept[0].1.contains("refused the login"),
        "{:?}",
        report.kept
    );
    assert!(
        report.kept.iter().all(|(_, why)| !why.contains("for good")),
        "{:?}",
        report.kept
    );
    assert_eq!(outbox.list().unwrap().len(), 3);
}

#[test]
fn a_permanent_refusal_is_kept_for_the_user_and_the_flush_goes_on() {
    let (_dir, outbox) = outbox_with(2);
    let mut stub = Stub::answering(vec![Err(reply(552))]);
    let report = run(flush_with(&mut &mut stub, &outbox));
    assert_eq!(stub.sent.len(), 2);
    assert!(!report.retry);
    assert_eq!(report.kept.len(), 1);
    assert!(
        report.kept[0].1.contains("refused for good"),
        "{:?}",
        report.kept
    );
    assert!(
        report.kept[0].1.contains("mailer queue drop"),
        "{:?}",
        report.kept
    );
}

#[test]
fn an_unreachable_server_queues_the_message_unless_told_not_to() {
    let (_dir, outbox) = outbox_with(0);
    let queued = run(deliver_over::<&mut Stub>(
        Err(refused_connection()),
        &outbox,
        &message(1),
        true,
    ))
    .unwrap();
    assert!(matches!(queued, Delivery::Queued { .. }));
    assert_eq!(outbox.list().unwrap().len(), 1);

    let failed = run(deliver_over::<&mut Stub>(
        Err(refused_connection()),
        &outbox,
        &message(2),
        false,
    ))
    .unwrap_err();
    assert_eq!(failed.exit(), Exit::TempFail);
    assert_eq!(outbox.list().unwrap().len(), 1, "--no-queue queues nothing");
}

#[test]
fn a_refused_message_is_an_error_and_is_not_queued() {
    let (_dir, outbox) = outbox_with(0);
    let mut stub = Stub::answering(vec![Err(reply(552))]);
    let failed = run(deliver_over(Ok(&mut stub), &outbox, &message(1), true)).unwrap_err();
    assert_eq!(failed.exit(), Exit::Data);
    assert!(outbox.list().unwrap().is_empty());
}

#[test]
fn a_4xx_to_the_new_message_queues_it() {
    let (_dir, outbox) = outbox_with(0);
    let mut stub = Stub::answering(vec![Err(reply(452))]);
    let delivery = run(deliver_over(Ok(&mut stub), &outbox, &message(1), true)).unwrap();
    let Delivery::Queued { reason, .. } = delivery else {
        panic!("not queued")
    };
    assert!(reason.contains("452 try later"), "{reason}");
    assert_eq!(outbox.list().unwrap().len(), 1);
}
