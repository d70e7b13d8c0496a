//! Setting up an account: `mailer account add` from an address (a provider preset) or
//! from flags (the test stack), the file it writes, and `mailer check` walking to each
//! server and stopping at the step that fails.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::fault::{Step, serve};
use common::roundtrips::RoundTrips;
use common::{Account, Run, Setup, Stack, on_a_terminal, stack};

fn all_of(run: &Run) -> String {
    run.ok();
    run.stdout()
}

/// `account add` for the stack's carol with flags only: then `check` (which it runs)
/// lists every step of both servers, and exits 0.
#[test]
fn account_add_with_flags_writes_an_account_that_check_accepts() {
    let stack = stack();
    let setup = Setup::empty();
    let (imaps, submissions) = (stack.port("IMAPS_PORT"), stack.port("SUBMISSIONS_PORT"));
    let run = setup
        .mailer(&[
            "-a",
            "carol",
            "account",
            "add",
            "carol@example.test",
            "--name",
            "Carol",
            "--host",
            "localhost",
            "--port",
            &imaps.to_string(),
            "--smtp-host",
            "localhost",
            "--smtp-port",
            &submissions.to_string(),
            "--ca-file",
            stack.ca_file(),
            "--password-command",
            "echo carolpw",
            "--maildir",
            setup.path("Mail").to_str().unwrap(),
        ])
        .run();
    let out = all_of(&run);
    assert!(
        out.starts_with("added account \"carol\" (carol@example.test) to "),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "imap  localhost:{imaps} tls  (--host localhost, port {imaps} from the command line)"
        )),
        "{out}"
    );
    for step in [
        "smtp  resolve",
        "smtp  connect",
        "smtp  tls",
        "smtp  greeting",
        "smtp  auth",
        "smtp  sender",
        "imap  resolve",
        "imap  connect",
        "imap  tls",
        "imap  greeting",
        "imap  auth",
        "imap  inbox",
    ] {
        assert!(
            out.contains(&format!("ok   {step}")),
            "{step} missing:\n{out}"
        );
    }
    assert!(
        out.contains("MAIL FROM:<carol@example.test> accepted"),
        "{out}"
    );
    // The greeting step lists every EHLO keyword Postfix announces, not only those
    // lettre uses.
    let greeting = out.lines().find(|l| l.contains("smtp  greeting")).unwrap();
    assert!(
        greeting.contains("PIPELINING")
            && greeting.contains("SIZE ")
            && greeting.contains("AUTH PLAIN"),
        "{out}"
    );
    assert!(out.contains("INBOX: "), "{out}");
    assert!(out.contains("subject CN=localhost"), "{out}");
    // The version and cipher agreed, which Dovecot and Postfix here make TLS 1.3.
    assert!(
        out.contains("ok   imap  tls") && out.contains("TLSv1.3, TLS_"),
        "{out}"
    );
    assert_eq!(mode(&setup.config()), 0o600);
    // The file it wrote is one mailer reads like any other.
    setup.mailer(&["-a", "carol", "list"]).ok();
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Runs `check` and returns its stdout; asserts the exit code and that the failed
/// step is `step`.
fn check_fails(setup: &Setup, code: i32, step: &str) -> String {
    let run = setup.mailer(&["check"]).run();
    let err = run.fails_with(code);
    let out = run.stdout();
    assert!(out.contains(&format!("FAIL imap  {step}")), "{out}\n{err}");
    assert!(out.contains("     fix: "), "{out}");
    assert!(err.starts_with(&format!("mailer: imap {step}: ")), "{err}");
    out
}

fn carol(stack: &Stack) -> Account {
    Account::new("carol").imap(stack, "IMAPS_PORT")
}

#[test]
fn check_stops_at_connect_on_a_closed_port() {
    let closed = common::closed_port();
    let setup = carol(stack()).server_key("port", closed).build();
    let out = check_fails(&setup, 75, "connect");
    assert!(
        out.contains(&format!("nothing listens on port {closed}")),
        "{out}"
    );
}

