//! The OAuth2 exchanges with the authorization server (oauth2's client over [`Http`]):
//! refreshing, revoking, and turning an answer into what the token store keeps.

use std::time::Duration;

use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    ClientId, ClientSecret, EndpointMaybeSet, EndpointNotSet, ErrorResponse, RefreshToken,
    RequestTokenError, TokenResponse,
};

use super::error::Error;
use super::http::{Http, HttpError};
use crate::config::{self, Login, Password};
use crate::store::tokens::Stored;

/// oauth2's client with every endpoint optional, so one type serves every flow.
pub type Client = BasicClient<
    EndpointMaybeSet,
    EndpointMaybeSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
>;

/// The client for `login`, with its secret when it has one (read now).
pub async fn build(login: &Login, timeout: Duration) -> Result<Client, Error> {
    let url = |u: &str| oauth2::url::Url::parse(u).ok();
    let mut client = BasicClient::new(ClientId::new(login.client_id.clone()))
        .set_auth_uri_option(url(&login.auth_url).map(oauth2::AuthUrl::from_url))
        .set_token_uri_option(url(&login.token_url).map(oauth2::TokenUrl::from_url))
        .set_device_authorization_url_option(
            login
                .device_auth_url
                .as_deref()
                .and_then(url)
                .map(oauth2::DeviceAuthorizationUrl::from_url),
        );
    if let Some(secret) = client_secret(login, timeout).await? {
        client = client.set_client_secret(ClientSecret::new(secret.expose().to_string()));
    }
    Ok(client)
}

/// The client secret, read now from its command, when the login has one.
async fn client_secret(login: &Login, timeout: Duration) -> Result<Option<Password>, Error> {
    let Some(command) = &login.client_secret_command else {
        return Ok(None);
    };
    config::run_secret_command("client_secret_command", command, timeout)
        .await
        .map(Some)
        .map_err(|source| {
            let key = login.key.clone();
            config::Error::Secret { key, source }.into()
        })
}

pub fn http(timeout: Duration) -> Result<Http, Error> {
    Http::new(timeout).map_err(|e| Error::Broken {
        url: "HTTP client".into(),
        why: crate::error::chain(&e),
    })
}

/// New tokens for a stored login. A refresh token the server no longer takes ends
/// the login: only the user, in a browser, can start a new one.
pub async fn refresh(login: &Login, stored: &Stored, timeout: Duration) -> Result<Stored, Error> {
    let Some(refresh) = &stored.refresh_token else {
        return Err(Error::Ended {
            account: login.account.clone(),
            why: "the access token expired and the server gave no refresh token".into(),
        });
    };
    let client = build(login, timeout).await?;
    let http = http(timeout)?;
    let call = |request| http.call(request);
    let refresh = RefreshToken::new(refresh.clone());
    let answer = client
        .exchange_refresh_token(&refresh)
        .map_err(|e| Error::Login(e.to_string()))?
        .request_async(&call)
        .await;
    match answer {
        Ok(answer) => Ok(stored_from(login, &answer, Some(stored))),
        Err(RequestTokenError::ServerResponse(r))
            if matches!(r.error(), BasicErrorResponseType::InvalidClient) =>
        {
            Err(client_refused(
                login,
                "invalid_client",
                r.error_description(),
            ))
        }
        Err(RequestTokenError::ServerResponse(r)) => Err(Error::Ended {
            account: login.account.clone(),
            why: reason(r.error().as_ref(), r.error_description()),
        }),
        Err(e) => Err(request_failed(&login.token_url, e)),
    }
}

/// What the store keeps from a token answer; a refresh that brings no new refresh
/// token keeps the old one (most servers do not rotate it).
pub fn stored_from(
    login: &Login,
    answer: &oauth2::basic::BasicTokenResponse,
    before: Option<&Stored>,
) -> Stored {
    let now = crate::date::unix_now();
    let scopes = match answer.scopes() {
        Some(s) => s.iter().map(|s| s.as_str().to_string()).collect(),
        None => before.map_or_else(|| login.scopes.clone(), |b| b.scopes.clone()),
    };
    Stored {
        access_token: answer.access_token().secret().clone(),
        expires_at: answer
            .expires_in()
            // However large the server's number, no overflow: ten years at most.
            .map(|d| now.saturating_add(d.as_secs().min(10 * 365 * 86_400) as i64)),
        refresh_token: answer
            .refresh_token()
            .map(|r| r.secret().clone())
            .or_else(|| before.and_then(|b| b.refresh_token.clone())),
        scopes,
        client_id: login.client_id.clone(),
        token_url: login.token_url.clone(),
        signed_in_at: before.map_or(now, |b| b.signed_in_at),
        in_keyring: false,
    }
}

