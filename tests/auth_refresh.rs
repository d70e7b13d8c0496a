//! A token the server refuses, with mailer's own sign-in: refreshed once and the command
//! retried, without a word to the user. Alone in its binary, because Dovecot slows down
//! every later login from the same address after a refused one.

#![allow(clippy::unwrap_used)]

mod common;

use common::oauth::auth_server;
use common::{Account, stack};

#[test]
fn a_refused_access_token_is_refreshed_once_and_the_command_retried() {
    let (stack, server) = (stack(), auth_server());
    let subject = format!("refresh-{}", std::process::id());
    stack.deliver(
        "carol",
        "INBOX",
        &[format!("Subject: {subject}\r\n\r\nhi\r\n").as_bytes()],
    );
    let carol = Account::new("carol")
        .own_login("oauthbearer", server)
        .imap(stack, "IMAPS_PORT")
        .build();
    let mut approved = false;
    carol
        .mailer(&["auth", "login", "--browser"])
        .run_answering(|line| {
            if let Some(rest) = line.strip_prefix("  http") {
                server.approve(&format!("http{rest}"), "carol").unwrap();
                approved = true;
            }
        })
        .ok();
    assert!(approved);
    // The stored access token no longer works (revoked by the provider, say), though
    // it has not expired.
    let file = carol.path("state/mailer/carol/oauth2.json");
    let mut tokens: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    tokens["access_token"] = "no-longer-valid".into();
    std::fs::write(&file, tokens.to_string()).unwrap();

    let run = carol.mailer(&["list"]).run();
    run.ok();
    assert!(run.stdout().contains(&subject));
    assert_eq!(run.stderr(), "");
    let after: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_ne!(after["access_token"], "no-longer-valid");
}