#[test]
fn check_stops_at_auth_with_a_wrong_password() {
    let setup = carol(stack())
        .password_command("echo not-the-password")
        .build();
    let out = check_fails(&setup, 77, "auth");
    assert!(out.contains("check the password"), "{out}");
}

#[test]
fn check_stops_at_tls_for_a_certificate_it_cannot_trust() {
    let setup = carol(stack()).server_unset("ca_file").build();
    let out = check_fails(&setup, 69, "tls");
    let seen = "the server's certificate (presented as localhost: subject CN=localhost; issuer CN=";
    assert!(out.contains(seen), "{out}");
    assert!(
        out.contains("set ca_file in [accounts.carol.imap]"),
        "{out}"
    );
}

/// The fake server takes one connection only: check's steps share it.
#[test]
fn check_stops_at_starttls_when_it_is_not_offered() {
    let port = serve(vec![
        Step::Send(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] no TLS here\r\n"),
        Step::Answer(b"", "BAD unknown command"),
    ]);
    let setup = Account::fake("imap", port).security("starttls").build();
    let out = check_fails(&setup, 69, "starttls");
    assert!(out.contains("must offer STARTTLS"), "{out}");
}

/// A host that does not resolve. The check runs in a network namespace of its own, so
/// that the lookup cannot leave the machine.
#[test]
fn check_stops_at_resolve_for_a_host_that_does_not_resolve() {
    let setup = Account::fake("imap", 993)
        .server_key("host", "no-such-host.invalid")
        .build();
    let out = Command::new("unshare")
        .args(["-n", env!("CARGO_BIN_EXE_mailer"), "-c"])
        .arg(setup.config())
        .arg("check")
        .env("XDG_STATE_HOME", setup.path("state"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(75),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("FAIL imap  resolve"), "{stdout}");
    assert!(
        stdout.contains("check host in [accounts.x.imap]"),
        "{stdout}"
    );
}

#[test]
fn check_json_lists_the_steps_with_their_times() {
    let setup = carol(stack()).build();
    let run = setup.mailer(&["--json", "check"]).run();
    let steps: serde_json::Value = serde_json::from_str(&all_of(&run)).unwrap();
    let names: Vec<&str> = steps
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["resolve", "connect", "tls", "greeting", "auth", "inbox"]
    );
    assert!(steps[0]["ms"].is_u64());
    assert!(steps.as_array().unwrap().iter().all(|s| s["ok"] == true));
    assert!(
        steps[3]["detail"].as_str().unwrap().contains("AUTH=PLAIN"),
        "{steps}"
    );
    assert!(
        steps[4]["detail"]
            .as_str()
            .unwrap()
            .starts_with("logged in as carol"),
        "{steps}"
    );
}

