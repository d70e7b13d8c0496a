//! No secret appears in anything mailer prints, at any log level: every protocol's login
//! is run at `-vvv` and with `MAILER_LOG=trace` (also naming async-imap's own target),
//! and every byte of output is searched for each password, and for the base64 forms
//! AUTH PLAIN and AUTH LOGIN send.

#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use common::{Account, Mailer, Setup, stack};

/// Every form of `user`'s password that could leak.
fn secrets(user: &str, password: &str) -> Vec<String> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    vec![
        password.to_string(),
        b64(password),
        b64(&format!("\0{user}\0{password}")),
        b64(&format!("{user}\0{user}\0{password}")),
    ]
}

/// Runs `args` at every log level and checks that no secret is in the output.
fn assert_silent_about(setup: &Setup, args: &[&str], secret_list: &[String]) {
    let levels: [(&[&str], Option<&str>); 3] = [
        (&["-vvv"], None),
        (&[], Some("trace")),
        (&[], Some("trace,async_imap=trace,lettre=trace")),
    ];
    for (flags, log) in levels {
        let all: Vec<&str> = flags.iter().chain(args).copied().collect();
        let mut mailer: Mailer = setup.mailer(&all);
        if let Some(filter) = log {
            mailer = mailer.env("MAILER_LOG", filter);
        }
        let run = mailer.run();
        let output = format!("{}{}", run.stdout(), run.stderr());
        assert!(
            output.contains("TRACE") || output.contains("DEBUG"),
            "{all:?} at {log:?} logged nothing: {output}"
        );
        for secret in secret_list {
            assert!(
                !output.contains(secret.as_str()),
                "{all:?} at {log:?} printed the secret {secret:?}:\n{output}"
            );
        }
    }
}

#[test]
fn smtp_imap_and_pop3_logins_never_print_a_password_at_any_level() {
    let stack = stack();
    let alice = secrets("alice@example.test", "alicepw");
    let carol = secrets("carol@example.test", "carolpw");

    for (port, security) in [("SUBMISSION_PORT", "starttls"), ("SUBMISSIONS_PORT", "tls")] {
        let setup = Account::new("alice")
            .smtp(stack, port)
            .security(security)
            .build();
        let send = [
            "send",
            "--to",
            "carol@example.test",
            "--body",
            "hi",
            "--no-queue",
        ];
        assert_silent_about(&setup, &send, &alice);
    }

    stack.seed("carol", 2, "INBOX");
    for (port, security) in [("IMAPS_PORT", "tls"), ("IMAP_PORT", "starttls")] {
        let setup = Account::new("carol")
            .maildir()
            .imap(stack, port)
            .security(security)
            .build();
        for args in [
            &["fetch", "--inbox"][..],
            &["list"],
            &["mailboxes"],
            &["read", "1"],
        ] {
            assert_silent_about(&setup, args, &carol);
        }
    }

    for (port, security) in [("POP3S_PORT", "tls"), ("POP3_PORT", "starttls")] {
        let setup = Account::new("carol")
            .maildir()
            .pop3(stack, port)
            .security(security)
            .build();
        assert_silent_about(&setup, &["fetch", "--inbox"], &carol);
        assert_silent_about(&setup, &["list"], &carol);
    }
}

#[test]
fn a_refused_password_is_not_printed_either() {
    let stack = stack();
    let wrong = secrets("carol@example.test", "s3cret-wrong");
    let imap = Account::new("carol")
        .password_command("echo s3cret-wrong")
        .maildir()
        .imap(stack, "IMAPS_PORT")
        .build();
    assert_silent_about(&imap, &["list"], &wrong);
    let smtp = Account::new("carol")
        .password_command("echo s3cret-wrong")
        .smtp(stack, "SUBMISSIONS_PORT")
        .build();
    let send = [
        "send",
        "--to",
        "bob@example.test",
        "--body",
        "hi",
        "--no-queue",
    ];
    assert_silent_about(&smtp, &send, &wrong);
}

/// `-vv` shows the conversation of each protocol, as msmtp's `--debug` does, with the
/// login's secret as `***` (and the harness checks every run for the passwords).
#[test]
fn vv_shows_each_protocols_conversation_with_the_secret_replaced() {
    let stack = stack();
    stack.seed("carol", 1, "INBOX");
    let setup = Account::new("carol")
        .maildir()
        .imap(stack, "IMAPS_PORT")
        .smtp(stack, "SUBMISSIONS_PORT")
        .build();
    let list = setup.mailer(&["-vv", "list"]).run();
    list.ok();
    let log = list.stderr();
    assert!(log.contains("imap < * OK"), "{log}");
    assert!(log.contains("imap > A") && log.contains("***"), "{log}");
    assert!(
        log.contains("SELECT \"INBOX\"") || log.contains("EXAMINE \"INBOX\""),
        "{log}"
    );
    let send = [
        "-vv",
        "send",
        "--to",
        "bob@example.test",
        "-s",
        "wire",
        "--body",
        "x",
    ];
    let sent = setup.mailer(&send).run();
    sent.ok();
    let log = sent.stderr();
    assert!(log.contains("smtp > AUTH PLAIN ***"), "{log}");
    assert!(log.contains("smtp < 235"), "{log}");
    assert!(
        log.contains("smtp > MAIL FROM:<carol@example.test>"),
        "{log}"
    );
    // With STARTTLS, the conversation goes on after it, in the clear.
    let starttls = Account::new("carol")
        .smtp(stack, "SUBMISSION_PORT")
        .security("starttls")
        .build();
    let sent = starttls.mailer(&send).run();
    sent.ok();
    let log = sent.stderr();
    let after = &log[log.find("smtp > STARTTLS").expect("STARTTLS shown")..];
    for line in [
        "smtp < 220",
        "smtp > EHLO",
        "smtp > AUTH PLAIN ***",
        "smtp < 235",
        "smtp > MAIL FROM:<carol@example.test>",
        "smtp > RCPT TO:<bob@example.test>",
    ] {
        assert!(after.contains(line), "{line}: {after}");
    }
    // -v says what happens, each step once, not the conversation.
    let steps = setup.mailer(&["-v", "list"]).run();
    let log = steps.stderr();
    for step in [
        "connected to",
        "TLS established",
        "logged in as carol",
        "opened INBOX with EXAMINE: ",
        " messages of INBOX",
    ] {
        assert_eq!(log.matches(step).count(), 1, "{step}: {log}");
    }
    assert!(!log.contains("imap >") && !log.contains("DEBUG"), "{log}");
    let send = [
        "-v",
        "send",
        "--to",
        "bob@example.test",
        "-s",
        "steps",
        "--body",
        "x",
    ];
    let log = setup.mailer(&send).run().stderr();
    assert!(
        log.contains("logged in as carol") && log.contains("the server took <"),
        "{log}"
    );

    let pop3 = Account::new("carol")
        .maildir()
        .pop3(stack, "POP3S_PORT")
        .build();
    let fetched = pop3.mailer(&["-vv", "list"]).run();
    fetched.ok();
    let log = fetched.stderr();
    assert!(log.contains("pop3 < +OK"), "{log}");
    assert!(
        log.contains("pop3 > AUTH PLAIN ***") || log.contains("pop3 > PASS ***"),
        "{log}"
    );
    assert!(
        log.contains("pop3 > STAT") || log.contains("pop3 > LIST"),
        "{log}"
    );
}
