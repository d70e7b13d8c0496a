//! Logging in with OAuth2 bearer tokens against the real Dovecot (which validates the
//! JWTs the harness signs) and Postfix (through Dovecot's SASL): XOAUTH2 and
//! OAUTHBEARER on SMTP, IMAP and POP3, tokens from a helper command, bare or as JSON.

#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use common::{Account, Stack, stack};

/// A token_command that prints a token for `user`, valid `secs`.
fn token_command(stack: &Stack, user: &str, secs: i64) -> String {
    format!(
        "{}/tests/mailstack.sh token {} {user} {secs}",
        env!("CARGO_MANIFEST_DIR"),
        stack.dir.display()
    )
}

fn unique(tag: &str) -> String {
    format!("oauth2-{tag}-{}", std::process::id())
}

#[test]
fn send_fetch_and_list_with_each_mechanism_on_each_protocol() {
    let stack = stack();
    for auth in ["xoauth2", "oauthbearer"] {
        let subject = unique(auth);
        let sender = Account::new("alice")
            .oauth2(auth, &token_command(stack, "alice", 3600))
            .smtp(stack, "SUBMISSIONS_PORT")
            .build();
        sender
            .mailer(&[
                "send",
                "--to",
                "carol@example.test",
                "--subject",
                &subject,
                "--body",
                "hi",
            ])
            .ok();
        stack.wait_for_count("carol", &subject, 1);

        let imap = Account::new("carol")
            .oauth2(auth, &token_command(stack, "carol", 3600))
            .maildir()
            .imap(stack, "IMAPS_PORT")
            .build();
        assert!(imap.mailer(&["list"]).run().stdout().contains(&subject));
        imap.mailer(&["fetch", "--inbox"]).ok();

        let pop3 = Account::new("carol")
            .oauth2(auth, &token_command(stack, "carol", 3600))
            .maildir()
            .pop3(stack, "POP3S_PORT")
            .build();
        assert!(pop3.mailer(&["list"]).run().stdout().contains(&subject));
    }
}

#[test]
fn a_token_command_may_print_json_and_starttls_carries_the_token_too() {
    let stack = stack();
    let json = format!(
        "printf '{{\"access_token\":\"%s\",\"expires_in\":3600}}' \"$({})\"",
        token_command(stack, "bob", 3600)
    );
    let imap = Account::new("bob")
        .oauth2("oauthbearer", &json)
        .maildir()
        .imap(stack, "IMAP_PORT")
        .security("starttls")
        .build();
    imap.mailer(&["list"]).ok();
    let subject = unique("json");
    let smtp = Account::new("bob")
        .oauth2("xoauth2", &json)
        .smtp(stack, "SUBMISSION_PORT")
        .security("starttls")
        .build();
    smtp.mailer(&[
        "send",
        "--to",
        "bob@example.test",
        "--subject",
        &subject,
        "--body",
        "x",
    ])
    .ok();
    stack.wait_for_count("bob", &subject, 1);
}

#[test]
fn a_refused_token_is_exit_77_with_the_servers_reason_and_never_printed() {
    let stack = stack();
    let expired = token_command(stack, "carol", -60);
    let token = String::from_utf8(
        std::process::Command::new("sh")
            .args(["-c", &token_command(stack, "carol", -60)])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let token = token.trim();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for (protocol, port, auth) in [
        ("imap", "IMAPS_PORT", "oauthbearer"),
        ("pop3", "POP3S_PORT", "xoauth2"),
        ("smtp", "SUBMISSIONS_PORT", "oauthbearer"),
    ] {
        let account = Account::new("carol").oauth2(auth, &expired).maildir();
        let account = match protocol {
            "imap" => account.imap(stack, port),
            "pop3" => account.pop3(stack, port),
            _ => account.smtp(stack, port),
        };
        let setup = account.build();
        let args: &[&str] = match protocol {
            "smtp" => &[
                "send",
                "--to",
                "bob@example.test",
                "--body",
                "x",
                "--no-queue",
            ],
            _ => &["list"],
        };
        let run = setup.mailer(args).env("MAILER_LOG", "trace").run();
        let err = run.fails_with(77);
        assert!(
            err.contains("refused the login of user \"carol@example.test\""),
            "{err}"
        );
        let output = format!("{}{}", run.stdout(), err);
        assert!(
            !output.contains(&token[token.len() - 20..]),
            "{protocol} printed the token"
        );
        assert!(
            !output.contains(&b64(token)[..40]),
            "{protocol} printed the token's base64"
        );
    }
}

#[test]
fn wrong_combinations_are_config_errors_naming_the_key() {
    let setup = Account::new("alice")
        .set("auth", "xoauth2")
        .smtp(stack(), "SUBMISSIONS_PORT")
        .build();
    let err = setup
        .mailer(&["send", "--to", "b@example.test", "--body", "x"])
        .fails_with(78);
    assert!(
        err.contains("config.toml:4:8: accounts.alice.auth"),
        "{err}"
    );
    assert!(
        err.contains("needs [accounts.alice.oauth2] with token_command"),
        "{err}"
    );

    let setup = Account::new("alice")
        .oauth2("oauthbearer", "echo t")
        .set("password_command", "echo alicepw")
        .smtp(stack(), "SUBMISSIONS_PORT")
        .build();
    let err = setup
        .mailer(&["send", "--to", "b@example.test", "--body", "x"])
        .fails_with(78);
    assert!(
        err.contains("a password is not used with auth = \"oauthbearer\""),
        "{err}"
    );
}
