//! Logging in the way each protocol wants: a password that is not ASCII over IMAP and
//! POP3 against the real Dovecot, and a refused SMTP login that still ends with QUIT.

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
            let reply: &[u8] = match line.split_whitespace().next().unwrap_or("") {
                "EHLO" => b"250-here\r\n250 AUTH PLAIN LOGIN\r\n",
                "AUTH" => b"535 5.7.8 Authentication failed\r\n",
                "QUIT" => b"221 bye\r\n",
                _ => b"500 what\r\n",
            };
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

#[test]
fn a_refused_smtp_login_ends_with_quit_and_a_closed_connection() {
    let (port, heard) = refusing_server();
    let setup = Account::new("alice")
        .server("smtp", "127.0.0.1", port)
        .security("none")
        .server_key("allow_insecure_auth", true)
        .build();
    let err = setup
        .mailer(&["send", "--to", "bob@example.test", "--body", "hi"])
        .fails_with(77);
    assert!(err.contains("535 5.7.8 Authentication failed"), "{err}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !heard.lock().unwrap().iter().any(|l| l == "(closed)") {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            heard.lock().unwrap()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let heard = heard.lock().unwrap().clone();
    let commands: Vec<&str> = heard
        .iter()
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(commands, ["EHLO", "AUTH", "QUIT", "(closed)"], "{heard:?}");
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
