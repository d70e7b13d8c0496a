//! OAuth2 bearer tokens for the mail protocols: from a helper command, or from mailer's
//! own login (kept in the token store, refreshed before it expires and once more when a
//! server refuses it). Signing in is in [`login`]; the HTTP exchanges in [`client`].

pub mod client;
mod error;
mod http;
pub mod login;

pub use error::Error;

use std::time::Duration;

use crate::config::{self, Login, Server, Token, TokenSource};
use crate::sasl::Mechanism;
use crate::store::{lock, tokens};

/// A token is refreshed when it has less than this left, so that it cannot expire
/// between being read and being used.
const MARGIN_SECS: i64 = 60;

/// A bearer token for `server`, now.
pub async fn token(server: &Server) -> Result<Token, Error> {
    match &server.token {
        None => Err(config::Error::Secret {
            key: server.key.clone(),
            source: config::SecretError::NoToken,
        }
        .into()),
        Some(TokenSource::Command(command)) => config::run_token_command(command, server.timeout)
            .await
            .map_err(|source| {
                let key = server.key.clone();
                config::Error::Secret { key, source }.into()
            }),
        Some(TokenSource::Login(login)) => current(login, server.timeout, None).await,
    }
}

/// Logs in to `server` with `open`, which gets the token when the server's `auth` is a
/// bearer-token mechanism, and `opened`, a connection made beforehand (`mailer check`),
/// on its first call only. When the server refuses a token of mailer's own login, the
/// token is refreshed and `open` runs once more, connecting anew; a helper's token gets
/// no second try.
pub async fn with_token<T, E, C>(
    server: &Server,
    opened: Option<C>,
    refused: impl Fn(&E) -> bool,
    open: impl AsyncFn(Option<&Token>, Option<C>) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<Error>,
{
    if Mechanism::of(server.auth).is_none() {
        return open(None, opened).await;
    }
    let first = token(server).await?;
    match open(Some(&first), opened).await {
        Err(e) if refused(&e) => match &server.token {
            Some(TokenSource::Login(login)) => {
                tracing::info!("{}: token refused; refreshing it once", server.address());
                let used = first.access.expose();
                let fresh = current(login, server.timeout, Some(used)).await?;
                open(Some(&fresh), None).await
            }
            _ => Err(e),
        },
        other => other,
    }
}

/// The login's access token, refreshed when it is about to expire or is `refused`.
async fn current(login: &Login, timeout: Duration, refused: Option<&str>) -> Result<Token, Error> {
    if let Some(why) = login.unusable() {
        return Err(config::Error::Invalid(why).into());
    }
    let path = tokens::path(&login.account)?;
    let stored = stored_for(login, &path, timeout).await?;
    if usable(&stored, refused) {
        return Ok(as_token(&stored));
    }
    // Another run may be refreshing: wait for it, then use what it stored.
    let _lock = lock::acquire(&tokens::lock_path(&login.account)?, timeout).await?;
    let stored = stored_for(login, &path, timeout).await?;
    if usable(&stored, refused) {
        return Ok(as_token(&stored));
    }
    let fresh = client::refresh(login, &stored, timeout).await?;
    tokens::save_in(&path, &login.account, &fresh, stored.in_keyring, timeout).await?;
    tracing::debug!("refreshed the access token of account {}", login.account);
    Ok(as_token(&fresh))
}

/// The stored login, if it is one for this configuration.
async fn stored_for(
    login: &Login,
    path: &std::path::Path,
    timeout: Duration,
) -> Result<tokens::Stored, Error> {
    let no_login = || Error::NoLogin {
        account: login.account.clone(),
    };
    let stored = tokens::load(path, &login.account, timeout)
        .await?
        .ok_or_else(no_login)?;
    if stored.client_id != login.client_id || stored.token_url != login.token_url {
        return Err(Error::Ended {
            account: login.account.clone(),
            why: "client_id or token_url changed since".into(),
        });
    }
    Ok(stored)
}

fn usable(stored: &tokens::Stored, refused: Option<&str>) -> bool {
    let now = crate::date::unix_now();
    refused != Some(stored.access_token.as_str())
        && stored.expires_at.is_none_or(|at| at > now + MARGIN_SECS)
}

fn as_token(stored: &tokens::Stored) -> Token {
    Token {
        access: stored.access_token.clone().into(),
        expires_at: stored.expires_at,
    }
}
