//! Cron-shaped use against the real mail stack: sendmail as cron calls it, refusals that
//! must not be queued, and digests.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Account, Setup, Stack, stack};

/// `user` reading over IMAPS and sending over implicit-TLS submission.
fn imap_smtp(stack: &Stack, user: &str) -> Setup {
    Account::new(user)
        .imap(stack, "IMAPS_PORT")
        .smtp(stack, "SUBMISSIONS_PORT")
        .build()
}

#[test]
fn a_permanent_refusal_is_not_queued() {
    let stack = stack();
    let setup = imap_smtp(stack, "alice");
    let err = setup
        .mailer(&[
            "send",
            "--to",
            "nobody@elsewhere.invalid",
            "--subject",
            "x",
            "--body",
            "y",
        ])
        .fails_with(65);
    assert!(err.contains("Relay access denied"), "{err}");
    assert!(setup.mailer(&["queue", "list"]).run().stdout().is_empty());
}

/// Runs `sendmail ARGS` as cron does: through a symlink named sendmail, with cron's bare
/// environment and no terminal, `message` on standard input.
fn cron_sendmail(setup: &Setup, args: &[&str], message: &str) -> std::process::Output {
    setup
        .sendmail(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", setup.dir.path())
        .stdin(message)
        .run()
        .0
}

#[test]
fn sendmail_t_from_a_cron_shaped_invocation_delivers() {
    let stack = stack();
    let setup = imap_smtp(stack, "alice");
    let message = "To: bob@example.test\nBcc: carol@example.test\nSubject: Cron <alice@host> backup.sh cron-token\n\nbackup done\n.\nline after a lone dot\n";
    let out = cron_sendmail(&setup, &["-t", "-oi", "-F", "Cron Daemon"], message);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "cron mails any output"
    );
    stack.wait_for_count("bob", "cron-token", 1);
    stack.wait_for_count("carol", "cron-token", 1);
    for user in ["bob", "carol"] {
        let copy = common::message_files(&stack.maildir(user))
            .into_iter()
            .find(|m| common::contains(m, b"cron-token"))
            .unwrap();
        let text = String::from_utf8_lossy(&copy);
        assert!(!text.to_ascii_lowercase().contains("\nbcc:"), "{text}");
        assert!(
            text.contains("From: \"Cron Daemon\" <alice@example.test>"),
            "{text}"
        );
        assert!(
            text.contains("\n.\nline after a lone dot"),
            "-oi keeps the lone dot: {text}"
        );
    }
}

