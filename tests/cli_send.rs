//! `mailer send` refusing bad input before it connects anywhere: these tests point the
//! account at a closed loopback port, so a run that tried to connect would exit 75 instead.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Account, Setup, set_mode};

fn offline() -> Setup {
    Account::new("alice")
        .server("smtp", "127.0.0.1", common::closed_port())
        .security("none")
        .build()
}

const SEND: &[&str] = &["send", "--to", "bob@example.test", "--subject", "s"];

/// The common send command plus `extra` flags.
fn with(extra: &[&'static str]) -> Vec<&'static str> {
    [SEND, extra].concat()
}

#[test]
fn closed_port_fails_quickly_as_temporary() {
    let setup = offline();
    let start = Instant::now();
    let err = setup.mailer(&with(&["--body", "x"])).fails_with(75);
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(err.starts_with("mailer: connecting to 127.0.0.1:"), "{err}");
    assert!(err.contains("refused"), "{err}");
}

#[test]
fn missing_attachment_is_reported_before_connecting() {
    let err = offline()
        .mailer(&with(&["--body", "x", "--attach", "missing.pdf"]))
        .fails_with(66);
    assert_eq!(
        err.trim(),
        "mailer: reading attachment missing.pdf: no such file"
    );
}

#[test]
fn invalid_address_is_a_usage_error() {
    let err = offline()
        .mailer(&["send", "--to", "bob@@example", "--body", "x"])
        .fails_with(64);
    assert!(
        err.contains("--to \"bob@@example\": not a valid address"),
        "{err}"
    );
}

#[test]
fn line_breaks_in_subject_or_header_are_refused() {
    let setup = offline();
    let err = setup
        .mailer(&[
            "send",
            "--to",
            "b@example.test",
            "--subject",
            "hi\r\nBcc: x@evil.test",
            "--body",
            "x",
        ])
        .fails_with(64);
    assert!(err.contains("--subject contains a line break"), "{err}");
    let err = setup
        .mailer(&with(&[
            "--body",
            "x",
            "--header",
            "X-A: 1\nBcc: x@evil.test",
        ]))
        .fails_with(64);
    assert!(err.contains("line break"), "{err}");
    let err = setup
        .mailer(&with(&["--body", "x", "--header", "Bad Name: 1"]))
        .fails_with(64);
    assert!(err.contains("printable ASCII"), "{err}");
    let err = setup
        .mailer(&with(&["--body", "x", "--header", "Bcc: x@evil.test"]))
        .fails_with(64);
    assert!(err.contains("use --bcc"), "{err}");
    let err = setup
        .mailer(&with(&[
            "--body", "x", "--header", "X-A: 1", "--header", "x-a: 2",
        ]))
        .fails_with(64);
    assert!(err.contains("given twice"), "{err}");
}

#[test]
fn no_recipient_is_a_usage_error() {
    let err = offline()
        .mailer(&["send", "--subject", "s", "--body", "x"])
        .fails_with(64);
    assert!(err.contains("no recipients"), "{err}");
}

#[test]
fn body_file_that_is_not_utf8_is_refused_with_the_fix() {
    let setup = offline();
    setup.write("gbk.txt", &[0xc4, 0xe3, 0xba, 0xc3, b'\n']);
    let err = setup
        .mailer(&with(&["--body-file", "gbk.txt"]))
        .fails_with(65);
    assert!(
        err.contains("gbk.txt: not UTF-8") && err.contains("iconv"),
        "{err}"
    );
}

#[test]
fn dry_run_prints_the_mime_and_sends_nothing() {
    let setup = offline();
    setup.write("notes.txt", b"plain notes");
    let run = setup
        .mailer(&with(&[
            "--body",
            "正文",
            "--bcc",
            "hidden@example.test",
            "--attach",
            "notes.txt",
            "--dry-run",
        ]))
        .run();
    let out = run.ok();
    assert!(!out.is_empty());
    let text = run.stdout();
    assert!(text.contains("To: bob@example.test\r\n"), "{text}");
    assert!(text.contains("Content-Type: multipart/mixed"), "{text}");
    assert!(
        text.contains("filename=\"notes.txt\"") || text.contains("notes.txt"),
        "{text}"
    );
    assert!(!text.contains("hidden@"), "{text}");
}

#[test]
fn config_errors_name_file_line_and_key() {
    let setup = Setup::new(
        "[accounts.alice]\nemail = \"alice@example.test\"\n[accounts.alice.smtp]\nhost = \"h\"\nprot = 25\n",
    );
    let err = setup.mailer(&with(&["--body", "x"])).fails_with(78);
    let expected = format!("{}:5:1: accounts.alice.smtp", setup.config().display());
    assert!(err.contains(&expected) && err.contains("prot"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn plain_password_in_a_readable_config_is_refused() {
    let setup = Setup::new(
        "[accounts.alice]\nemail = \"alice@example.test\"\npassword = \"hunter2\"\n[accounts.alice.smtp]\nhost = \"h\"\n",
    );
    set_mode(&setup.config(), 0o644);
    let err = setup.mailer(&with(&["--body", "x"])).fails_with(78);
    assert!(
        err.contains(":3:12: accounts.alice.password") && err.contains("chmod 600"),
        "{err}"
    );
    assert!(!err.contains("hunter2"));
}

#[test]
fn missing_config_says_where_it_looked() {
    let setup = offline();
    std::fs::remove_file(setup.config()).unwrap();
    let err = setup.mailer(&with(&["--body", "x"])).fails_with(78);
    assert!(
        err.contains("no config yet: ")
            && err.contains("looked for ")
            && err.contains("config.toml")
            && err.contains("run \"mailer account add you@example.org\""),
        "{err}"
    );
}

#[test]
fn help_completions_and_man_page_work() {
    let setup = offline();
    assert!(
        setup
            .mailer(&["send", "--help"])
            .ok()
            .contains("Compose a message")
    );
    assert!(
        setup
            .mailer(&["completions", "bash"])
            .run()
            .stdout()
            .contains("_mailer")
    );
    let page = setup.mailer(&["man"]).run().stdout();
    assert!(page.contains(".TH mailer"), "{page}");
    for section in ["EXIT STATUS", "FILES", "ENVIRONMENT", "EXAMPLES"] {
        assert!(page.contains(section), "no {section} in mailer(1)");
    }
    let page = setup.mailer(&["man", "queue", "flush"]).run().stdout();
    assert!(page.contains(".TH mailer-queue-flush"), "{page}");
    let dir = setup.path("man1");
    setup.mailer(&["man", "--dir", dir.to_str().unwrap()]).ok();
    for page in [
        "mailer.1",
        "mailer-send.1",
        "mailer-queue-flush.1",
        "mailer-auth-login.1",
    ] {
        assert!(dir.join(page).is_file(), "man --dir wrote no {page}");
    }
    assert!(
        setup
            .mailer(&["sendmail", "--help"])
            .ok()
            .contains("/usr/sbin/sendmail")
    );
    setup.mailer(&["send", "--no-such-flag"]).fails_with(64);
}