/// Each preset: the servers, ports, security and login it writes, and a file that loads.
#[test]
fn presets_write_the_providers_servers() {
    let cases = [
        (
            "alice@gmail.com",
            "imap.gmail.com",
            993,
            "smtp.gmail.com",
            465,
            "provider = \"google\"",
        ),
        (
            "alice@outlook.com",
            "outlook.office365.com",
            993,
            "smtp-mail.outlook.com",
            587,
            "provider = \"microsoft\"",
        ),
        (
            "alice@icloud.com",
            "imap.mail.me.com",
            993,
            "smtp.mail.me.com",
            587,
            "password_keyring = true",
        ),
        (
            "alice@fastmail.com",
            "imap.fastmail.com",
            993,
            "smtp.fastmail.com",
            465,
            "password_keyring = true",
        ),
        (
            "alice@yahoo.com",
            "imap.mail.yahoo.com",
            993,
            "smtp.mail.yahoo.com",
            465,
            "password_keyring = true",
        ),
        (
            "alice@aol.com",
            "imap.aol.com",
            993,
            "smtp.aol.com",
            465,
            "password_keyring = true",
        ),
        (
            "alice@gmx.de",
            "imap.gmx.net",
            993,
            "mail.gmx.net",
            465,
            "password_keyring = true",
        ),
        (
            "alice@web.de",
            "imap.web.de",
            993,
            "smtp.web.de",
            587,
            "password_keyring = true",
        ),
        (
            "alice@yandex.ru",
            "imap.yandex.com",
            993,
            "smtp.yandex.com",
            465,
            "password_keyring = true",
        ),
        (
            "alice@mail.ru",
            "imap.mail.ru",
            993,
            "smtp.mail.ru",
            465,
            "password_keyring = true",
        ),
        (
            "alice@zoho.com",
            "imap.zoho.com",
            993,
            "smtp.zoho.com",
            465,
            "password_keyring = true",
        ),
        (
            "alice@zoho.eu",
            "imap.zoho.eu",
            993,
            "smtp.zoho.eu",
            465,
            "password_keyring = true",
        ),
        (
            "alice@posteo.de",
            "posteo.de",
            993,
            "posteo.de",
            465,
            "password_keyring = true",
        ),
        (
            "alice@mailbox.org",
            "imap.mailbox.org",
            993,
            "smtp.mailbox.org",
            465,
            "password_keyring = true",
        ),
        (
            "alice@qq.com",
            "imap.qq.com",
            993,
            "smtp.qq.com",
            465,
            "password_keyring = true",
        ),
        (
            "alice@foxmail.com",
            "imap.qq.com",
            993,
            "smtp.qq.com",
            465,
            "password_keyring = true",
        ),
        (
            "alice@163.com",
            "imap.163.com",
            993,
            "smtp.163.com",
            465,
            "sasl_ir = false",
        ),
        (
            "alice@126.com",
            "imap.126.com",
            993,
            "smtp.126.com",
            465,
            "sasl_ir = false",
        ),
        (
            "alice@yeah.net",
            "imap.yeah.net",
            993,
            "smtp.yeah.net",
            465,
            "sasl_ir = false",
        ),
        (
            "alice@aliyun.com",
            "imap.aliyun.com",
            993,
            "smtp.aliyun.com",
            465,
            "password_keyring = true",
        ),
        (
            "alice@sina.com",
            "imap.sina.com",
            993,
            "smtp.sina.com",
            465,
            "password_keyring = true",
        ),
        (
            "alice@proton.me",
            "127.0.0.1",
            1143,
            "127.0.0.1",
            1025,
            "ca_file = ",
        ),
    ];
    for (email, imap, imap_port, smtp, smtp_port, login) in cases {
        let setup = Setup::empty();
        setup
            .mailer(&["account", "add", email, "--yes", "--no-check"])
            .ok();
        let text = std::fs::read_to_string(setup.config()).unwrap();
        let imap_lines = format!("host = \"{imap}\"\nport = {imap_port}\n");
        assert!(text.contains(&imap_lines), "{email}:\n{text}");
        let smtp_at = text.find(".smtp]").unwrap();
        assert!(
            text[smtp_at..].contains(&format!("host = \"{smtp}\"\nport = {smtp_port}\n")),
            "{email}:\n{text}"
        );
        assert!(text.contains(login), "{email}: no {login}:\n{text}");
        assert_eq!(mode(&setup.config()), 0o600, "{email}");
        // It loads: auth status reads the config and the account.
        setup.mailer(&["auth", "status"]).ok();
    }
}

