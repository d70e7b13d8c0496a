//! The outbox against a real Postfix that goes down and comes back. Alone in its test
//! binary, because stopping Postfix would fail any other test running beside it.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Account, stack};

#[test]
fn postfix_down_queues_and_flush_delivers_each_message_exactly_once() {
    let stack = stack();
    let setup = Account::new("alice")
        .imap(stack, "IMAPS_PORT")
        .smtp(stack, "SUBMISSIONS_PORT")
        .build();
    stack.postfix("stop");

    let mut ids = Vec::new();
    for i in 1..=3 {
        let subject = format!("queued-{i}-token");
        let err = setup
            .mailer(&[
                "send",
                "--to",
                "bob@example.test",
                "--subject",
                &subject,
                "--body",
                "x",
            ])
            .fails_with(75);
        assert!(
            err.contains("queued <") && err.contains("queue flush"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
        ids.push(subject);
    }
    let err = setup
        .mailer(&[
            "send",
            "--no-queue",
            "--to",
            "bob@example.test",
            "--subject",
            "never",
            "--body",
            "x",
        ])
        .fails_with(75);
    assert!(!err.contains("queued"), "{err}");

    let listed = setup.mailer(&["queue", "list", "--json"]).run();
    let list: serde_json::Value = serde_json::from_str(&listed.stdout()).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 3, "{list}");
    assert!(
        list[0]["error"].as_str().unwrap().contains("refused"),
        "{list}"
    );

    // Still down: flushing keeps everything and says so.
    setup.mailer(&["queue", "flush"]).fails_with(75);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(
            &setup.mailer(&["queue", "list", "--json"]).run().stdout()
        )
        .unwrap()
        .as_array()
        .unwrap()
        .len(),
        3
    );

    stack.postfix("start");
    setup.mailer(&["queue", "flush"]).ok();
    for subject in &ids {
        stack.wait_for_count("bob", subject, 1);
    }
    assert!(setup.mailer(&["queue", "list"]).run().stdout().is_empty());
    // Flushing again sends nothing twice.
    setup.mailer(&["queue", "flush"]).ok();
    for subject in &ids {
        stack.wait_for_count("bob", subject, 1);
    }
    assert_eq!(stack.count_containing("bob", "Subject: never"), 0);

    // A message queued while down is delivered by the next ordinary send.
    stack.postfix("stop");
    setup
        .mailer(&[
            "send",
            "--to",
            "bob@example.test",
            "--subject",
            "late-1-token",
            "--body",
            "x",
        ])
        .fails_with(75);
    stack.postfix("start");
    setup
        .mailer(&[
            "send",
            "--to",
            "bob@example.test",
            "--subject",
            "late-2-token",
            "--body",
            "x",
        ])
        .ok();
    stack.wait_for_count("bob", "late-1-token", 1);
    stack.wait_for_count("bob", "late-2-token", 1);
}
