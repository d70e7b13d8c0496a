//! What a person sees: `list` fitted to 80 and 120 columns with a header row and a
//! flags column, dates in the reader's time zone (east and west of UTC), the local
//! offset in outgoing mail, and a word where a script gets silence.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Account, Setup, on_a_terminal, stack};

/// The display width of a line: CJK characters take two columns.
fn columns(line: &str) -> usize {
    line.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115f | 0x2e80..=0xa4cf | 0xac00..=0xd7a3 | 0xf900..=0xfaff => 2,
            0xfe30..=0xfe4f | 0xff00..=0xff60 | 0xffe0..=0xffe6 => 2,
            _ => 1,
        })
        .sum()
}

fn wide_mailbox(user: &str, mailbox: &str) -> Setup {
    let stack = stack();
    stack.deliver(
        user,
        mailbox,
        &[
            "Subject: 季度报告季度报告季度报告季度报告季度报告季度报告季度报告季度报告季度报告 wide-token\r\nFrom: 张伟 <z@example.test>\r\nDate: Sat, 31 Dec 2022 23:30:00 +0000\r\nMessage-ID: <w1@example.test>\r\n\r\nx\r\n".as_bytes(),
        ],
    );
    Account::new(user).imap(stack, "IMAPS_PORT").build()
}

#[test]
fn list_lines_fit_80_and_120_columns_and_show_the_readers_date() {
    let setup = wide_mailbox("bob", "Wide");
    for (width, tz, day) in [
        ("80", "Asia/Shanghai", "2023-01-01"),
        ("120", "America/New_York", "2022-12-31"),
    ] {
        let out = setup
            .mailer(&["list", "-m", "Wide"])
            .env("COLUMNS", width)
            .env("TZ", tz)
            .run()
            .stdout();
        let line = out.lines().next().unwrap();
        assert_eq!(columns(line), width.parse::<usize>().unwrap(), "{line}");
        assert!(line.contains('…'), "the subject is cut: {line}");
        assert!(line.contains(day), "{tz}: {line}");
        assert!(line.contains(" N "), "unread: {line}");
        // No header row for a script.
        assert!(!out.contains("SUBJECT"), "{out}");
    }
}

#[test]
fn on_a_terminal_list_has_a_header_row_and_an_empty_list_says_so() {
    let setup = wide_mailbox("carol", "WideTerm");
    let command = format!(
        "COLUMNS=100 {} -c {} list -m WideTerm",
        env!("CARGO_BIN_EXE_mailer"),
        setup.config().display()
    );
    let screen = on_a_terminal(&setup, &command, &[], b"");
    let header = screen.lines().next().unwrap();
    assert!(
        header.trim_start().starts_with("ID  FLAG  DATE"),
        "{screen}"
    );
    assert!(header.trim_end().ends_with("SUBJECT") || header.contains("SUBJECT"));
    stack().deliver("carol", "EmptyTerm", &[]);
    let command = format!(
        "{} -c {} list -m EmptyTerm",
        env!("CARGO_BIN_EXE_mailer"),
        setup.config().display()
    );
    let screen = on_a_terminal(&setup, &command, &[], b"");
    assert_eq!(screen.trim(), "no messages");
    let quiet = on_a_terminal(&setup, &format!("{command} -q"), &[], b"");
    assert_eq!(quiet.trim(), "", "--quiet says nothing");
    assert_eq!(setup.mailer(&["list", "-m", "EmptyTerm"]).ok(), "");
}

/// The outgoing Date header carries the sender's own offset, as `TZ` says.
#[test]
fn outgoing_mail_is_dated_in_local_time() {
    let setup = Account::new("alice").server("smtp", "127.0.0.1", 9).build();
    for (tz, offset) in [("Asia/Shanghai", "+0800"), ("America/New_York", "-0500")] {
        let out = setup
            .mailer(&[
                "send",
                "--dry-run",
                "--to",
                "b@example.test",
                "--subject",
                "s",
                "--body",
                "b",
            ])
            .env("TZ", tz)
            .run()
            .stdout();
        let date = out.lines().find(|l| l.starts_with("Date: ")).unwrap();
        assert!(date.ends_with(offset), "{tz}: {date}");
    }
}