#[test]
fn a_second_account_keeps_the_first_byte_for_byte() {
    let setup = Setup::empty();
    setup
        .mailer(&["account", "add", "alice@gmail.com", "--yes", "--no-check"])
        .ok();
    let mut first = std::fs::read_to_string(setup.config()).unwrap();
    first.push_str("# a comment of the user's own\n");
    std::fs::write(setup.config(), &first).unwrap();
    setup
        .mailer(&["account", "add", "bob@fastmail.com", "--yes", "--no-check"])
        .ok();
    let both = std::fs::read_to_string(setup.config()).unwrap();
    assert!(both.starts_with(&first), "{both}");
    assert!(both.contains("[accounts.fastmail]"), "{both}");
    let err = setup
        .mailer(&[
            "account",
            "add",
            "carol@fastmail.com",
            "--yes",
            "--no-check",
        ])
        .fails_with(73);
    assert!(err.contains("there is already an account \"fastmail\": choose another name with -a NAME, or pass --force"), "{err}");
    assert_eq!(std::fs::read_to_string(setup.config()).unwrap(), both);
}

#[test]
fn without_a_preset_the_servers_are_asked_for() {
    let setup = Setup::empty();
    let err = setup
        .mailer(&["account", "add", "alice@example.org", "--yes", "--offline"])
        .fails_with(64);
    assert!(
        err.contains(
            "mailer has no preset for example.org: give the servers with --host and --smtp-host"
        ),
        "{err}"
    );
    assert!(!setup.config().exists());
}

#[test]
fn with_no_config_every_command_says_how_to_make_one() {
    let setup = Setup::empty();
    let err = setup.mailer(&["list"]).fails_with(78);
    assert!(
        err.starts_with("mailer: no config yet: run \"mailer account add you@example.org\""),
        "{err}"
    );
}

/// A domain without a preset publishes its servers in an autoconfig file (here at a
/// private address, the way a company's setup would name it).
#[test]
fn servers_from_the_domains_autoconfig_file() {
    let stack = stack();
    let (imaps, submissions) = (stack.port("IMAPS_PORT"), stack.port("SUBMISSIONS_PORT"));
    let xml = format!(
        r#"<?xml version="1.0"?>
<clientConfig version="1.1"><emailProvider id="example.test">
  <incomingServer type="imap"><hostname>localhost</hostname><port>{imaps}</port>
    <socketType>SSL</socketType><username>%EMAILADDRESS%</username>
    <authentication>password-cleartext</authentication></incomingServer>
  <outgoingServer type="smtp"><hostname>localhost</hostname><port>{submissions}</port>
    <socketType>SSL</socketType><username>%EMAILADDRESS%</username></outgoingServer>
</emailProvider></clientConfig>"#
    );
    let server = common::https::serve_file(stack, xml, "text/xml");
    let url = format!("https://localhost:{}/mail/config-v1.1.xml", server.port);
    let setup = Setup::empty();
    let run = setup
        .mailer(&[
            "-a",
            "carol",
            "account",
            "add",
            "carol@example.test",
            "--autoconfig-url",
            &url,
            "--ca-file",
            stack.ca_file(),
            "--password-command",
            "echo carolpw",
            "--maildir",
            setup.path("Mail").to_str().unwrap(),
        ])
        .run();
    let out = all_of(&run);
    assert!(
        out.contains(&format!("imap  localhost:{imaps} tls  (autoconfig {url})")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "smtp  localhost:{submissions} tls  (autoconfig {url})"
        )),
        "{out}"
    );
    assert!(out.contains("ok   imap  inbox"), "{out}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn an_autoconfig_address_that_does_not_answer_is_named() {
    let closed = common::closed_port();
    let url = format!("https://127.0.0.1:{closed}/mail/config-v1.1.xml");
    // Every other name is asked of a DNS server that knows none: nothing leaves the machine.
    let dns = common::dns::dns_server(&[]);
    let setup = Setup::empty();
    let err = setup
        .mailer(&[
            "account",
            "add",
            "alice@example.org",
            "--autoconfig-url",
            &url,
            "--dns-server",
            &dns.address(),
        ])
        .fails_with(64);
    assert!(err.contains("no SRV records for example.org"), "{err}");
    assert!(
        err.contains(&format!(
            "mailer has no preset for example.org; looked up: {url}: "
        )),
        "{err}"
    );
}

