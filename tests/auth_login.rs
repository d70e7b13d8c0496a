//! mailer's own OAuth2 sign-in against a real authorization server (oidc-provider) whose
//! tokens the stack's Dovecot and Postfix accept: the browser flow (PKCE, loopback
//! redirect) and the device flow, then sending and fetching with the stored tokens,
//! refreshing them unattended, and what happens when the sign-in has ended.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::time::Instant;

use common::oauth::{AuthServer, auth_server};
use common::{Account, Run, Setup, stack};

fn unique(tag: &str) -> String {
    format!("auth-{tag}-{}", std::process::id())
}

/// All of stdout of a run that must succeed.
fn all_of(run: Run) -> String {
    all_of_ref(&run)
}

fn all_of_ref(run: &Run) -> String {
    run.ok();
    run.stdout()
}

/// Where the account's tokens are kept (the setup's own state directory).
fn token_file(setup: &Setup, account: &str) -> PathBuf {
    setup
        .path("state")
        .join("mailer")
        .join(account)
        .join("oauth2.json")
}

fn stored(setup: &Setup, account: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(token_file(setup, account)).unwrap()).unwrap()
}

fn edit_stored(setup: &Setup, account: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut tokens = stored(setup, account);
    edit(&mut tokens);
    std::fs::write(token_file(setup, account), tokens.to_string()).unwrap();
}

/// Neither token may appear in anything mailer printed.
fn assert_tokens_unseen(run: &Run, setup: &Setup, account: &str) {
    let tokens = stored(setup, account);
    for key in ["access_token", "refresh_token"] {
        let token = tokens[key].as_str().unwrap();
        assert!(
            !run.stdout().contains(token) && !run.stderr().contains(token),
            "the {key} was printed"
        );
    }
}

/// `mailer auth login --browser`, with the test acting as the user in the browser.
fn sign_in_with_browser(setup: &Setup, server: &AuthServer, user: &str) -> Run {
    let mut approved = false;
    let run = setup
        .mailer(&["auth", "login", "--browser"])
        .env_remove("DISPLAY")
        .run_answering(|line| {
            if let Some(rest) = line.strip_prefix("  http") {
                server.approve(&format!("http{rest}"), user).unwrap();
                approved = true;
            }
        });
    assert!(approved, "no sign-in address was printed: {}", run.stderr());
    run
}

/// `mailer auth login --device`, with the test approving the code on "another device".
fn sign_in_with_device(setup: &Setup, server: &AuthServer, user: &str) -> Run {
    let mut approved = false;
    let run = setup
        .mailer(&["auth", "login", "--device"])
        .run_answering(|line| {
            if let Some((_, code)) = line.split_once("enter the code: ") {
                server.approve_device(code.trim(), user);
                approved = true;
            }
        });
    assert!(approved, "no device code was printed: {}", run.stderr());
    run
}

#[test]
fn browser_sign_in_then_send_and_fetch_with_xoauth2() {
    let (stack, server) = (stack(), auth_server());
    let alice = Account::new("alice")
        .own_login("xoauth2", server)
        .smtp(stack, "SUBMISSIONS_PORT")
        .build();
    let run = sign_in_with_browser(&alice, server, "alice");
    let out = run.ok();
    assert!(
        out.starts_with("signed in account \"alice\"; tokens kept in "),
        "{out}"
    );
    assert_tokens_unseen(&run, &alice, "alice");
    let file = token_file(&alice, "alice");
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(file.parent().unwrap()), 0o700);

    let subject = unique("browser");
    let args = [
        "send",
        "--to",
        "carol@example.test",
        "--subject",
        &subject,
        "--body",
        "hi",
    ];
    let run = alice.mailer(&args).run();
    run.ok();
    assert_tokens_unseen(&run, &alice, "alice");
    stack.wait_for_count("carol", &subject, 1);

    let carol = Account::new("carol")
        .own_login("xoauth2", server)
        .maildir()
        .imap(stack, "IMAPS_PORT")
        .build();
    sign_in_with_browser(&carol, server, "carol").ok();
    assert!(all_of(carol.mailer(&["list"]).run()).contains(&subject));
    carol.mailer(&["fetch", "--inbox"]).ok();
}

#[test]
fn device_sign_in_then_list_fetch_and_send_with_oauthbearer_on_each_protocol() {
    let (stack, server) = (stack(), auth_server());
    let subject = unique("device");
    stack.deliver(
        "bob",
        "INBOX",
        &[format!("Subject: {subject}\r\n\r\nhi\r\n").as_bytes()],
    );
    let imap = Account::new("bob")
        .own_login("oauthbearer", server)
        .imap(stack, "IMAP_PORT")
        .security("starttls")
        .build();
    let run = sign_in_with_device(&imap, server, "bob");
    assert!(run.ok().starts_with("signed in account \"bob\""));
    assert!(all_of(imap.mailer(&["list"]).run()).contains(&subject));

    let pop3 = Account::new("bob")
        .own_login("oauthbearer", server)
        .maildir()
        .pop3(stack, "POP3S_PORT")
        .smtp(stack, "SUBMISSION_PORT")
        .security("starttls")
        .build();
    sign_in_with_device(&pop3, server, "bob").ok();
    let run = pop3.mailer(&["fetch", "--inbox"]).run();
    run.ok();
    assert_tokens_unseen(&run, &pop3, "bob");
    let reply = unique("device-smtp");
    let args = [
        "send",
        "--to",
        "carol@example.test",
        "--subject",
        &reply,
        "--body",
        "hi",
    ];
    pop3.mailer(&args).ok();
    stack.wait_for_count("carol", &reply, 1);
}

