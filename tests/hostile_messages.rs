//! `mailer read --file` of messages built to hurt a parser: thousands of nested parts,
//! hundreds of thousands of headers, a line of a hundred megabytes, a file too large to
//! be a message. Each ends quickly with bounded memory.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;

use common::Setup;

fn read_file(setup: &Setup, name: &str, bytes: &[u8]) -> common::Run {
    let path = setup.write(name, bytes);
    setup
        .mailer(&["read", "--file", path.to_str().unwrap()])
        .run()
}

#[test]
fn deep_nesting_and_many_headers_are_read_in_bounded_memory() {
    let setup = Setup::new("");
    let mut deep = String::from("From: a@example.test\r\nSubject: deep\r\n");
    deep.push_str("Content-Type: multipart/mixed; boundary=b0\r\n\r\n");
    for i in 0..5000 {
        deep.push_str(&format!(
            "--b{i}\r\nContent-Type: multipart/mixed; boundary=b{}\r\n\r\n",
            i + 1
        ));
    }
    deep.push_str("--b5000\r\nContent-Type: text/plain\r\n\r\nthe innermost part\r\n");
    let run = read_file(&setup, "deep.eml", deep.as_bytes());
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert!(run.stdout().contains("Subject: deep"), "{}", run.stdout());

    let mut many = String::from("From: a@example.test\r\n");
    for i in 0..200_000 {
        many.push_str(&format!("X-Header-{i}: value\r\n"));
    }
    many.push_str("Subject: many headers\r\n\r\nbody\r\n");
    let run = read_file(&setup, "many.eml", many.as_bytes());
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert!(run.stdout().contains("many headers"), "{}", run.stdout());
    let rss = common::rusage::max_child_rss_mib();
    assert!(rss < 200, "mailer grew to {rss} MiB");
}

#[test]
fn a_hundred_megabyte_line_is_read_and_a_larger_than_message_file_refused() {
    let setup = Setup::new("");
    let path = setup.path("long.eml");
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all(b"From: a@example.test\r\nSubject: long line\r\n\r\n")
        .unwrap();
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..100 {
        file.write_all(&chunk).unwrap();
    }
    file.write_all(b"\r\n").unwrap();
    drop(file);
    let run = setup
        .mailer(&["read", "--file", path.to_str().unwrap()])
        .run();
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let rss = common::rusage::max_child_rss_mib();
    assert!(rss < 600, "mailer grew to {rss} MiB for a 100 MB file");

    let huge = setup.path("huge.eml");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(300 << 20)
        .unwrap();
    let err = setup
        .mailer(&["read", "--file", huge.to_str().unwrap()])
        .fails_with(65);
    assert!(err.contains("larger than 256 MiB"), "{err}");
}

#[test]
fn control_characters_in_headers_names_and_bodies_are_shown_escaped() {
    let setup = Setup::new("");
    let message = concat!(
        "From: =?utf-8?q?Eve=1B=5B2J?= <eve@example.test>\r\n",
        "Subject: =?utf-8?q?title=1B=5D0=3Bpwned=07?=\r\n",
        "MIME-Version: 1.0\r\n",
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n",
        "--b\r\nContent-Type: text/plain\r\n\r\nbody \x1b[31mred\r\n",
        "--b\r\nContent-Type: application/octet-stream\r\n",
        "Content-Disposition: attachment; filename*=utf-8''a%1B%5B2Jb%0D%0Ac%00.txt\r\n\r\nx\r\n",
        "--b--\r\n"
    );
    let run = read_file(&setup, "evil.eml", message.as_bytes());
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let out = run.stdout();
    let raw: Vec<char> = out
        .chars()
        .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
        .collect();
    assert!(raw.is_empty(), "raw control characters {raw:?} in {out}");
    assert!(out.contains("title\\u{1b}]0;pwned\\u{7}"), "{out}");
    assert!(out.contains("body \\u{1b}[31mred"), "{out}");
    assert!(out.contains("a\\u{1b}[2Jb"), "{out}");
}

/// A second From: hidden under the first (a phishing trick) is shown first, with a
/// warning; so is a second Subject.
#[test]
fn a_repeated_from_shows_the_first_with_a_warning() {
    let setup = Setup::new("");
    let msg = b"From: <any@attack.example>\r\nFrom: <admin@legitimate.example>\r\nSubject: pay now\r\n\r\nx\r\n";
    let run = read_file(&setup, "phish.eml", msg);
    run.ok();
    let out = run.stdout();
    assert!(out.contains("From:    any@attack.example"), "{out}");
    assert!(!out.contains("legitimate"), "{out}");
    assert!(
        out.contains("warning: the message has more than one From: header; the first is shown"),
        "{out}"
    );
}
