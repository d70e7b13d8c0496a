//! `mailer fetch` over POP3 against the harness's real Dovecot (POP3S, STLS, plain):
//! byte-identical, incremental by UIDL, and deleting only what is durably stored.

#![allow(clippy::unwrap_used)]

mod common;

use common::fault::cut_proxy;
use common::roundtrips::RoundTrips;
use common::{Account, Mailer, message_files, stack};

fn json(mailer: Mailer) -> Vec<serde_json::Value> {
    let run = mailer.run();
    run.ok();
    serde_json::from_str::<serde_json::Value>(&run.stdout())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout()))
        .as_array()
        .expect("an array")
        .clone()
}

#[test]
fn pop3s_fetch_is_byte_identical_and_incremental() {
    let stack = stack();
    stack.seed("alice", 25, "INBOX");
    let proxy = RoundTrips::to(stack.port("POP3S_PORT"));
    let setup = Account::new("alice")
        .maildir()
        .pop3(stack, "POP3S_PORT")
        .server_key("port", proxy.port())
        .build();
    let first = json(setup.mailer(&["fetch", "--inbox", "--json"]));
    assert_eq!(first.len(), 25);
    // Round trips, counted exactly: the TLS handshake's two (the greeting answers the
    // second), CAPA, the login with LIST and UIDL, and the 25 RETRs in one write
    // (Dovecot offers PIPELINING); QUIT is not waited for when nothing is deleted.
    assert_eq!(proxy.of_connections(1)[0], 5);
    assert!(
        first
            .iter()
            .all(|m| !m["uidl"].as_str().unwrap().is_empty())
    );
    assert_eq!(
        message_files(&setup.path("Mail")),
        stack.server_messages("alice", "INBOX")
    );
    assert!(json(setup.mailer(&["fetch", "--inbox", "--json"])).is_empty());
    stack.seed("alice", 2, "INBOX");
    assert_eq!(json(setup.mailer(&["fetch", "--inbox", "--json"])).len(), 2);
    assert_eq!(message_files(&setup.path("Mail")).len(), 27);
    // The server keeps everything by default.
    assert_eq!(stack.server_messages("alice", "INBOX").len(), 27);

    let listed = json(setup.mailer(&["list", "--limit", "3", "--json"]));
    assert_eq!(listed.len(), 3);

    // Round trips of `list --limit 5`, counted exactly by a proxy: the TLS handshake's
    // two (the greeting answers the second), CAPA, AUTH PLAIN with LIST and UIDL, the
    // five TOPs together (Dovecot offers PIPELINING); QUIT is not waited for.
    let proxy = RoundTrips::to(stack.port("POP3S_PORT"));
    let counted = Account::new("alice")
        .pop3(stack, "POP3S_PORT")
        .server_key("port", proxy.port())
        .build();
    let listed = json(counted.mailer(&["list", "--limit", "5", "--json"]));
    assert_eq!(listed.len(), 5);
    assert!(listed[0]["uidl"].is_string(), "{listed:?}");
    assert_eq!(proxy.of_connections(1)[0], 5);
}

#[test]
fn stls_round_trips_lines_that_start_with_a_dot() {
    let stack = stack();
    let dotted: &[u8] = b"Message-ID: <dots@example.test>\r\nSubject: dots\r\n\r\n.hidden\r\n..two\r\n.\r\n. space\r\nend\r\n";
    stack.deliver("bob", "INBOX", &[dotted]);
    let setup = Account::new("bob")
        .maildir()
        .pop3(stack, "POP3_PORT")
        .security("starttls")
        .build();
    let got = json(setup.mailer(&["fetch", "--inbox", "--json"]));
    assert_eq!(got.len(), 1);
    let local = message_files(&setup.path("Mail"));
    assert_eq!(local, stack.server_messages("bob", "INBOX"));
    assert!(local[0].ends_with(b"\n\n.hidden\n..two\n.\n. space\nend\n"));
}

#[test]
fn delete_removes_exactly_what_is_stored_and_a_cut_before_quit_removes_nothing() {
    let stack = stack();
    stack.seed("carol", 5, "INBOX");

    // --limit 2 stores the newest two; only those two are deleted.
    let proxy = RoundTrips::to(stack.port("POP3S_PORT"));
    let direct = Account::new("carol")
        .maildir()
        .pop3(stack, "POP3S_PORT")
        .server_key("port", proxy.port())
        .build();
    let first = json(direct.mailer(&["fetch", "--inbox", "--limit", "2", "--delete", "--json"]));
    assert_eq!(first.len(), 2);
    assert_eq!(stack.server_messages("carol", "INBOX").len(), 3);
    // The TLS handshake's two, CAPA, the login with LIST and UIDL, the RETRs, and the
    // DELEs in one write once both messages are durable; the QUIT that deletes them is
    // the last flight, which the count leaves out.
    assert_eq!(proxy.of_connections(1)[0], 6);

    // Two more arrive; this run is cut when it sends QUIT, after DELE: the server must
    // keep all five, and nothing is stored twice.
    stack.seed("carol", 2, "INBOX");
    let port = cut_proxy(stack.port("POP3_PORT"), b"QUIT");
    // Same Maildir and state as the direct account, through the proxy.
    let cut = Account::new("carol")
        .set("maildir", direct.path("Mail"))
        .pop3(stack, port)
        .security("none")
        .server_key("allow_insecure_auth", true)
        .build();
    let run = cut
        .mailer(&["fetch", "--inbox", "--delete"])
        .env("XDG_STATE_HOME", direct.path("state"))
        .run();
    let err = run.fails_with(75);
    assert!(
        err.contains("QUIT failed") && err.contains("every one is stored"),
        "{err}"
    );
    assert_eq!(stack.server_messages("carol", "INBOX").len(), 5);
    // Stored durably before the cut: the three older ones --limit left, and the two new.
    assert_eq!(message_files(&direct.path("Mail")).len(), 7);

    // A clean rerun stores nothing new and now deletes them.
    let again = json(direct.mailer(&["fetch", "--inbox", "--delete", "--json"]));
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(stack.server_messages("carol", "INBOX").len(), 0);
    // Nothing to retrieve: the five DELEs leave together, then QUIT.
    assert_eq!(proxy.of_connections(2)[1], 5);
    assert_eq!(message_files(&direct.path("Mail")).len(), 7);
}

#[test]
fn wrong_password_exits_77_and_plain_text_login_needs_consent() {
    let stack = stack();
    let setup = Account::new("alice")
        .password_command("echo wrong")
        .maildir()
        .pop3(stack, "POP3S_PORT")
        .build();
    let err = setup.mailer(&["fetch", "--inbox"]).fails_with(77);
    assert!(
        err.contains("refused the login of user \"alice@example.test\""),
        "{err}"
    );

    // Without allow_insecure_auth.
    let plain = Account::new("alice")
        .maildir()
        .pop3(stack, "POP3_PORT")
        .security("none")
        .build();
    let err = plain.mailer(&["fetch", "--inbox"]).fails_with(78);
    assert!(
        err.contains("not sending a password over an unencrypted connection"),
        "{err}"
    );
}
