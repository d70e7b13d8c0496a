//! Logging in the way each protocol wants: a password that is not ASCII over IMAP and
//! POP3 against the real Dovecot, a refused SMTP login that still ends with QUIT, and
//! what becomes of the message when a login sent with it is refused, put off or
//! answered with a challenge (scripted servers).

#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use common::{Account, stack};

#[test]
fn a_password_that_is_not_ascii_logs_in_over_imap_and_pop3() {
    let stack = stack();
    let imap = Account::new("dora")
        .password_command("printf 'd\\303\\266rapw'")
        .maildir()
        .imap(stack, "IMAPS_PORT")
        .build();
    imap.mailer(&["list"]).ok();
    // Now the server's capabilities are known; the greeting is still waited for, since
    // AUTHENTICATE PLAIN (not LOGIN) would take it for the go-ahead.
    imap.mailer(&["fetch", "--inbox"]).ok();
    imap.mailer(&["list"]).ok();
    let pop3 = Account::new("dora")
        .password_command("printf 'd\\303\\266rapw'")
        .maildir()
        .pop3(stack, "POP3S_PORT")
        .build();
    pop3.mailer(&["list"]).ok();
}

/// A submission server that refuses every login and records what the client sent.
fn refusing_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    scripted_smtp(b"250-here\r\n250 AUTH PLAIN LOGIN\r\n", REFUSED, |_| {
        b"500 what\r\n"
    })
}

const REFUSED: &[u8] = b"535 5.7.8 Authentication failed\r\n";

/// A submission server (fault injection: no real one refuses a login and then takes the
/// message, or asks again for credentials it was given) whose EHLO reply is `ehlo`,
/// that answers every AUTH with `auth` and the other commands with `answer`; it reads a
/// BDAT's bytes and records the lines it was sent.
fn scripted_smtp(
    ehlo: &'static [u8],
    auth: &'static [u8],
    answer: fn(&str) -> &'static [u8],
) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let heard = Arc::new(Mutex::new(Vec::new()));
    let log = heard.clone();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        writer.write_all(b"220 ready\r\n").unwrap();
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            let verb = line.split_whitespace().next().unwrap_or("").to_string();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" => ehlo,
                "AUTH" => auth,
                "QUIT" => b"221 bye\r\n",
                other => answer(other),
            };
            if verb == "BDAT" {
                let n = line.split_whitespace().nth(1).unwrap().parse().unwrap();
                let mut data = vec![0; n];
                std::io::Read::read_exact(&mut reader, &mut data).unwrap();
            }
            log.lock().unwrap().push(line.trim_end().to_string());
            if writer.write_all(reply).is_err() {
                break;
            }
            line.clear();
        }
        log.lock().unwrap().push("(closed)".to_string());
    });
    (port, heard)
}

/// What `scripted_smtp` heard, each line's verb, once the client closed the connection.
fn verbs_heard(heard: &Mutex<Vec<String>>) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !heard.lock().unwrap().iter().any(|l| l == "(closed)") {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            heard.lock().unwrap()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let heard = heard.lock().unwrap();
    heard
        .iter()
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .collect()
}

/// An account that sends through the scripted server on `port` (no TLS there).
fn account_on(port: u16) -> common::Setup {
    Account::new("alice")
        .server("smtp", "127.0.0.1", port)
        .security("none")
        .server_key("allow_insecure_auth", true)
        .build()
}

/// What a pipelining server with CHUNKING and AUTH PLAIN offers.
const PIPELINING_EHLO: &[u8] = b"250-here\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 AUTH PLAIN\r\n";