/// On a terminal, `account add` asks for what the flags left out and asks before
/// writing. The terminal is a pseudo-terminal from util-linux's `script`.
#[test]
fn on_a_terminal_it_asks_for_the_address_and_name_and_before_writing() {
    let setup = Setup::empty();
    let command = format!(
        "{} -c {} account add --no-check",
        env!("CARGO_BIN_EXE_mailer"),
        setup.config().display()
    );
    let screen = on_a_terminal(
        &setup,
        &command,
        &[],
        b"dave@fastmail.com\nDave Dee\nc\npass show mail/dave\n/srv/mail/dave\ny\n",
    );
    assert!(screen.contains("Email address: "), "{screen}");
    assert!(screen.contains("Password from: [k]eyring"), "{screen}");
    assert!(
        screen.contains("Write account \"fastmail\" to "),
        "{screen}"
    );
    let text = std::fs::read_to_string(setup.config()).unwrap();
    assert!(text.contains("maildir = \"/srv/mail/dave\""), "{text}");
    assert!(
        text.contains("password_command = \"pass show mail/dave\""),
        "{text}"
    );
    assert!(
        text.contains("email = \"dave@fastmail.com\"\nname = \"Dave Dee\""),
        "{text}"
    );
    // A second account, into a file with one already: asked whether it is the default.
    let command = format!(
        "{} -c {} -a erin account add erin@fastmail.com --no-check",
        env!("CARGO_BIN_EXE_mailer"),
        setup.config().display()
    );
    let screen = on_a_terminal(&setup, &command, &[], b"\n\n\ny\ny\n\n");
    assert!(
        screen.contains("Make it the default account? [y/N]"),
        "{screen}"
    );
    let text = std::fs::read_to_string(setup.config()).unwrap();
    assert!(text.contains("default_account = \"erin\""), "{text}");
}

#[test]
fn config_check_reports_every_problem_at_once() {
    let setup = Setup::new(
        "[accounts.a]\nemail = \"a@example.org\"\n[accounts.a.imap]\nhost = \"imap.example.org\"\nport = 0\n\n[accounts.b]\nemail = \"b@example.org\"\nauth = \"xoauth2\"\n",
    );
    let run = setup.mailer(&["config", "check"]).run();
    let err = run.fails_with(78);
    assert!(err.contains("2 problem(s), listed above"), "{err}");
    let out = run.stdout();
    assert!(
        out.contains(":5:8: accounts.a.imap.port: 0 is not a port"),
        "{out}"
    );
    assert!(out.contains("accounts.a.imap.port"), "{out}");
    assert!(
        out.contains(":9:8: accounts.b.auth: auth = \"xoauth2\" needs [accounts.b.oauth2]"),
        "{out}"
    );
    let good = Setup::new("[accounts.a]\nemail = \"a@example.org\"\n");
    assert!(
        good.mailer(&["config", "check"])
            .ok()
            .ends_with("config.toml: no problems")
    );
}

/// A domain whose DNS names its servers (RFC 6186 SRV records), asked of a private DNS
/// server; its autoconfig hosts are asked of it too, and it knows none.
#[test]
fn servers_from_the_domains_srv_records() {
    let stack = stack();
    let (imaps, submissions) = (stack.port("IMAPS_PORT"), stack.port("SUBMISSIONS_PORT"));
    let dns = common::dns::dns_server_with(
        &[
            ("_imaps._tcp.example.test", "localhost", imaps),
            (
                "_imap._tcp.example.test",
                "localhost",
                stack.port("IMAP_PORT"),
            ),
            (
                "_submission._tcp.example.test",
                "localhost",
                stack.port("SUBMISSION_PORT"),
            ),
            ("_submissions._tcp.example.test", "localhost", submissions),
        ],
        &[("localhost", "127.0.0.1")],
    );
    let setup = Setup::empty();
    let run = setup
        .mailer(&[
            "-a",
            "carol",
            "account",
            "add",
            "carol@example.test",
            "--dns-server",
            &dns.address(),
            "--ca-file",
            stack.ca_file(),
            "--password-command",
            "echo carolpw",
            "--maildir",
            setup.path("Mail").to_str().unwrap(),
        ])
        .run();
    let out = all_of(&run);
    let source = "(DNS SRV records of example.test)";
    assert!(
        out.contains(&format!("imap  localhost:{imaps} tls  {source}")),
        "{out}"
    );
    assert!(
        out.contains(&format!("smtp  localhost:{submissions} tls  {source}")),
        "{out}"
    );
    assert!(out.contains("ok   imap  inbox"), "{out}");
}

