//! Unit tests of the parent module.

use super::*;

fn parse_str(text: &str) -> Result<super::super::Config, Error> {
    super::super::Config::parse(Path::new("config.toml"), text, true)
}

/// The error a config file with `text` gives, as a user reads it.
fn error_of(text: &str) -> String {
    parse_str(text).unwrap_err().to_string()
}

#[test]
fn applies_defaults_and_inheritance() {
    let cfg = parse_str(
        r#"
[accounts.personal]
email = "alice@example.org"
password_command = "pass show mail"
[accounts.personal.smtp]
host = "smtp.example.org"
security = "starttls"
[accounts.personal.imap]
host = "imap.example.org"
user = "alice"
password_env = "IMAP_PW"
"#,
    )
    .unwrap();
    let acc = cfg.account(None).unwrap();
    let smtp = acc.smtp.as_ref().unwrap();
    assert_eq!(smtp.port, 587);
    assert_eq!(smtp.user, "alice@example.org");
    assert!(matches!(smtp.secret, Some(SecretSource::Command(_))));
    let imap = acc.imap().unwrap();
    assert_eq!((imap.port, imap.user.as_str()), (993, "alice"));
    assert!(matches!(imap.secret, Some(SecretSource::Env(_))));
    assert_eq!(smtp.timeout, Duration::from_secs(30));
}

#[test]
fn sent_copy_and_watch_keys_are_read_and_checked() {
    let text = "[accounts.a]\nemail = \"a@example.org\"\nsave_sent = false\nsent_mailbox = \"Sent Items\"\npoll_secs = 120\n";
    let cfg = parse_str(text).unwrap();
    let a = cfg.account(None).unwrap();
    assert_eq!(a.save_sent, Some(false));
    assert_eq!(a.sent_mailbox.as_deref(), Some("Sent Items"));
    assert_eq!(a.poll_secs, Some(120));
    let err = error_of("[accounts.a]\nemail = \"a@example.org\"\npoll_secs = 0\n");
    assert!(
        err.starts_with("config.toml:3:13: accounts.a.poll_secs: must be at least 1"),
        "{err}"
    );
    let err = error_of("[accounts.a]\nemail = \"a@example.org\"\nsent_mailbox = \" \"\n");
    assert!(err.contains("accounts.a.sent_mailbox: is empty"), "{err}");
}

#[test]
fn unknown_key_names_line_and_key() {
    let err =
        error_of("[accounts.a]\nemail = \"a@example.org\"\n[accounts.a.smtp]\nhots = \"x\"\n");
    assert!(err.starts_with("config.toml:4:1: accounts.a.smtp"), "{err}");
    assert!(err.contains("hots"), "{err}");
}

#[test]
fn wrong_type_names_line_and_key() {
    let err = error_of(
        "[accounts.a]\nemail = \"a@example.org\"\n[accounts.a.smtp]\nhost = \"h\"\nport = \"x\"\n",
    );
    assert!(
        err.starts_with("config.toml:5:8: accounts.a.smtp.port"),
        "{err}"
    );
}

#[test]
fn missing_required_key_is_named() {
    let err = error_of("[accounts.a]\nemail = \"a@example.org\"\n[accounts.a.smtp]\nport = 25\n");
    assert!(
        err.contains("accounts.a.smtp") && err.contains("host"),
        "{err}"
    );
}