/// A pipelining server: the login leaves with the message, and the server, refusing the
/// login, refuses the transaction too. The user is told of the login, exit 77.
#[test]
fn a_login_refused_with_the_message_is_told_as_the_login() {
    let (port, heard) = scripted_smtp(PIPELINING_EHLO, REFUSED, |_| {
        b"530 5.7.0 Authentication required\r\n"
    });
    let setup = account_on(port);
    let err = setup
        .mailer(&["send", "--to", "bob@example.test", "--body", "hi"])
        .fails_with(77);
    assert!(err.contains("535 5.7.8 Authentication failed"), "{err}");
    assert!(!err.contains("Authentication required"), "{err}");
    let verbs = verbs_heard(&heard);
    assert_eq!(
        verbs,
        ["EHLO", "AUTH", "MAIL", "RCPT", "BDAT", "QUIT", "(closed)"]
    );
    // Not queued: only a new password can make it leave, so the user sends it again.
    assert!(setup.mailer(&["queue", "list"]).run().stdout().is_empty());
}

/// A server that refused the login and took the message all the same delivered it: the
/// message is sent (not queued, so never sent twice), and the user is warned.
#[test]
fn a_message_taken_though_the_login_was_refused_is_sent_with_a_warning() {
    let (port, heard) = scripted_smtp(PIPELINING_EHLO, REFUSED, |_| b"250 ok\r\n");
    let setup = account_on(port);
    let run = setup
        .mailer(&["send", "--to", "bob@example.test", "--body", "hi"])
        .run();
    run.ok();
    let err = run.stderr();
    assert!(
        err.contains("refused the login") && err.contains("all the same"),
        "{err}"
    );
    assert!(setup.mailer(&["queue", "list"]).run().stdout().is_empty());
    assert_eq!(
        verbs_heard(&heard),
        ["EHLO", "AUTH", "MAIL", "RCPT", "BDAT", "QUIT", "(closed)"]
    );
}

#[test]
fn a_refused_smtp_login_ends_with_quit_and_a_closed_connection() {
    let (port, heard) = refusing_server();
    let setup = account_on(port);
    let err = setup
        .mailer(&["send", "--to", "bob@example.test", "--body", "hi"])
        .fails_with(77);
    assert!(err.contains("535 5.7.8 Authentication failed"), "{err}");
    assert_eq!(verbs_heard(&heard), ["EHLO", "AUTH", "QUIT", "(closed)"]);
}

/// An IMAP server that accepts any login and records every line the client sent.
fn recording_imap_server() -> (u16, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let heard = Arc::new(Mutex::new(Vec::new()));
    let log = heard.clone();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        writer.write_all(b"* OK ready\r\n").unwrap();
        let mut line = Vec::new();
        let mut tag = String::new();
        while reader.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
            log.lock().unwrap().push(line.clone());
            let text = String::from_utf8_lossy(&line).to_string();
            let mut words = text.split_whitespace();
            let first = words.next().unwrap_or("").to_string();
            let command = words.next().unwrap_or("").to_ascii_uppercase();
            let reply = match command.as_str() {
                "AUTHENTICATE" => {
                    tag = first;
                    "+ \r\n".to_string()
                }
                "" if !tag.is_empty() => format!("{tag} OK logged in\r\n"),
                "CAPABILITY" => format!("* CAPABILITY IMAP4rev1\r\n{first} OK done\r\n"),
                "EXAMINE" => format!(
                    "* 0 EXISTS\r\n* OK [UIDVALIDITY 1] ok\r\n{first} OK [READ-ONLY] done\r\n"
                ),
                _ => format!("{first} OK done\r\n"),
            };
            if command.is_empty() {
                tag.clear();
            }
            if writer.write_all(reply.as_bytes()).is_err() {
                break;
            }
            line.clear();
        }
    });
    (port, heard)
}

#[test]
fn a_password_that_is_not_ascii_goes_as_sasl_plain_never_as_raw_bytes() {
    let (port, heard) = recording_imap_server();
    let setup = Account::new("dora")
        .password_command("printf 'd\\303\\266rapw'")
        .server("imap", "127.0.0.1", port)
        .security("none")
        .server_key("allow_insecure_auth", true)
        .build();
    setup.mailer(&["list"]).ok();
    let heard = heard.lock().unwrap().clone();
    assert!(
        heard.iter().all(|l| l.is_ascii()),
        "8-bit bytes on the wire: {heard:?}"
    );
    assert!(
        String::from_utf8_lossy(&heard[0]).contains("AUTHENTICATE PLAIN"),
        "{heard:?}"
    );
    use base64::Engine;
    let response = base64::engine::general_purpose::STANDARD
        .decode(String::from_utf8_lossy(&heard[1]).trim())
        .unwrap();
    assert_eq!(response, "\0dora@example.test\0dörapw".as_bytes());
}

