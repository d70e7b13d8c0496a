//! The OS keyring (Secret Service on Linux, Keychain on macOS, Credential Manager on
//! Windows) through the `keyring` crate. Its calls block on the platform's service (and
//! a locked keyring may wait for an unlock prompt), so each runs off the async executor
//! and is bounded by a timeout; a keyring that cannot be reached is told apart from an
//! entry that is not there, because cron and SSH sessions usually reach none.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No keyring service answered (no D-Bus session under cron, a locked keychain).
    #[error("no keyring reachable ({0})")]
    Unreachable(String),
    #[error("the keyring failed: {0}")]
    Failed(String),
    #[error("the keyring gave no answer within {0} s")]
    Timeout(u64),
}

/// The secret stored for `service` and `user`; None when there is none.
pub async fn get(service: &str, user: &str, timeout: Duration) -> Result<Option<String>, Error> {
    let (service, user) = (service.to_string(), user.to_string());
    blocking(timeout, move || {
        match keyring::Entry::new(&service, &user)?.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e),
        }
    })
    .await
}

/// Stores `secret` for `service` and `user`, replacing what was there.
pub async fn set(service: &str, user: &str, secret: &str, timeout: Duration) -> Result<(), Error> {
    let (service, user, secret) = (service.to_string(), user.to_string(), secret.to_string());
    blocking(timeout, move || {
        keyring::Entry::new(&service, &user)?.set_password(&secret)
    })
    .await
}

/// Deletes the secret for `service` and `user`; true when there was one.
pub async fn delete(service: &str, user: &str, timeout: Duration) -> Result<bool, Error> {
    let (service, user) = (service.to_string(), user.to_string());
    blocking(timeout, move || {
        match keyring::Entry::new(&service, &user)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(e),
        }
    })
    .await
}

async fn blocking<T: Send + 'static>(
    timeout: Duration,
    call: impl FnOnce() -> keyring::Result<T> + Send + 'static,
) -> Result<T, Error> {
    let task = tokio::task::spawn_blocking(call);
    match tokio::time::timeout(timeout, task).await {
        Err(_) => Err(Error::Timeout(timeout.as_secs())),
        Ok(Err(e)) => Err(Error::Failed(format!(
            "the keyring call did not finish: {e}"
        ))),
        Ok(Ok(result)) => result.map_err(classify),
    }
}

fn classify(e: keyring::Error) -> Error {
    let text = crate::error::one_line(&e.to_string());
    match e {
        keyring::Error::PlatformFailure(_) | keyring::Error::NoStorageAccess(_) => {
            Error::Unreachable(text)
        }
        _ => Error::Failed(text),
    }
}
