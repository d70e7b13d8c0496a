//! Signing in: the authorization-code flow with PKCE and a loopback redirect (RFC 8252,
//! RFC 7636), and the device flow for a machine without a browser (RFC 8628).

use std::time::Duration;

use oauth2::basic::BasicTokenResponse;
use oauth2::{
    AuthorizationCode, CsrfToken, PkceCodeChallenge, RedirectUrl, RequestTokenError, Scope,
    StandardDeviceAuthorizationResponse,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::client::{self, reason, request_failed};
use super::error::Error;
use crate::config::{Login, Provider};
use crate::store::tokens::Stored;

/// What the user is asked to do while the flow waits.
pub enum Prompt {
    /// Open this address in a browser on this machine.
    Open(String),
    /// On any device, open `uri` and enter `code` (or open `complete`, which holds both).
    Device {
        uri: String,
        code: String,
        complete: Option<String>,
    },
}

/// Bound on one request to the loopback listener: a browser sends its request at once.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest polling interval of the device flow mailer accepts.
const MAX_INTERVAL: Duration = Duration::from_secs(60);
/// Bound on the request's head; a redirect's is well under 8 KiB.
const MAX_REQUEST: usize = 16 * 1024;

/// The authorization-code flow: the user signs in in a browser, which is sent back to
/// a listener of ours on 127.0.0.1 with the code; `wait` bounds the whole sign-in.
pub async fn browser(
    login: &Login,
    timeout: Duration,
    wait: Duration,
    prompt: impl Fn(Prompt),
) -> Result<Stored, Error> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| Error::Login(format!("cannot listen on 127.0.0.1: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::Login(e.to_string()))?
        .port();
    let redirect = RedirectUrl::new(format!("http://127.0.0.1:{port}/"))
        .map_err(|e| Error::Login(e.to_string()))?;
    let client = client::build(login, timeout)
        .await?
        .set_redirect_uri(redirect);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .map_err(|e| Error::Login(e.to_string()))?
        .add_scopes(scopes(login))
        .set_pkce_challenge(challenge);
    if login.provider == Some(Provider::Google) {
        // Without these Google gives no refresh token, and unattended runs would stop
        // working an hour after the login.
        request = request
            .add_extra_param("access_type", "offline")
            .add_extra_param("prompt", "consent");
    }
    let (url, state) = request.url();
    prompt(Prompt::Open(url.to_string()));
    let code = tokio::time::timeout(wait, receive_code(&listener, state.secret()))
        .await
        .map_err(|_| Error::Login(format!("no sign-in within {} s", wait.as_secs())))??;
    let http = client::http(timeout)?;
    let call = |request| http.call(request);
    let answer = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| Error::Login(e.to_string()))?
        .set_pkce_verifier(verifier)
        .request_async(&call)
        .await;
    token_answer(login, answer)
}

/// The device flow: the user approves on another device while mailer polls.
pub async fn device(
    login: &Login,
    timeout: Duration,
    wait: Duration,
    prompt: impl Fn(Prompt),
) -> Result<Stored, Error> {
    let Some(url) = &login.device_auth_url else {
        return Err(Error::Login(format!(
            "[{}] has no device_auth_url: sign in with --browser, or set it",
            login.key
        )));
    };
    let client = client::build(login, timeout).await?;
    let http = client::http(timeout)?;
    let call = |request| http.call(request);
    let details: StandardDeviceAuthorizationResponse = client
        .exchange_device_code()
        .map_err(|e| Error::Login(e.to_string()))?
        .add_scopes(scopes(login))
        .request_async(&call)
        .await
        .map_err(|e| match e {
            RequestTokenError::ServerResponse(r) => Error::Login(format!(
                "{url} refused the device sign-in: {}",
                reason(r.error().as_ref(), r.error_description())
            )),
            e => request_failed(url, e),
        })?;
    prompt(Prompt::Device {
        uri: details.verification_uri().to_string(),
        code: details.user_code().secret().clone(),
        complete: details
            .verification_uri_complete()
            .map(|c| c.secret().clone()),
    });
    // The server chooses the polling interval: a hostile one could make it a day, or
    // so large that oauth2's own arithmetic on it overflows.
    if details.interval() > MAX_INTERVAL {
        return Err(Error::Login(format!(
            "{url} asks to be polled every {} s; mailer polls at least every {} s",
            details.interval().as_secs(),
            MAX_INTERVAL.as_secs()
        )));
    }
    let sleep = |d: Duration| tokio::time::sleep(d.min(MAX_INTERVAL));
    let polling = client
        .exchange_device_access_token(&details)
        .map_err(|e| Error::Login(e.to_string()))?
        .request_async(&call, sleep, Some(wait));
    let answer = tokio::time::timeout(wait, polling)
        .await
        .map_err(|_| Error::Login(format!("no sign-in within {} s", wait.as_secs())))?;
    match answer {
        Ok(answer) => Ok(client::stored_from(login, &answer, None)),
        Err(RequestTokenError::ServerResponse(r)) => Err(Error::Login(format!(
            "the device sign-in did not complete: {}",
            reason(r.error().as_ref(), r.error_description())
        ))),
        Err(e) => Err(request_failed(&login.token_url, e)),
    }
}

fn scopes(login: &Login) -> Vec<Scope> {
    login.scopes.iter().cloned().map(Scope::new).collect()
}

fn token_answer(
    login: &Login,
    answer: Result<
        BasicTokenResponse,
        RequestTokenError<super::http::HttpError, oauth2::basic::BasicErrorResponse>,
    >,
) -> Result<Stored, Error> {
    match answer {
        Ok(answer) => Ok(client::stored_from(login, &answer, None)),
        Err(RequestTokenError::ServerResponse(r)) => {
            let error = r.error().to_string();
            match error.as_str() {
                "invalid_client" | "unauthorized_client" => {
                    Err(client::client_refused(login, &error, r.error_description()))
                }
                _ => Err(Error::Login(format!(
                    "{} refused the code: {}",
                    login.token_url,
                    reason(&error, r.error_description())
                ))),
            }
        }
        Err(e) => Err(request_failed(&login.token_url, e)),
    }
}

/// Waits for the browser's redirect carrying the code. Other requests (a favicon, a
/// port scanner) get a 404 and are ignored; an answer with another state, or an
/// error from the provider, ends the flow.
async fn receive_code(listener: &TcpListener, state: &str) -> Result<String, Error> {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let Ok(Ok(target)) =
            tokio::time::timeout(REQUEST_TIMEOUT, request_target(&mut stream)).await
        else {
            continue;
        };
        let Ok(url) = oauth2::url::Url::parse(&format!("http://127.0.0.1{target}")) else {
            respond(&mut stream, "404 Not Found", "Not found.").await;
            continue;
        };
        let get = |key: &str| {
            url.query_pairs()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.into_owned())
        };
        if url.path() != "/" || (get("code").is_none() && get("error").is_none()) {
            respond(&mut stream, "404 Not Found", "Not found.").await;
            continue;
        }
        if get("state").as_deref() != Some(state) {
            respond(
                &mut stream,
                "400 Bad Request",
                "This answer is not for this sign-in.",
            )
            .await;
            return Err(Error::Login(
                "the answer that came back is not for this sign-in (its state differs): try again"
                    .into(),
            ));
        }
        if let Some(error) = get("error") {
            respond(
                &mut stream,
                "200 OK",
                "The sign-in was refused; see the terminal.",
            )
            .await;
            let description = get("error_description");
            return Err(Error::Login(format!(
                "the provider refused: {}",
                reason(&error, description.as_ref())
            )));
        }
        respond(
            &mut stream,
            "200 OK",
            "Signed in to mailer. You can close this window.",
        )
        .await;
        return get("code").ok_or_else(|| Error::Login("no code in the answer".into()));
    }
}

/// The target of an HTTP request's first line (`GET /?code=... HTTP/1.1`).
async fn request_target(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 || head.len() + n > MAX_REQUEST {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let line = text.lines().next().unwrap_or("");
    let mut parts = line.split(' ');
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) if target.starts_with('/') => Ok(target.to_string()),
        _ => Err(std::io::ErrorKind::InvalidData.into()),
    }
}

async fn respond(stream: &mut TcpStream, status: &str, text: &str) {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>mailer</title></head><body><p>{text}</p></body></html>"
    );
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(reply.as_bytes()).await;
    let _ = stream.shutdown().await;
}
