//! Unit tests of the parent module.

use super::*;

const BOUND: Duration = Duration::from_secs(10);

/// What reading `source` fails with, as a user would read it.
async fn error_of(source: SecretSource, bound: Duration) -> String {
    source.read(bound).await.unwrap_err().to_string()
}

#[tokio::test]
async fn command_first_line() {
    let p = SecretSource::Command("printf 's3cret\\nignored\\n'".into())
        .read(BOUND)
        .await
        .unwrap();
    assert_eq!(p.expose(), "s3cret");
    assert_eq!(format!("{p:?}"), "Password(<redacted>)");
}

#[tokio::test]
async fn failing_command_says_why_without_output() {
    let err = error_of(
        SecretSource::Command("echo s3cret; echo nope >&2; exit 3".into()),
        BOUND,
    )
    .await;
    assert!(
        err.contains("exit status 3") && err.contains("nope"),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "{err}");
}

#[tokio::test]
async fn missing_env_var_is_named() {
    let err = error_of(SecretSource::Env("MAILER_TEST_SURELY_UNSET".into()), BOUND).await;
    assert!(err.contains("MAILER_TEST_SURELY_UNSET"), "{err}");
}

#[tokio::test]
async fn a_command_that_hangs_is_stopped_at_the_bound() {
    let started = std::time::Instant::now();
    let err = error_of(
        SecretSource::Command("sleep 30".into()),
        Duration::from_secs(1),
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(10), "{err}");
    assert!(err.contains("\"sleep 30\"") && err.contains("1 s"), "{err}");
}