#[test]
fn plain_password_needs_private_file() {
    let text = "[accounts.a]\nemail = \"a@example.org\"\npassword = \"hunter2\"\n";
    let err = super::super::Config::parse(Path::new("c.toml"), text, false)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("c.toml:3:12: accounts.a.password"), "{err}");
    assert!(err.contains("chmod 600"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    assert!(super::super::Config::parse(Path::new("c.toml"), text, true).is_ok());
}

#[test]
fn default_account_must_exist() {
    let err = error_of("default_account = \"b\"\n[accounts.a]\nemail = \"a@example.org\"\n");
    assert!(
        err.starts_with("config.toml:1:19: default_account"),
        "{err}"
    );
}

#[test]
fn several_accounts_need_a_choice() {
    let cfg = parse_str(
        "[accounts.a]\nemail = \"a@example.org\"\n[accounts.b]\nemail = \"b@example.org\"\n",
    )
    .unwrap();
    assert!(cfg.account(None).is_err());
    assert_eq!(
        cfg.account(Some("b")).unwrap().email.to_string(),
        "b@example.org"
    );
    assert!(
        cfg.account(Some("c"))
            .unwrap_err()
            .to_string()
            .contains("a, b")
    );
}

#[test]
fn line_col_counts_characters() {
    assert_eq!(line_col("ab\n周报x", 9), (2, 3));
}

mod fuzz {
    use proptest::prelude::*;

    use super::*;

    const VALID: &str = "default_account = \"a\"\n[accounts.a]\nemail = \"a@example.org\"\npassword_command = \"pass show a\"\nmaildir = \"~/Mail\"\n[accounts.a.smtp]\nhost = \"smtp.example.org\"\nport = 587\nsecurity = \"starttls\"\n[accounts.a.imap]\nhost = \"imap.example.org\"\ntimeout_secs = 10\n";

    proptest! {
        /// Any text is a config or a one-line error naming the file, never a panic.
        #[test]
        fn fuzz_any_text_is_a_config_or_an_error(text in "\\PC{0,400}") {
            if let Err(e) = parse_str(&text) {
                prop_assert!(e.to_string().starts_with("config.toml"), "{}", e);
            }
        }

        /// A valid file with a few bytes changed still gives a config or an error that
        /// points into the file.
        #[test]
        fn fuzz_a_damaged_config_is_reported_not_a_crash(
            edits in proptest::collection::vec((0usize..400, any::<char>()), 1..6)
        ) {
            let mut chars: Vec<char> = VALID.chars().collect();
            for (at, c) in edits {
                let at = at % (chars.len() + 1);
                chars.insert(at, c);
            }
            let text: String = chars.into_iter().collect();
            if let Err(e) = parse_str(&text) {
                prop_assert!(e.to_string().starts_with("config.toml"), "{}", e);
            }
        }
    }
}

const OAUTH_ACCOUNT: &str = r#"
[accounts.work]
email = "alice@example.com"
[accounts.work.imap]
host = "outlook.office365.com"
[accounts.work.oauth2]
"#;

fn login_of(cfg: &super::super::Config) -> std::sync::Arc<super::super::Login> {
    match &cfg.accounts()[0].token {
        Some(TokenSource::Login(login)) => login.clone(),
        other => panic!("not an own login: {other:?}"),
    }
}

#[test]
fn a_provider_preset_fills_endpoints_scopes_and_mechanism() {
    let cfg = parse_str(&format!(
        "{OAUTH_ACCOUNT}provider = \"microsoft\"\nclient_id = \"abc\"\ntenant = \"contoso.onmicrosoft.com\"\n"
    ))
    .unwrap();
    let login = login_of(&cfg);
    assert_eq!(
        login.token_url,
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    );
    assert!(
        login
            .device_auth_url
            .as_deref()
            .unwrap()
            .ends_with("/devicecode")
    );
    assert!(login.scopes.iter().any(|s| s == "offline_access"));
    assert_eq!(cfg.accounts()[0].imap().unwrap().auth, Auth::Xoauth2);
}

#[test]
fn explicit_endpoints_and_scopes_replace_the_preset() {
    let cfg = parse_str(&format!(
        "{OAUTH_ACCOUNT}client_id = \"abc\"\nauth_url = \"http://127.0.0.1:9/auth\"\ntoken_url = \"https://id.example.com/token\"\nscopes = [\"mail\"]\n"
    ).replace("[accounts.work.imap]", "auth = \"oauthbearer\"\n[accounts.work.imap]"))
    .unwrap();
    let login = login_of(&cfg);
    assert_eq!(login.scopes, ["mail"]);
    assert_eq!(login.device_auth_url, None);
    assert_eq!(cfg.accounts()[0].imap().unwrap().auth, Auth::Oauthbearer);
}

#[test]
fn wrong_oauth2_combinations_name_the_key_and_line() {
    let cases = [
        (
            "token_command = \"helper\"\nclient_id = \"abc\"\n",
            "config.toml:8:13: accounts.work.oauth2.client_id: token_command and client_id exclude each other",
        ),
        (
            "provider = \"google\"\nclient_id = \"abc\"\n",
            "config.toml:8:13: accounts.work.oauth2.client_secret_command: provider = \"google\" needs client_secret_command",
        ),
        (
            "provider = \"google\"\nclient_id = \"abc\"\nclient_secret_command = \"x\"\ntenant = \"common\"\n",
            "config.toml:10:10: accounts.work.oauth2.tenant: applies only to provider = \"microsoft\"",
        ),
        (
            "client_id = \"abc\"\n",
            "config.toml:7:13: accounts.work.oauth2: needs provider = \"google\" or \"microsoft\", or both auth_url and token_url",
        ),
        (
            "provider = \"microsoft\"\nclient_id = \"abc\"\ntoken_url = \"http://id.example.com/token\"\n",
            "config.toml:9:13: accounts.work.oauth2.token_url: must be an https:// URL",
        ),
        (
            "provider = \"microsoft\"\ntoken_command = \"helper\"\n",
            "config.toml:7:12: accounts.work.oauth2.provider: needs client_id",
        ),
    ];
    for (section, expected) in cases {
        let err = error_of(&format!("{OAUTH_ACCOUNT}{section}"));
        assert!(err.starts_with(expected), "{section}\n got: {err}");
    }
}

#[test]
fn an_empty_oauth2_section_says_what_it_needs() {
    let err = error_of(&format!("{OAUTH_ACCOUNT}\n").replace(
        "[accounts.work.imap]",
        "auth = \"xoauth2\"\n[accounts.work.imap]",
    ));
    assert!(
        err.contains(
            "accounts.work.oauth2: needs token_command (a helper that prints a token) or client_id"
        ),
        "{err}"
    );
}