#[test]
fn the_exact_calls_of_cronie_and_debian_cron_deliver_to_the_account_holder() {
    let stack = stack();
    let setup = imap_smtp(stack, "bob");
    // cronie, with no MAILTO: its own headers name the local user.
    let cronie = "From: \"(Cron Daemon)\" <root>\nTo: root\nSubject: Cron <root@host> /usr/bin/true cronie-token\nContent-Type: text/plain; charset=UTF-8\nAuto-Submitted: auto-generated\n\noutput\n";
    let out = cron_sendmail(
        &setup,
        &[
            "-FCronDaemon",
            "-i",
            "-B8BITMIME",
            "-oem",
            "-oi",
            "-t",
            "-f",
            "root",
        ],
        cronie,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Debian's cron names the recipient as an argument.
    let debian =
        "From: root (Cron Daemon)\nTo: bob\nSubject: Cron <bob@host> ls debian-token\n\noutput\n";
    let out = cron_sendmail(
        &setup,
        &["-i", "-FCronDaemon", "-B", "8BITMIME", "-oem", "bob"],
        debian,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stack.wait_for_count("bob", "cronie-token", 1);
    stack.wait_for_count("bob", "debian-token", 1);
}

fn digest(setup: &Setup, mailbox: &str, subject: &str, extra: &[&str]) -> common::Mailer {
    let mut args = vec![
        "digest",
        "--to",
        "alice@example.test",
        "-m",
        mailbox,
        "--subject",
        subject,
    ];
    args.extend_from_slice(extra);
    setup.mailer(&args)
}

#[test]
fn digest_lists_exactly_the_new_messages_and_skips_or_sends_when_empty() {
    let stack = stack();
    let setup = imap_smtp(stack, "bob");
    stack.deliver(
        "bob",
        "DigestA",
        &[
            "Subject: =?utf-8?b?5ZGo5oql?= first-a\r\nFrom: Zhang <z@example.test>\r\nMessage-ID: <da1@example.test>\r\n\r\n第一行内容\r\n".as_bytes(),
            b"Subject: second-a\r\nFrom: w@example.test\r\nMessage-ID: <da2@example.test>\r\n\r\nhello\r\n",
        ],
    );
    let run = digest(&setup, "DigestA", "digest-one {count}", &[]).run();
    assert!(
        run.ok().is_empty() && run.stderr().is_empty(),
        "silent on success: {}",
        run.stderr()
    );
    stack.wait_for_count("alice", "digest-one 2", 1);
    let first = common::message_files(&stack.maildir("alice"))
        .into_iter()
        .find(|m| common::contains(m, b"digest-one 2"))
        .unwrap();
    let full = mail_parser::MessageParser::default().parse(&first).unwrap();
    let text = full.body_text(0).unwrap().into_owned();
    assert!(
        text.contains("周报 first-a") && text.contains("第一行内容") && text.contains("second-a"),
        "{text}"
    );
    assert!(
        full.body_html(0).unwrap().contains("class=\"msg\""),
        "an HTML part too"
    );

    // Nothing new: skip sends nothing, twice.
    digest(&setup, "DigestA", "digest-empty-skip", &[]).ok();
    digest(&setup, "DigestA", "digest-empty-skip", &[]).ok();
    // --if-empty send sends an empty one.
    digest(
        &setup,
        "DigestA",
        "digest-empty-send",
        &["--if-empty", "send"],
    )
    .ok();
    stack.wait_for_count("alice", "digest-empty-send", 1);
    assert_eq!(stack.count_containing("alice", "digest-empty-skip"), 0);

    // New mail: the next digest lists exactly it.
    stack.deliver(
        "bob",
        "DigestA",
        &[b"Subject: third-a\r\nMessage-ID: <da3@example.test>\r\n\r\nnew\r\n"],
    );
    digest(
        &setup,
        "DigestA",
        "digest-two {count}",
        &["--attach-originals"],
    )
    .ok();
    stack.wait_for_count("alice", "digest-two 1", 1);
    let second = common::message_files(&stack.maildir("alice"))
        .into_iter()
        .find(|m| common::contains(m, b"digest-two 1"))
        .unwrap();
    let full = mail_parser::MessageParser::default()
        .parse(&second)
        .unwrap();
    let text = full.body_text(0).unwrap().into_owned();
    assert!(
        text.contains("third-a") && !text.contains("first-a") && !text.contains("second-a"),
        "{text}"
    );
    assert_eq!(full.attachment_count(), 1);
}

#[test]
fn overlapping_digests_send_one() {
    let stack = stack();
    let setup = imap_smtp(stack, "carol");
    stack.deliver(
        "carol",
        "DigestB",
        &[b"Subject: only-b\r\nMessage-ID: <db1@example.test>\r\n\r\nx\r\n"],
    );
    // A digest of this mailbox is running (it holds the lock).
    let lock = setup.path("state/mailer/carol/digest-DigestB.lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    let held = std::fs::File::create(&lock).unwrap();
    held.lock().unwrap();
    let err = digest(&setup, "DigestB", "digest-b", &[]).fails_with(75);
    assert!(err.contains("another mailer run holds"), "{err}");
    digest(&setup, "DigestB", "digest-b", &["--skip-if-running"]).ok();
    drop(held);
    // Two at once: exactly one digest goes out.
    let a = digest(&setup, "DigestB", "digest-b", &["--skip-if-running"]).spawn();
    let b = digest(&setup, "DigestB", "digest-b", &["--skip-if-running"]).spawn();
    assert!(a.wait_with_output().unwrap().status.success());
    assert!(b.wait_with_output().unwrap().status.success());
    stack.wait_for_count("alice", "digest-b", 1);
}

/// A digest delivered to the mailbox it summarises (the user's own address, or a filter)
/// is not listed by the next digest, so `--if-empty skip` still skips.
#[test]
fn a_digest_in_the_mailbox_it_summarises_is_left_out_of_the_next() {
    let stack = stack();
    let setup = imap_smtp(stack, "bob");
    stack.deliver(
        "bob",
        "DigestSelf",
        &[b"Subject: self-a\r\nMessage-ID: <ds1@example.test>\r\n\r\nx\r\n"],
    );
    digest(&setup, "DigestSelf", "digest-self {count}", &[]).ok();
    stack.wait_for_count("alice", "digest-self 1", 1);
    let sent = common::message_files(&stack.maildir("alice"))
        .into_iter()
        .find(|m| common::contains(m, b"digest-self 1"))
        .unwrap();
    assert!(common::contains(&sent, b"Auto-Submitted: auto-generated"));
    // The digest lands in the mailbox it summarised.
    stack.deliver("bob", "DigestSelf", &[&sent]);
    digest(&setup, "DigestSelf", "digest-self-again", &[]).ok();
    stack.deliver(
        "bob",
        "DigestSelf",
        &[b"Subject: self-b\r\nMessage-ID: <ds2@example.test>\r\n\r\ny\r\n"],
    );
    digest(&setup, "DigestSelf", "digest-self-third {count}", &[]).ok();
    stack.wait_for_count("alice", "digest-self-third 1", 1);
    assert_eq!(stack.count_containing("alice", "digest-self-again"), 0);
}