#[test]
fn an_access_token_that_expired_between_runs_is_refreshed_silently() {
    let (stack, server) = (stack(), auth_server());
    let carol = Account::new("carol")
        .own_login("xoauth2", server)
        .imap(stack, "IMAPS_PORT")
        .build();
    sign_in_with_browser(&carol, server, "carol").ok();
    let before = stored(&carol, "carol");
    edit_stored(&carol, "carol", |t| t["expires_at"] = 1_000_000.into());

    let run = carol.mailer(&["list"]).run();
    run.ok();
    assert_eq!(run.stderr(), "");
    let after = stored(&carol, "carol");
    assert_ne!(after["access_token"], before["access_token"]);
    assert!(after["expires_at"].as_i64().unwrap() > before["expires_at"].as_i64().unwrap() - 5);
    assert_tokens_unseen(&run, &carol, "carol");
}

#[test]
fn status_shows_the_store_and_expiry_and_logout_revokes() {
    let server = auth_server();
    let dora = Account::new("dora")
        .own_login("xoauth2", server)
        .imap(stack(), "IMAPS_PORT")
        .build();
    let out = all_of(dora.mailer(&["auth", "status"]).run());
    assert!(
        out.contains("signed in:     no: run \"mailer auth login -a dora\""),
        "{out}"
    );

    sign_in_with_browser(&dora, server, "dora").ok();
    let run = dora.mailer(&["auth", "status"]).run();
    let out = all_of_ref(&run);
    let file = token_file(&dora, "dora");
    assert!(
        out.contains(&format!("store:         file {}", file.display())),
        "{out}"
    );
    assert!(out.contains("access token:  valid until "), "{out}");
    assert!(out.contains("refresh token: yes"), "{out}");
    assert_tokens_unseen(&run, &dora, "dora");
    let json: serde_json::Value =
        serde_json::from_str(&all_of(dora.mailer(&["--json", "auth", "status"]).run())).unwrap();
    assert_eq!(json["signed_in"], true);
    assert_eq!(json["store"], "file");

    let kept = std::fs::read(&file).unwrap();
    let out = dora.mailer(&["auth", "logout"]).ok();
    assert!(out.contains("the refresh token was revoked at"), "{out}");
    assert!(!file.exists());
    let err = dora.mailer(&["list"]).fails_with(77);
    assert!(
        err.contains("has not signed in: run \"mailer auth login -a dora\""),
        "{err}"
    );
    // The server forgot the sign-in too: the old refresh token no longer works.
    std::fs::write(&file, kept).unwrap();
    edit_stored(&dora, "dora", |t| t["expires_at"] = 1_000_000.into());
    let err = dora.mailer(&["list"]).fails_with(77);
    assert!(err.contains("is no longer valid (invalid_grant"), "{err}");
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A revoked refresh token ends the sign-in: unattended runs stop at once with 77 and
/// the command to run, and a message to send waits in the queue.
#[test]
fn a_revoked_sign_in_fails_at_once_with_the_command_to_run() {
    let (stack, server) = (stack(), auth_server());
    let alice = Account::new("alice")
        .own_login("oauthbearer", server)
        .maildir()
        .smtp(stack, "SUBMISSIONS_PORT")
        .imap(stack, "IMAPS_PORT")
        .build();
    sign_in_with_browser(&alice, server, "alice").ok();
    server.revoke(stored(&alice, "alice")["refresh_token"].as_str().unwrap());
    edit_stored(&alice, "alice", |t| t["expires_at"] = 1_000_000.into());

    let started = Instant::now();
    let err = alice.mailer(&["fetch", "--inbox"]).fails_with(77);
    let took = started.elapsed();
    assert!(
        err.contains("the sign-in of account \"alice\" is no longer valid (invalid_grant"),
        "{err}"
    );
    assert!(
        err.trim_end()
            .ends_with("run \"mailer auth login -a alice\""),
        "{err}"
    );
    assert!(took.as_secs_f64() < 1.0, "took {took:?}");

    let subject = unique("revoked");
    let args = [
        "send",
        "--to",
        "carol@example.test",
        "--subject",
        &subject,
        "--body",
        "x",
    ];
    let err = alice.mailer(&args).fails_with(77);
    assert!(err.contains("queued"), "{err}");
    let queued = all_of(alice.mailer(&["queue", "list"]).run());
    assert_eq!(queued.lines().count(), 1, "{queued}");
}
