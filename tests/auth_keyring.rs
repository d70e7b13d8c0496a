//! The OS keyring, with a real Secret Service (GNOME Keyring on a private D-Bus bus):
//! a password stored with `auth set-password` and read back for the login, sign-in
//! tokens kept in it, and what a run that cannot reach any keyring says.

#![allow(clippy::unwrap_used)]

mod common;

use common::keyring::keyring;
use common::oauth::auth_server;
use common::{Account, stack};

fn keyring_account() -> Account {
    Account::new("carol")
        .password_keyring()
        .imap(stack(), "IMAPS_PORT")
}

#[test]
fn a_password_stored_with_set_password_logs_in() {
    let keyring = keyring();
    let setup = keyring_account().build();
    let out = setup
        .mailer(&["auth", "set-password"])
        .env("DBUS_SESSION_BUS_ADDRESS", &keyring.address)
        .stdin("carolpw\n")
        .ok();
    assert_eq!(
        out,
        "stored the password of \"carol@example.test\" in the keyring (service \"mailer\")"
    );
    assert!(keyring.files().read_dir().unwrap().next().is_some());
    setup
        .mailer(&["list"])
        .env("DBUS_SESSION_BUS_ADDRESS", &keyring.address)
        .ok();
}

#[test]
fn without_a_reachable_keyring_the_error_names_the_alternatives() {
    let setup = keyring_account().build();
    let err = setup.mailer(&["list"]).fails_with(78);
    assert!(
        err.contains("password_keyring: no keyring reachable"),
        "{err}"
    );
    assert!(
        err.contains("use password_command or password_env instead"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let err = setup
        .mailer(&["auth", "set-password"])
        .stdin("pw\n")
        .fails_with(78);
    assert!(err.contains("no keyring reachable"), "{err}");
}

#[test]
fn sign_in_tokens_go_to_the_keyring_when_one_is_reachable() {
    let (keyring, server) = (keyring(), auth_server());
    let setup = Account::new("bob")
        .own_login("xoauth2", server)
        .imap(stack(), "IMAPS_PORT")
        .build();
    let bus = keyring.address.clone();
    let mut approved = false;
    let out = setup
        .mailer(&["auth", "login", "--browser"])
        .env("DBUS_SESSION_BUS_ADDRESS", &bus)
        .run_answering(|line| {
            if let Some(rest) = line.strip_prefix("  http") {
                server.approve(&format!("http{rest}"), "bob").unwrap();
                approved = true;
            }
        })
        .ok();
    assert!(approved);
    assert!(out.contains("tokens kept in the OS keyring"), "{out}");
    let file = setup.path("state/mailer/bob/oauth2.json");
    let kept: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(kept["access_token"], "");
    assert_eq!(kept["refresh_token"], serde_json::Value::Null);

    let run = setup
        .mailer(&["auth", "status"])
        .env("DBUS_SESSION_BUS_ADDRESS", &bus)
        .run();
    run.ok();
    let status = run.stdout();
    assert!(status.contains("store:         the OS keyring"), "{status}");
    setup
        .mailer(&["list"])
        .env("DBUS_SESSION_BUS_ADDRESS", &bus)
        .ok();
    // A run that cannot reach the keyring says where the tokens are.
    let err = setup.mailer(&["list"]).fails_with(78);
    assert!(
        err.contains("the tokens of account \"bob\" are in the keyring, and no keyring reachable"),
        "{err}"
    );
}
