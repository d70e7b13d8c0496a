//! Unit tests of the parent module.

use super::*;

#[test]
fn command_first_line() {
    let p = SecretSource::Command("printf 's3cret\\nignored\\n'".into())
        .read()
        .unwrap();
    assert_eq!(p.expose(), "s3cret");
    assert_eq!(format!("{p:?}"), "Password(<redacted>)");
}

#[test]
fn failing_command_says_why_without_output() {
    let err = SecretSource::Command("echo s3cret; echo nope >&2; exit 3".into())
        .read()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("exit status 3") && err.contains("nope"),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "{err}");
}

#[test]
fn missing_env_var_is_named() {
    let err = SecretSource::Env("MAILER_TEST_SURELY_UNSET".into())
        .read()
        .unwrap_err()
        .to_string();
    assert!(err.contains("MAILER_TEST_SURELY_UNSET"), "{err}");
}