/// `queue flush` on a terminal says what it did; a script sees nothing.
#[test]
fn queue_flush_on_a_terminal_says_how_many_went() {
    let stack = stack();
    let closed = common::closed_port();
    let setup = Account::new("alice")
        .server("smtp", "127.0.0.1", closed)
        .security("none")
        .build();
    let run = setup
        .mailer(&[
            "send",
            "--to",
            "bob@example.test",
            "--subject",
            "flush-word-token",
            "--body",
            "b",
        ])
        .run();
    assert_eq!(run.code(), 75, "{}", run.stderr());
    setup.configure(&Account::new("alice").smtp(stack, "SUBMISSIONS_PORT"));
    let command = format!(
        "{} -c {} queue flush",
        env!("CARGO_BIN_EXE_mailer"),
        setup.config().display()
    );
    let screen = on_a_terminal(&setup, &command, &[], b"");
    assert_eq!(screen.trim(), "sent 1, 0 left");
    stack.wait_for_count("bob", "flush-word-token", 1);
    assert_eq!(setup.mailer(&["queue", "flush"]).ok(), "");
}

/// A command line that does not parse gets one line, `mailer: ...`, exit 64; no command
/// at all a short usage on stdout (clap's exit 2); help is help, with the global flags
/// apart.
#[test]
fn usage_errors_are_one_line_and_help_is_tidy() {
    let setup = Setup::empty();
    let run = setup.mailer(&["send", "--bogus"]).run();
    assert_eq!(run.code(), 64);
    let err = run.stderr();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("mailer: unexpected argument '--bogus' found (usage: mailer send"),
        "{err}"
    );
    let err = setup.mailer(&["read"]).fails_with(64);
    assert!(err.contains("--file PATH"), "{err}");
    let bare = std::process::Command::new(env!("CARGO_BIN_EXE_mailer"))
        .output()
        .unwrap();
    assert_eq!(bare.status.code(), Some(2));
    let usage = String::from_utf8_lossy(&bare.stdout);
    assert!(usage.starts_with("Usage: mailer "), "{usage}");
    let version = setup.mailer(&["--version"]).run();
    let version = version.stdout();
    assert!(version.starts_with("mailer 0."), "{version}");
    assert!(version.contains("+imap +pop3"), "{version}");
    assert!(version.contains("\nTLS: OpenSSL 3."), "{version}");
    assert_eq!(
        setup.mailer(&["-V"]).ok(),
        format!("mailer {}", env!("CARGO_PKG_VERSION"))
    );
    let help = setup.mailer(&["help", "--help"]).ok();
    assert!(help.starts_with("A command-line mail"), "{help}");
    let help = setup.mailer(&["list", "--help"]).run().stdout();
    assert!(help.contains("\nGlobal options:\n"), "{help}");
    assert!(help.contains("[env: MAILER_ACCOUNT]"), "{help}");
    let help = setup.mailer(&["digest", "--help"]).run().stdout();
    assert!(help.contains("--if-empty <skip|send>"), "{help}");
    let help = setup.mailer(&["sendmail", "--help"]).run().stdout();
    assert!(help.contains("Usage: mailer sendmail "), "{help}");
    let help = setup.mailer(&["fetch", "--help"]).run().stdout();
    assert!(help.contains("Delete messages from the server"), "{help}");
}

/// Colour on a terminal only, never with NO_COLOR or `--color never`, and with
/// `--color always` even into a pipe.
#[test]
fn colour_follows_the_terminal_no_color_and_the_flag() {
    let setup = Account::new("carol").imap(stack(), "IMAPS_PORT").build();
    let green = "\x1b[32mok  \x1b[0m";
    let piped = setup.mailer(&["check"]).run();
    piped.ok();
    assert!(!piped.stdout().contains('\x1b'), "{}", piped.stdout());
    let forced = setup.mailer(&["check", "--color", "always"]).run();
    assert!(forced.stdout().contains(green), "{}", forced.stdout());
    let command = format!(
        "{} -c {} check",
        env!("CARGO_BIN_EXE_mailer"),
        setup.config().display()
    );
    let colour = [("TERM", "xterm"), ("NO_COLOR", "")];
    let screen = on_a_terminal(&setup, &command, &colour, b"");
    assert!(screen.contains(green), "{screen}");
    let screen = on_a_terminal(
        &setup,
        &command,
        &[("TERM", "xterm"), ("NO_COLOR", "1")],
        b"",
    );
    assert!(!screen.contains('\x1b'), "{screen}");
    let never = format!("{command} --color never");
    let screen = on_a_terminal(&setup, &never, &colour, b"");
    assert!(!screen.contains('\x1b'), "{screen}");
}