/// The last resort: `imap.DOMAIN` and `smtp.DOMAIN`, kept because a TLS handshake
/// verified for those names succeeds on their implicit-TLS ports (993, 465: the test
/// listens there itself, on 127.0.0.1, with a certificate made for them).
#[test]
fn a_guess_is_kept_only_when_its_tls_handshake_succeeds() {
    let scratch = tempfile::tempdir().unwrap();
    let (cert, key) = (
        scratch.path().join("cert.pem"),
        scratch.path().join("key.pem"),
    );
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=imap.guess.test",
        ])
        .args([
            "-addext",
            "subjectAltName=DNS:imap.guess.test,DNS:smtp.guess.test",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    for port in [993, 465] {
        common::https::tls_listener(&cert, &key, port);
    }
    let dns = common::dns::dns_server_with(
        &[],
        &[
            ("imap.guess.test", "127.0.0.1"),
            ("smtp.guess.test", "127.0.0.1"),
        ],
    );
    let setup = Setup::empty();
    let run = setup
        .mailer(&[
            "account",
            "add",
            "alice@guess.test",
            "--dns-server",
            &dns.address(),
            "--ca-file",
            cert.to_str().unwrap(),
            "--password-command",
            "echo pw",
            "--no-check",
        ])
        .run();
    let out = all_of(&run);
    assert!(
        out.contains("imap  imap.guess.test:993 tls  (a guess, checked with a TLS handshake"),
        "{out}"
    );
    assert!(
        out.contains("smtp  smtp.guess.test:465 tls  (a guess"),
        "{out}"
    );
    let err = setup
        .mailer(&[
            "account",
            "add",
            "bob@other.test",
            "--dns-server",
            &dns.address(),
            "--ca-file",
            cert.to_str().unwrap(),
            "--no-check",
        ])
        .fails_with(64);
    assert!(
        err.contains("no imap., smtp. or mail. host answered with a verified TLS handshake"),
        "{err}"
    );
}

#[test]
fn check_of_a_pop3_account_lists_its_capabilities_and_stat() {
    let stack = stack();
    let setup = Account::new("bob")
        .pop3(stack, "POP3_PORT")
        .security("starttls")
        .build();
    let run = setup.mailer(&["check"]).run();
    let out = all_of(&run);
    let names: Vec<&str> = out
        .lines()
        .map(|l| l.split_whitespace().nth(2).unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        ["resolve", "connect", "greeting", "starttls", "auth", "stat"],
        "{out}"
    );
    assert!(out.contains("subject CN=localhost"), "{out}");
    assert!(out.contains("messages,"), "{out}");
    assert!(out.contains("offers ") && out.contains("UIDL"), "{out}");
}

#[test]
fn a_config_that_does_not_parse_is_left_alone_and_its_lines_are_not_shown() {
    let text = "[accounts.a]\nemail = \"a@example.org\"\npassword = \"hunter\\q2\"\n";
    let setup = Setup::new(text);
    let err = setup
        .mailer(&["account", "add", "bob@fastmail.com", "--yes", "--no-check"])
        .fails_with(78);
    assert!(err.contains("line 3: "), "{err}");
    assert!(!err.contains("hunter"), "the password was shown: {err}");
    assert_eq!(std::fs::read_to_string(setup.config()).unwrap(), text);
}

#[test]
fn an_account_name_that_is_not_a_bare_key_is_quoted() {
    let setup = Setup::empty();
    setup
        .mailer(&[
            "-a",
            "work mail",
            "account",
            "add",
            "bob@fastmail.com",
            "--yes",
            "--no-check",
        ])
        .ok();
    let text = std::fs::read_to_string(setup.config()).unwrap();
    assert!(text.contains("[accounts.\"work mail\".imap]"), "{text}");
    setup.mailer(&["-a", "work mail", "auth", "status"]).ok();
}

/// Without a stored password yet, the check still runs: the servers answer, the login
/// fails, and its fix line says how to store the password; once stored, it passes.
#[test]
fn account_add_without_a_password_yet_checks_and_says_how_to_store_it() {
    let (stack, keyring) = (stack(), common::keyring::keyring());
    let setup = Setup::empty();
    let (imaps, submissions) = (stack.port("IMAPS_PORT"), stack.port("SUBMISSIONS_PORT"));
    let (imaps, submissions) = (imaps.to_string(), submissions.to_string());
    let maildir = setup.path("Mail");
    let bus = keyring.address.clone();
    let run = setup
        .mailer(&[
            "-a",
            "carol",
            "account",
            "add",
            "carol@example.test",
            "--yes",
            "--host",
            "localhost",
            "--port",
            &imaps,
            "--smtp-host",
            "localhost",
            "--smtp-port",
            &submissions,
            "--ca-file",
            stack.ca_file(),
            "--password-keyring",
            "--maildir",
            maildir.to_str().unwrap(),
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", &bus)
        .run();
    // 78, the configuration (the password it names) is not usable yet.
    run.fails_with(78);
    let out = format!("{}{}", run.stdout(), run.stderr());
    assert!(out.contains("ok   smtp  greeting"), "{out}");
    assert!(out.contains("FAIL smtp  auth"), "{out}");
    assert!(
        out.contains("fix: store the password: mailer auth set-password -a carol"),
        "{out}"
    );
    setup
        .mailer(&["-a", "carol", "auth", "set-password"])
        .env("DBUS_SESSION_BUS_ADDRESS", &bus)
        .stdin("carolpw\n")
        .ok();
    let run = setup
        .mailer(&["-a", "carol", "check"])
        .env("DBUS_SESSION_BUS_ADDRESS", &bus)
        .run();
    let out = all_of(&run);
    assert!(out.contains("ok   imap  inbox"), "{out}");
}

/// On a terminal, a keyring account's password is asked for (without echo) and stored
/// in the keyring, and the check that follows logs in with it.
#[test]
fn on_a_terminal_the_password_goes_to_the_keyring_and_the_check_logs_in_with_it() {
    let (stack, keyring) = (stack(), common::keyring::keyring());
    let setup = Setup::empty();
    let command = format!(
        "{} -c {} -a carol account add carol@example.test --name Carol --host localhost --port {} --smtp-host localhost --smtp-port {} --ca-file {} --password-keyring --maildir {}",
        env!("CARGO_BIN_EXE_mailer"),
        setup.config().display(),
        stack.port("IMAPS_PORT"),
        stack.port("SUBMISSIONS_PORT"),
        stack.ca_file(),
        setup.path("Mail").display()
    );
    let screen = on_a_terminal(
        &setup,
        &command,
        &[("DBUS_SESSION_BUS_ADDRESS", keyring.address.as_str())],
        b"y\ncarolpw\n",
    );
    assert!(
        screen.contains("Password for carol@example.test (kept in the OS keyring"),
        "{screen}"
    );
    assert!(
        screen.contains("stored the password in the keyring"),
        "{screen}"
    );
    assert!(screen.contains("ok   imap  inbox"), "{screen}");
}

/// On a terminal, an account that signs in with OAuth2 (here against an authorization
/// server of its own) is offered the sign-in at once; the browser in BROWSER opens
/// it, and the check that follows logs in with the token.
#[test]
fn on_a_terminal_the_oauth2_sign_in_is_offered_and_the_check_uses_its_token() {
    let (stack, server) = (stack(), common::oauth::auth_server());
    let setup = Setup::empty();
    let browser = server.browser(&setup.path(""), "bob");
    let command = format!(
        "{} -c {} -a bob account add bob@example.test --name Bob --host localhost --port {} --smtp-host localhost --smtp-port {} --ca-file {} --client-id {} --auth-url {} --token-url {} --scope mail --scope offline_access --maildir {}",
        env!("CARGO_BIN_EXE_mailer"),
        setup.config().display(),
        stack.port("IMAPS_PORT"),
        stack.port("SUBMISSIONS_PORT"),
        stack.ca_file(),
        server.var("OAUTH_CLIENT_ID"),
        server.var("OAUTH_AUTH_URL"),
        server.var("OAUTH_TOKEN_URL"),
        setup.path("Mail").display()
    );
    let browser = browser.to_str().unwrap();
    let screen = on_a_terminal(&setup, &command, &[("BROWSER", browser)], b"y\ny\n");
    assert!(
        screen.contains("Sign in to the provider now? [Y/n]"),
        "{screen}"
    );
    assert!(screen.contains("ok   imap  auth"), "{screen}");
    assert!(screen.contains("ok   smtp  auth"), "{screen}");
    let text = std::fs::read_to_string(setup.config()).unwrap();
    assert!(
        text.contains("scopes = [\"mail\", \"offline_access\"]"),
        "{text}"
    );
}

#[test]
fn oauth2_is_chosen_with_a_flag_where_the_provider_has_a_preset_for_it() {
    let setup = Setup::empty();
    setup
        .mailer(&[
            "account",
            "add",
            "alice@outlook.com",
            "--oauth2",
            "--yes",
            "--no-check",
        ])
        .ok();
    let text = std::fs::read_to_string(setup.config()).unwrap();
    assert!(text.contains("provider = \"microsoft\""), "{text}");
    let err = setup
        .mailer(&[
            "account",
            "add",
            "bob@fastmail.com",
            "--oauth2",
            "--yes",
            "--no-check",
        ])
        .fails_with(64);
    assert!(
        err.contains("mailer has no OAuth2 preset for fastmail.com"),
        "{err}"
    );
}

/// `check` waits on the network no more than its steps need: one connection per server,
/// and at most one round trip per step (tls, greeting, auth, and the operation) beyond
/// the protocol's own: TLS 1.3's two flights, then LOGIN and STATUS for IMAP; EHLO,
/// AUTH, MAIL, RSET and QUIT for SMTP. Counted through a proxy, so the figures are
/// exact. (The proxy does not count the client's last flight: IMAP's LOGOUT, and the
/// TLS close that follows SMTP's QUIT.)
#[test]
fn check_makes_one_connection_per_server_and_few_round_trips() {
    let stack = stack();
    let imap = RoundTrips::to(stack.port("IMAPS_PORT"));
    let smtp = RoundTrips::to(stack.port("SUBMISSIONS_PORT"));
    let setup = Account::new("carol")
        .smtp(stack, "SUBMISSIONS_PORT")
        .server_key("port", smtp.port())
        .imap(stack, "IMAPS_PORT")
        .server_key("port", imap.port())
        .build();
    let run = setup.mailer(&["check"]).run();
    run.ok();
    // IMAP: the handshake's two flights, LOGIN (whose OK says what the server offers,
    // so no CAPABILITY), ID with STATUS (ID's reply not waited for).
    let imap = imap.of_connections(1)[0];
    assert!(imap <= 4 + 4, "{imap} round trips");
    assert_eq!(imap, 4, "IMAP round trips of check");
    // SMTP: the handshake's two, EHLO, AUTH, then MAIL FROM and RSET pipelined; QUIT
    // is not waited for.
    let smtp = smtp.of_connections(1)[0];
    assert!(smtp <= 7 + 4, "{smtp} round trips");
    assert_eq!(smtp, 5, "SMTP round trips of check");
}
