//! Servers that send what no real server would: lines without an end, replies nested
//! thousands of levels deep. mailer gives up at its limits with exit 69 and one line
//! naming the server and the limit, and its memory stays bounded.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use common::Account;
use common::fault::{Step, serve};

/// What the flood server answers to a line the client sends.
enum Answer {
    /// Send this and go on reading.
    Say(&'static [u8]),
    /// Send this, then the byte `fill` forever, without a line end.
    Flood(&'static [u8], u8),
}

/// A server that greets with `greeting` (which may itself flood) and answers each line
/// with `reply`; a flood goes on until mailer hangs up.
fn flood_server(greeting: Answer, reply: impl Fn(&str) -> Answer + Send + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        let mut answer = |r: Answer| -> bool {
            match r {
                Answer::Say(bytes) => writer.write_all(bytes).is_ok(),
                Answer::Flood(head, fill) => {
                    let chunk = vec![fill; 64 << 10];
                    let _ = writer.write_all(head);
                    while writer.write_all(&chunk).is_ok() {}
                    false
                }
            }
        };
        if !answer(greeting) {
            return;
        }
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            if !answer(reply(&line)) {
                return;
            }
            line.clear();
        }
    });
    port
}

fn assert_gives_up(run: &common::Run, needle: &str) {
    let err = run.fails_with(69);
    assert!(err.contains(needle), "{err}");
    assert!(err.contains("giving up"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let rss = common::rusage::max_child_rss_mib();
    assert!(rss < 200, "mailer grew to {rss} MiB");
}

fn pop3_reply(line: &str) -> Answer {
    match line.split_whitespace().next().unwrap_or("") {
        "CAPA" => Answer::Say(b"+OK\r\nUIDL\r\nUSER\r\n.\r\n"),
        "LIST" => Answer::Say(b"+OK\r\n1 100\r\n.\r\n"),
        "UIDL" => Answer::Say(b"+OK\r\n1 u1\r\n.\r\n"),
        "RETR" => Answer::Flood(b"+OK\r\nSubject: endless\r\n\r\n", b'a'),
        _ => Answer::Say(b"+OK\r\n"),
    }
}

#[test]
fn a_pop3_message_line_without_an_end_stops_at_the_line_limit() {
    let port = flood_server(Answer::Say(b"+OK ready\r\n"), pop3_reply);
    let run = Account::fake("pop3", port)
        .build()
        .mailer(&["fetch", "--inbox"])
        .run();
    assert_gives_up(
        &run,
        &format!("127.0.0.1:{port}: RETR: the server sent a line longer than 16 MiB"),
    );
}

#[test]
fn a_pop3_greeting_without_an_end_stops_at_the_status_limit() {
    let port = flood_server(Answer::Flood(b"+OK ", b'x'), pop3_reply);
    let run = Account::fake("pop3", port)
        .build()
        .mailer(&["fetch", "--inbox"])
        .run();
    assert_gives_up(&run, "greeting: the server sent a line longer than 64 KiB");
}

#[test]
fn an_smtp_greeting_without_an_end_stops_at_the_line_limit() {
    let port = flood_server(Answer::Flood(b"220 ", b'x'), |_| Answer::Say(b"250 ok\r\n"));
    let setup = Account::fake("smtp", port).build();
    let run = setup
        .mailer(&[
            "send",
            "--to",
            "bob@example.test",
            "--body",
            "hi",
            "--no-queue",
        ])
        .run();
    assert_gives_up(
        &run,
        &format!("127.0.0.1:{port}: greeting: the server sent a line longer than 64 KiB"),
    );
}

#[test]
fn an_imap_line_without_an_end_stops_at_the_line_limit() {
    let port = flood_server(Answer::Flood(b"* OK ", b'x'), |_| Answer::Say(b""));
    let run = Account::fake("imap", port).build().mailer(&["list"]).run();
    assert_gives_up(&run, "greeting: the server sent a line longer than 1 MiB");
}

#[test]
fn a_bodystructure_nested_two_thousand_deep_is_refused_not_a_crash() {
    let deep = format!(
        "* 1 FETCH (UID 1 FLAGS () RFC822.SIZE 10 BODYSTRUCTURE {}\"text\" \"plain\" NIL NIL NIL \"7bit\" 10 1{} BODY[HEADER] {{2}}\r\n\r\n)\r\n",
        "(".repeat(2000),
        ")".repeat(2000)
    );
    let deep: &'static [u8] = Box::leak(deep.into_bytes().into_boxed_slice());
    let port = serve(vec![
        Step::Send(b"* OK ready\r\n"),
        Step::Answer(b"", "OK LOGIN done"),
        Step::Answer(b"* CAPABILITY IMAP4rev1\r\n", "OK done"),
        Step::Answer(
            b"* 1 EXISTS\r\n* OK [UIDVALIDITY 5] ok\r\n* OK [UIDNEXT 2] ok\r\n",
            "OK [READ-ONLY] done",
        ),
        Step::Answer(deep, "OK done"),
    ]);
    let run = Account::fake("imap", port).build().mailer(&["list"]).run();
    assert_gives_up(
        &run,
        "FETCH: the server sent parentheses nested deeper than 100 levels",
    );
}

/// No raw control character reaches the terminal: ESC, BEL, CR, NUL are shown escaped.
fn assert_no_raw_controls(text: &str) {
    let raw: Vec<char> = text
        .chars()
        .filter(|c| c.is_control() && *c != '\n')
        .collect();
    assert!(raw.is_empty(), "raw control characters {raw:?} in {text:?}");
}

#[test]
fn escape_sequences_in_a_server_reply_are_shown_escaped() {
    let port = flood_server(Answer::Say(b"220 ready\r\n"), |line| {
        match line.split_whitespace().next().unwrap_or("") {
            "EHLO" => Answer::Say(b"250 ok\r\n"),
            "MAIL" => Answer::Say(b"550 \x1b[2J\x1b]0;pwned\x07 go away\r\n"),
            _ => Answer::Say(b"250 ok\r\n"),
        }
    });
    let setup = Account::fake("smtp", port).build();
    let run = setup
        .mailer(&["send", "--to", "bob@example.test", "--body", "hi"])
        .run();
    let err = run.fails_with(69);
    assert_no_raw_controls(&err);
    assert!(
        err.contains("\\u{1b}[2J\\u{1b}]0;pwned\\u{7} go away"),
        "{err}"
    );
}

#[test]
fn escape_sequences_from_a_failing_password_command_are_shown_escaped() {
    let port = flood_server(Answer::Say(b"* OK ready\r\n"), |_| Answer::Say(b""));
    let setup = Account::new("x")
        .password_command("printf '\\033[31mlocked\\033[0m\\r\\n' >&2; exit 1")
        .server("imap", "127.0.0.1", port)
        .security("none")
        .server_key("allow_insecure_auth", true)
        .build();
    let err = setup.mailer(&["list"]).fails_with(78);
    assert_no_raw_controls(&err);
    assert!(err.contains("\\u{1b}[31mlocked\\u{1b}[0m"), "{err}");
}

/// A server that offers no extension at all (no PIPELINING, CHUNKING, 8BITMIME or
/// AUTH): `send` still works, one command at a time, the message after DATA's 354. The
/// server records each command it got, in order.
#[test]
fn a_server_offering_no_extension_gets_one_command_at_a_time_and_the_message() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let in_data = Arc::new(AtomicBool::new(false));
    let heard = Arc::new(Mutex::new(Vec::<String>::new()));
    let (data, log) = (in_data.clone(), heard.clone());
    let port = flood_server(
        Answer::Say(b"220 plain.example ESMTP\r\n"),
        move |line: &str| {
            let line = line.trim_end();
            if data.load(Ordering::SeqCst) {
                if line == "." {
                    data.store(false, Ordering::SeqCst);
                    log.lock().unwrap().push(".".into());
                    return Answer::Say(b"250 queued\r\n");
                }
                return Answer::Say(b"");
            }
            log.lock()
                .unwrap()
                .push(line.split(':').next().unwrap_or("").to_string());
            match line.split_whitespace().next().unwrap_or("") {
                "EHLO" => Answer::Say(b"250 plain.example\r\n"),
                "DATA" => {
                    data.store(true, Ordering::SeqCst);
                    Answer::Say(b"354 go on\r\n")
                }
                "QUIT" => Answer::Say(b"221 bye\r\n"),
                _ => Answer::Say(b"250 ok\r\n"),
            }
        },
    );
    let setup = Account::fake("smtp", port).build();
    setup
        .mailer(&[
            "send",
            "--to",
            "bob@example.test",
            "-s",
            "plain",
            "--body",
            "hi",
            "--no-queue",
        ])
        .ok();
    // QUIT is not waited for: the server may read it after mailer has ended.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !heard.lock().unwrap().iter().any(|c| c == "QUIT") && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let heard = heard.lock().unwrap().clone();
    let commands: Vec<&str> = heard
        .iter()
        .map(|c| c.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(
        commands,
        ["EHLO", "MAIL", "RCPT", "DATA", ".", "QUIT"],
        "{heard:?}"
    );
}