/// mutt's `-a FILE` habit gets a word about --attach, and `-A`/`-s` work as short flags.
#[test]
fn send_dash_a_with_a_file_says_how_to_attach() {
    let setup = Account::new("carol").imap(stack(), "IMAPS_PORT").build();
    let file = setup.path("report.pdf");
    std::fs::write(&file, b"%PDF-1.4\n").unwrap();
    let file = file.to_str().unwrap();
    let err = setup
        .mailer(&["send", "-a", file, "--to", "bob@example.test", "-s", "hi"])
        .fails_with(64);
    assert!(
        err.contains("-a is the account") && err.contains("--attach (-A)"),
        "{err}"
    );
    let run = setup
        .mailer(&[
            "send",
            "--to",
            "bob@example.test",
            "-s",
            "report",
            "-A",
            file,
            "--body",
            "x",
            "--dry-run",
        ])
        .run();
    run.ok();
    let out = run.stdout();
    assert!(out.contains("Subject: report"), "{out}");
    assert!(out.contains("filename=\"report.pdf\""), "{out}");
}

/// `read` on a terminal goes through `$PAGER`; `--no-pager` and a pipe do not.
#[test]
fn read_on_a_terminal_goes_through_the_pager() {
    let setup = Setup::empty();
    let eml = setup.write(
        "long.eml",
        b"Subject: paged-token\r\nFrom: a@example.test\r\n\r\nline one\r\nline two\r\n",
    );
    let command = format!(
        "{} read --file {}",
        env!("CARGO_BIN_EXE_mailer"),
        eml.display()
    );
    let pager = [("PAGER", "sed s/^/paged:/")];
    let screen = on_a_terminal(&setup, &command, &pager, b"");
    assert!(screen.contains("paged:Subject: paged-token"), "{screen}");
    assert!(screen.contains("paged:line two"), "{screen}");
    let screen = on_a_terminal(&setup, &format!("{command} --no-pager"), &pager, b"");
    assert!(
        screen.contains("line two") && !screen.contains("paged:"),
        "{screen}"
    );
    let piped = setup
        .mailer(&["read", "--file", eml.to_str().unwrap()])
        .env("PAGER", "sed s/^/paged:/")
        .run()
        .stdout();
    assert!(
        piped.contains("line two") && !piped.contains("paged:"),
        "{piped}"
    );
}

/// `list --page` and `--offset` walk back through a mailbox, newest first, without
/// overlap.
#[test]
fn list_pages_walk_back_through_the_mailbox() {
    let stack = stack();
    let messages: Vec<String> = (1..=5)
        .map(|i| format!("Subject: page-msg-{i}\r\nMessage-ID: <pg{i}@example.test>\r\n\r\nx\r\n"))
        .collect();
    let bytes: Vec<&[u8]> = messages.iter().map(|m| m.as_bytes()).collect();
    stack.deliver("alice", "Paged", &bytes);
    let setup = Account::new("alice").imap(stack, "IMAPS_PORT").build();
    let subjects = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["list", "-m", "Paged", "--json"];
        all.extend_from_slice(args);
        let out = setup.mailer(&all).run().stdout();
        let list: serde_json::Value = serde_json::from_str(&out).unwrap();
        let names = list.as_array().unwrap().iter();
        names
            .map(|e| e["subject"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(subjects(&["-l", "2"]), ["page-msg-5", "page-msg-4"]);
    assert_eq!(
        subjects(&["-l", "2", "--page", "2"]),
        ["page-msg-3", "page-msg-2"]
    );
    assert_eq!(subjects(&["-l", "2", "--page", "3"]), ["page-msg-1"]);
    assert!(subjects(&["-l", "2", "--page", "4"]).is_empty());
    assert_eq!(
        subjects(&["-l", "3", "--offset", "1"]),
        ["page-msg-4", "page-msg-3", "page-msg-2"]
    );
}
