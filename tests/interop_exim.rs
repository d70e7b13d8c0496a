//! `mailer send` against a second real SMTP server, Exim 4.96: the login in the same
//! write as the transaction where Exim offers PIPELINING (its round trips counted), a
//! refused login told as such, STARTTLS, and a port that offers neither PIPELINING nor
//! CHUNKING, where mailer goes one command at a time and sends the message after
//! DATA's 354.

#![allow(clippy::unwrap_used)]

mod common;

use common::exim::{Exim, exim};
use common::roundtrips::RoundTrips;
use common::{Account, Servers};

fn send(subject: &str) -> Vec<&str> {
    vec![
        "send",
        "--to",
        "bob@example.test",
        "-s",
        subject,
        "--body",
        "to exim",
    ]
}

/// alice on Exim's port `key`, through a proxy that counts round trips.
fn counted(exim: &Exim, key: &str) -> (RoundTrips, common::Setup) {
    let proxy = RoundTrips::to(exim.port(key));
    let setup = Account::new("alice")
        .smtp(exim, key)
        .server_key("port", proxy.port())
        .build();
    (proxy, setup)
}

#[test]
fn a_message_leaves_with_the_login_in_one_round_trip() {
    let exim = exim();
    let (proxy, setup) = counted(exim, "SUBMISSIONS_PORT");
    setup.mailer(&send("exim-pipelined-token")).ok();
    // The TLS handshake's two, EHLO, the login with MAIL FROM, RCPT TO and BDAT.
    assert_eq!(proxy.of_connections(1)[0], 4);
    assert_eq!(exim.queued_containing("exim-pipelined-token"), 1);
}

#[test]
fn a_wrong_password_is_told_as_the_login_and_nothing_is_queued() {
    let exim = exim();
    let setup = Account::new("alice")
        .password_command("echo wr0ng")
        .smtp(exim, "SUBMISSIONS_PORT")
        .build();
    let err = setup.mailer(&send("exim-refused-token")).fails_with(77);
    assert!(err.contains("refused the login"), "{err}");
    assert!(err.contains("535 Incorrect authentication data"), "{err}");
    assert!(!err.contains("wr0ng"), "{err}");
    assert_eq!(exim.queued_containing("exim-refused-token"), 0);
    assert!(setup.mailer(&["queue", "list"]).run().stdout().is_empty());
}

#[test]
fn starttls_then_the_login_with_the_message() {
    let exim = exim();
    let setup = Account::new("alice")
        .smtp(exim, "SUBMISSION_PORT")
        .security("starttls")
        .build();
    setup.mailer(&send("exim-starttls-token")).ok();
    assert_eq!(exim.queued_containing("exim-starttls-token"), 1);
}

/// Neither PIPELINING nor CHUNKING offered: AUTH, MAIL FROM, RCPT TO and DATA each
/// wait for their reply, and the message follows DATA's 354.
#[test]
fn without_pipelining_or_chunking_each_command_waits_and_the_message_arrives() {
    let exim = exim();
    let (proxy, setup) = counted(exim, "BARE_PORT");
    let run = setup
        .mailer(&[
            "-vv",
            "send",
            "--to",
            "bob@example.test",
            "--to",
            "carol@example.test",
            "-s",
            "exim-bare-token",
            "--body",
            "one at a time",
        ])
        .run();
    run.ok();
    let log = run.stderr();
    assert!(
        !log.contains("PIPELINING") && !log.contains("CHUNKING"),
        "{log}"
    );
    assert!(
        log.contains("smtp > DATA") && log.contains("smtp < 354"),
        "{log}"
    );
    // The handshake's two, EHLO, AUTH, MAIL FROM, two RCPT TO, DATA, the message.
    assert_eq!(proxy.of_connections(1)[0], 9);
    assert_eq!(exim.queued_containing("exim-bare-token"), 1);
}