#[test]
fn a_pop3_server_that_lists_plain_but_refuses_it_gets_user_and_pass() {
    use common::fault::{Step, serve};
    let port = serve(vec![
        Step::Send(b"+OK ready\r\n"),
        Step::ReadLine,
        Step::Send(b"+OK\r\nSASL PLAIN\r\nUSER\r\nUIDL\r\n.\r\n"),
        Step::ReadLine,
        Step::Send(b"-ERR PLAIN is not enabled for this account\r\n"),
        Step::ReadLine,
        Step::Send(b"+OK\r\n"),
        Step::ReadLine,
        Step::Send(b"+OK logged in\r\n"),
        Step::ReadLine,
        Step::Send(b"+OK\r\n.\r\n"),
        Step::ReadLine,
        Step::Send(b"+OK\r\n.\r\n"),
        Step::ReadLine,
        Step::Send(b"+OK bye\r\n"),
    ]);
    let setup = Account::fake("pop3", port).build();
    setup.mailer(&["list"]).ok();
}

/// With two recipients the message waits for both: after a refused login it never goes.
#[test]
fn after_a_refused_login_a_message_for_two_never_goes() {
    let (port, heard) = scripted_smtp(PIPELINING_EHLO, REFUSED, |_| b"250 ok\r\n");
    let setup = account_on(port);
    let send = [
        "send",
        "--to",
        "bob@example.test",
        "--to",
        "carol@example.test",
        "--body",
        "hi",
    ];
    let err = setup.mailer(&send).fails_with(77);
    assert!(err.contains("535 5.7.8 Authentication failed"), "{err}");
    assert_eq!(
        verbs_heard(&heard),
        ["EHLO", "AUTH", "MAIL", "RCPT", "RCPT", "QUIT", "(closed)"]
    );
}

/// A login answered with a 4xx: the message is queued with the server's own words, as
/// it was when the login went on its own.
#[test]
fn a_login_put_off_with_a_4xx_queues_the_message_with_its_reason() {
    let later = b"454 4.7.0 Temporary authentication failure\r\n";
    let (port, heard) = scripted_smtp(PIPELINING_EHLO, later, |_| {
        b"530 5.7.0 Authentication required\r\n"
    });
    let setup = account_on(port);
    let err = setup
        .mailer(&["send", "--to", "bob@example.test", "--body", "hi"])
        .fails_with(75);
    assert!(
        err.contains("454 4.7.0 Temporary authentication failure"),
        "{err}"
    );
    assert!(err.contains("queued"), "{err}");
    assert_eq!(verbs_heard(&heard).last().unwrap(), "(closed)");
    let queued = setup.mailer(&["queue", "list"]).run().stdout();
    assert!(queued.contains("bob@example.test"), "{queued}");
}

/// A server that answers AUTH PLAIN's initial response with a challenge (334) took the
/// lines after it for the answer: the message is queued, to go in a later session whose
/// login goes on its own and answers the challenge.
#[test]
fn a_challenge_to_a_pipelined_login_queues_the_message() {
    let (port, _heard) = scripted_smtp(PIPELINING_EHLO, b"334 \r\n", |_| b"501 what\r\n");
    let setup = account_on(port);
    let err = setup
        .mailer(&["send", "--to", "bob@example.test", "--body", "hi"])
        .fails_with(75);
    assert!(err.contains("asked again for the credentials"), "{err}");
    let queued = setup.mailer(&["queue", "list"]).run().stdout();
    assert!(queued.contains("bob@example.test"), "{queued}");
}
