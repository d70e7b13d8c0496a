//! `mailer send` against the real Postfix + Dovecot of the harness: what arrives in the
//! recipient's Maildir is what the user sent.

#![allow(clippy::unwrap_used)]

mod common;

use common::roundtrips::RoundTrips;
use common::{Account, Setup, stack};
use mail_parser::{MessageParser, MimeHeaders};

/// A send whose content does not matter to the test.
const PLAIN_SEND: &[&str] = &[
    "send",
    "--to",
    "bob@example.test",
    "--subject",
    "x",
    "--body",
    "y",
];

fn parse(bytes: &[u8]) -> mail_parser::Message<'_> {
    MessageParser::default()
        .parse(bytes)
        .expect("the delivered file parses")
}

/// The text body as a reader shows it: line ends normalised.
fn text_of(msg: &mail_parser::Message<'_>) -> String {
    msg.body_text(0).expect("a text body").replace("\r\n", "\n")
}

fn header_section(bytes: &[u8]) -> String {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| bytes.windows(2).position(|w| w == b"\n\n"))
        .unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

#[test]
fn starttls_delivers_cjk_subject_body_html_and_attachments_intact() {
    let stack = stack();
    let setup = Account::new("alice")
        .name("Alice 测试")
        .smtp(stack, "SUBMISSION_PORT")
        .security("starttls")
        .build();
    let body =
        "你好，鲍勃：\n\n本周进展见附件。\n.a line starting with a dot\nLast line — ünïcödé ✓\n";
    setup.write("report.md", body.as_bytes());
    let html = "<p>本周<b>进展</b></p>";
    setup.write("report.html", html.as_bytes());
    let pdf: Vec<u8> = (0..70_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
    setup.write("季度报告 Q3.pdf", &pdf);
    let text_attachment = "a,b\n1,2\n".as_bytes();
    setup.write("data.csv", text_attachment);

    let id = setup
        .mailer(&[
            "send",
            "--to",
            "鲍勃 <bob@example.test>",
            "--subject",
            "周报：第 47 周 (weekly report)",
            "--body-file",
            "report.md",
            "--html-file",
            "report.html",
            "--attach",
            "季度报告 Q3.pdf",
            "--attach",
            "data.csv",
            "--header",
            "X-Project: 北极星",
        ])
        .ok();
    assert!(
        id.starts_with('<') && id.ends_with("@example.test>"),
        "{id}"
    );

    let bytes = stack.wait_for_message("bob", &id);
    let msg = parse(&bytes);
    assert_eq!(msg.subject(), Some("周报：第 47 周 (weekly report)"));
    let from = msg.from().and_then(|f| f.first()).expect("From");
    assert_eq!(from.name(), Some("Alice 测试"));
    assert_eq!(from.address(), Some("alice@example.test"));
    assert_eq!(
        msg.to().and_then(|t| t.first()).and_then(|a| a.name()),
        Some("鲍勃")
    );
    assert_eq!(text_of(&msg), body);
    assert_eq!(msg.body_html(0).as_deref(), Some(html));
    let project = msg.header_as("X-Project", mail_parser::HeaderForm::Text);
    assert_eq!(project.first().and_then(|h| h.as_text()), Some("北极星"));

    let attachments: Vec<_> = msg.attachments().collect();
    assert_eq!(attachments.len(), 2);
    assert_eq!(attachments[0].attachment_name(), Some("季度报告 Q3.pdf"));
    assert_eq!(attachments[0].contents(), &pdf[..]);
    assert_eq!(
        attachments[0].content_type().map(|c| c.ctype()),
        Some("application")
    );
    assert_eq!(attachments[1].attachment_name(), Some("data.csv"));
    assert_eq!(attachments[1].contents(), text_attachment);
}

#[test]
fn implicit_tls_delivers_a_body_read_from_stdin() {
    let stack = stack();
    let setup = Account::new("alice")
        .smtp(stack, "SUBMISSIONS_PORT")
        .build();
    let id = setup
        .mailer(&[
            "send",
            "--to",
            "bob@example.test",
            "--subject",
            "disk alert",
        ])
        .stdin("disk is 91% full\n")
        .ok();
    let bytes = stack.wait_for_message("bob", &id);
    let msg = parse(&bytes);
    assert_eq!(msg.subject(), Some("disk alert"));
    assert_eq!(text_of(&msg), "disk is 91% full\n");
}

#[test]
fn bcc_recipient_gets_the_message_but_no_header_names_them() {
    let stack = stack();
    let setup = Account::new("alice")
        .smtp(stack, "SUBMISSION_PORT")
        .security("starttls")
        .build();
    let id = setup
        .mailer(&[
            "send",
            "--to",
            "bob@example.test",
            "--bcc",
            "carol@example.test",
            "--subject",
            "bcc check",
            "--body",
            "hello",
        ])
        .ok();
    let to_bob = stack.wait_for_message("bob", &id);
    let to_carol = stack.wait_for_message("carol", &id);
    for copy in [&to_bob, &to_carol] {
        let headers = header_section(copy).to_ascii_lowercase();
        assert!(!headers.contains("\nbcc:"), "{headers}");
        // Postfix records the envelope recipient in Received/Delivered-To of carol's copy
        // only; the headers mailer wrote must not name her.
        let written = &headers[headers.find("\nfrom: ").expect("From header")..];
        assert!(!written.contains("carol"), "{written}");
    }
}

#[test]
fn wrong_password_exits_77_without_showing_it() {
    let stack = stack();
    let setup = Account::new("alice")
        .password_command("echo wr0ng-s3cret")
        .smtp(stack, "SUBMISSION_PORT")
        .security("starttls")
        .build();
    let run = setup
        .mailer(&[
            "-vvv",
            "send",
            "--to",
            "bob@example.test",
            "--subject",
            "x",
            "--body",
            "y",
        ])
        .run();
    let err = run.fails_with(77);
    assert!(err.contains("refused the login"), "{err}");
    assert!(err.contains("535"), "{err}");
    assert!(!err.contains("wr0ng-s3cret") && !run.stdout().contains("wr0ng-s3cret"));
}

#[test]
fn recipient_outside_the_domain_is_refused_with_the_servers_reply() {
    let stack = stack();
    let setup = Account::new("alice")
        .smtp(stack, "SUBMISSION_PORT")
        .security("starttls")
        .build();
    let err = setup
        .mailer(&[
            "send",
            "--to",
            "bob@example.test",
            "--to",
            "someone@elsewhere.invalid",
            "--subject",
            "relay test",
            "--body",
            "should go nowhere",
        ])
        .fails_with(65);
    assert!(err.contains("RCPT TO <someone@elsewhere.invalid>"), "{err}");
    assert!(
        err.contains("554") && err.contains("Relay access denied"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // The transaction was reset: bob did not get a copy either.
    assert!(!stack.has_message_containing("bob", "should go nowhere"));
}

#[test]
fn raw_message_goes_to_its_header_recipients_without_bcc() {
    let stack = stack();
    let setup = Account::new("alice")
        .smtp(stack, "SUBMISSIONS_PORT")
        .build();
    let raw = "From: Alice <alice@example.test>\nTo: bob@example.test\nBcc: carol@example.test\nSubject: =?utf-8?b?5pel5oql?=\nMessage-ID: <raw-1@example.test>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n原样发送\n..two dots\n";
    setup.write("message.eml", raw.as_bytes());
    let id = setup.mailer(&["send", "--raw", "message.eml"]).ok();
    assert_eq!(id, "<raw-1@example.test>");
    let to_bob = stack.wait_for_message("bob", &id);
    let to_carol = stack.wait_for_message("carol", &id);
    let msg = parse(&to_bob);
    assert_eq!(msg.subject(), Some("日报"));
    assert_eq!(text_of(&msg), "原样发送\n..two dots\n");
    assert!(
        !header_section(&to_carol)
            .to_ascii_lowercase()
            .contains("\nbcc:")
    );
}

#[test]
fn security_none_never_reads_or_sends_the_password() {
    let stack = stack();
    let setup = Setup::empty();
    let marker = setup.path("password-was-read");
    setup.configure(
        &Account::new("alice")
            .password_command(&format!("touch '{}'; echo alicepw", marker.display()))
            .server("smtp", "127.0.0.1", stack.port("SMTP_PORT"))
            .security("none"),
    );
    let id = setup
        .mailer(&[
            "send",
            "--to",
            "bob@example.test",
            "--subject",
            "plain",
            "--body",
            "x",
        ])
        .ok();
    stack.wait_for_message("bob", &id);
    assert!(
        !marker.exists(),
        "the password was read for an unencrypted session"
    );
}

#[test]
fn untrusted_certificate_is_refused() {
    let stack = stack();
    let setup = Account::new("alice")
        .smtp(stack, "SUBMISSIONS_PORT")
        .server_unset("ca_file")
        .build();
    let err = setup.mailer(PLAIN_SEND).fails_with(69);
    assert!(err.contains("TLS with localhost:"), "{err}");
    assert!(err.to_lowercase().contains("certificate"), "{err}");
}

/// The system's roots, as OpenSSL is told where they are (SSL_CERT_DIR, SSL_CERT_FILE):
/// a server whose CA is among them is trusted with no ca_file, whether they come as a
/// hashed directory (the CA found by its subject's hash, the bundle not read) or as a
/// bundle alone; a CA in neither is refused.
#[test]
fn system_roots_come_from_a_hashed_directory_or_a_bundle() {
    let stack = stack();
    let pem = std::fs::read(stack.ca_file()).unwrap();
    let hash = openssl::x509::X509::from_pem(&pem)
        .unwrap()
        .subject_name_hash();
    let roots = tempfile::tempdir().unwrap();
    let dir = |name: &str| {
        let path = roots.path().join(name);
        std::fs::create_dir(&path).unwrap();
        path
    };
    let (hashed, plain, empty) = (dir("hashed"), dir("plain"), dir("empty"));
    std::fs::write(hashed.join(format!("{hash:08x}.0")), &pem).unwrap();
    std::fs::write(plain.join("bundle.pem"), &pem).unwrap();
    let missing = roots.path().join("missing.pem");
    let setup = Account::new("alice")
        .smtp(stack, "SUBMISSIONS_PORT")
        .server_unset("ca_file")
        .build();
    let send = |cert_dir: &std::path::Path, cert_file: &std::path::Path| {
        setup
            .mailer(PLAIN_SEND)
            .env("SSL_CERT_DIR", cert_dir)
            .env("SSL_CERT_FILE", cert_file)
    };
    send(&hashed, &missing).ok();
    send(&empty, &plain.join("bundle.pem")).ok();
    let err = send(&empty, &missing).fails_with(69);
    assert!(err.contains("certificate verify failed"), "{err}");
}

#[test]
fn starttls_account_on_an_implicit_tls_port_fails_cleanly() {
    let stack = stack();
    let setup = Account::new("alice")
        .smtp(stack, "SUBMISSIONS_PORT")
        .security("starttls")
        .server_key("timeout_secs", 2)
        .build();
    let err = setup.mailer(PLAIN_SEND).fails_with(75);
    assert!(
        err.contains("no reply within 2 s") && err.contains("security = \"tls\""),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    // And the other way round: an implicit-TLS account on a STARTTLS port.
    let setup = Account::new("alice")
        .smtp(stack, "SUBMISSION_PORT")
        .security("tls")
        .build();
    let err = setup.mailer(PLAIN_SEND).fails_with(69);
    assert!(err.contains("security = \"starttls\""), "{err}");
}

/// Round trips of one `send`, counted exactly by a proxy: the login and the whole
/// transaction (AUTH PLAIN, MAIL FROM, RCPT TO and the message as `BDAT n LAST`,
/// Postfix offering PIPELINING and CHUNKING) leave in one write after EHLO, and QUIT is
/// not waited for. With two recipients the message waits for both to be accepted: one
/// more.
#[test]
fn a_message_leaves_with_the_login_in_one_round_trip() {
    let stack = stack();
    // TLS: its two flights (the greeting answers the second), EHLO, the login with the
    // transaction. STARTTLS: EHLO, STARTTLS, the handshake's two (EHLO again goes with
    // the second), the login with the transaction.
    for (port, security, to, want) in [
        ("SUBMISSIONS_PORT", "tls", &["bob@example.test"][..], 4),
        ("SUBMISSION_PORT", "starttls", &["bob@example.test"][..], 5),
        (
            "SUBMISSIONS_PORT",
            "tls",
            &["bob@example.test", "carol@example.test"][..],
            5,
        ),
    ] {
        let proxy = RoundTrips::to(stack.port(port));
        let setup = Account::new("alice")
            .smtp(stack, port)
            .security(security)
            .server_key("port", proxy.port())
            .build();
        let mut args = vec!["send", "--subject", "counted", "--body", "one write"];
        for rcpt in to {
            args.extend(["--to", rcpt]);
        }
        let id = setup.mailer(&args).ok();
        assert_eq!(proxy.of_connections(1)[0], want, "{security} to {to:?}");
        for rcpt in to {
            let user = rcpt.split('@').next().unwrap();
            let bytes = stack.wait_for_message(user, &id);
            assert_eq!(parse(&bytes).subject(), Some("counted"));
        }
    }
}

#[test]
fn a_refused_sole_recipient_is_named_though_its_message_left_in_the_same_write() {
    let stack = stack();
    let setup = Account::new("alice")
        .smtp(stack, "SUBMISSIONS_PORT")
        .build();
    let err = setup
        .mailer(&[
            "send",
            "--to",
            "someone@elsewhere.invalid",
            "--body",
            "should go nowhere",
        ])
        .fails_with(65);
    assert!(err.contains("RCPT TO <someone@elsewhere.invalid>"), "{err}");
    assert!(err.contains("Relay access denied"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// `queue flush` of eleven messages: after the login, the first ten leave back to back
/// in one write (each its MAIL FROM, RCPT TO and BDAT) and their replies come back
/// together; the eleventh is the next batch. One of the ten is refused (a recipient
/// outside the domain): it stays queued with the server's reason, and the nine around
/// it are sent and gone from the outbox.
#[test]
fn a_queue_flush_sends_ten_messages_in_one_round_trip() {
    let stack = stack();
    let setup = Account::new("alice")
        .smtp(stack, common::closed_port())
        .security("tls")
        .build();
    let mut ids = Vec::new();
    for i in 0..11 {
        let subject = format!("flush-batch-{i}-token");
        let to = match i {
            4 => "someone@elsewhere.invalid",
            _ => "bob@example.test",
        };
        let send = ["send", "--to", to, "-s", &subject, "--body", "later"];
        setup.mailer(&send).fails_with(75);
        if i != 4 {
            ids.push(subject);
        }
    }
    let proxy = RoundTrips::to(stack.port("SUBMISSIONS_PORT"));
    setup.configure(
        &Account::new("alice")
            .smtp(stack, proxy.port())
            .security("tls"),
    );
    let flushed = setup.mailer(&["queue", "flush", "--json"]).run().stdout();
    assert!(
        flushed.contains("\"sent\":10") && flushed.contains("\"left\":1"),
        "{flushed}"
    );
    // The TLS handshake's two, EHLO, AUTH, a batch of ten, a batch of one.
    assert_eq!(proxy.of_connections(1)[0], 4 + 2);
    let left = setup.mailer(&["queue", "list"]).run().stdout();
    assert!(
        left.contains("someone@elsewhere.invalid") && left.lines().count() <= 3,
        "{left}"
    );
    for subject in &ids {
        stack.wait_for_count("bob", subject, 1);
        assert_eq!(stack.count_containing("bob", subject), 1, "{subject}");
    }
}