/// Revokes the refresh token where the provider offers revocation (RFC 7009); false
/// when it does not. One form POST, written here because oauth2 refuses a revocation
/// endpoint that is not HTTPS even on loopback, where the tests' server is.
pub async fn revoke(login: &Login, stored: &Stored, timeout: Duration) -> Result<bool, Error> {
    let Some(url) = &login.revoke_url else {
        return Ok(false);
    };
    let (token, hint) = match &stored.refresh_token {
        Some(r) => (r.as_str(), "refresh_token"),
        None => (stored.access_token.as_str(), "access_token"),
    };
    let secret = client_secret(login, timeout).await?;
    let mut form = oauth2::url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("token", token)
        .append_pair("token_type_hint", hint);
    if secret.is_none() {
        form.append_pair("client_id", &login.client_id);
    }
    let mut request = oauth2::http::Request::builder()
        .method("POST")
        .uri(url.as_str())
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json");
    if let Some(secret) = &secret {
        use base64::Engine;
        let enc = |s: &str| {
            oauth2::url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
        };
        let pair = format!("{}:{}", enc(&login.client_id), enc(secret.expose()));
        let basic = base64::engine::general_purpose::STANDARD.encode(pair);
        request = request.header("authorization", format!("Basic {basic}"));
    }
    let request = request
        .body(form.finish().into_bytes())
        .map_err(|e| Error::Login(e.to_string()))?;
    let answer = http(timeout)?.call(request).await;
    let answer = answer.map_err(|e| {
        request_failed::<oauth2::basic::BasicErrorResponse>(url, RequestTokenError::Request(e))
    })?;
    if answer.status().is_success() {
        return Ok(true);
    }
    let body: serde_json::Value = serde_json::from_slice(answer.body()).unwrap_or_default();
    let error = body["error"].as_str().unwrap_or("").to_string();
    let description = body["error_description"].as_str().map(str::to_string);
    let error = match error.is_empty() {
        true => format!("HTTP {}", answer.status()),
        false => error,
    };
    Err(Error::Broken {
        url: url.clone(),
        why: reason(&error, description.as_ref()),
    })
}

/// The server does not know the client, or its secret is wrong: the user's app
/// registration or config needs fixing, not the login.
pub fn client_refused(login: &Login, error: &str, description: Option<&String>) -> Error {
    Error::Client {
        url: login.token_url.clone(),
        why: reason(error, description),
        key: login.key.clone(),
    }
}

/// `invalid_grant: the description`, as the server put it (one line, bounded).
pub fn reason(error: &str, description: Option<&String>) -> String {
    let text = match description {
        Some(d) if !d.trim().is_empty() => format!("{error}: {}", d.trim()),
        _ => error.to_string(),
    };
    let text = crate::error::one_line(&text);
    match text.char_indices().nth(300) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text,
    }
}

/// A request that got no OAuth2 answer: the network (worth a retry) or a server that
/// does not speak OAuth2 there.
pub fn request_failed<T: ErrorResponse>(url: &str, e: RequestTokenError<HttpError, T>) -> Error {
    let url = url.to_string();
    match e {
        RequestTokenError::Request(HttpError::Send(e)) => Error::Unreachable {
            url,
            why: crate::error::chain(&e),
        },
        RequestTokenError::Request(e) => Error::Broken {
            url,
            why: e.to_string(),
        },
        RequestTokenError::Parse(e, _) => Error::Broken {
            url,
            why: format!("the answer is not an OAuth2 token answer ({e})"),
        },
        RequestTokenError::ServerResponse(_) => Error::Broken {
            url,
            why: "the server refused the request".into(),
        },
        RequestTokenError::Other(why) => Error::Broken { url, why },
    }
}
