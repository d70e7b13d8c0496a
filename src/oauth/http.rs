//! The HTTP client the OAuth2 exchanges go through: reqwest that never follows a
//! redirect (a token endpoint that redirects is misconfigured, and following it could
//! send the code or the secret elsewhere) and reads at most 1 MiB of any answer.

use std::time::Duration;

use oauth2::{HttpRequest, HttpResponse};

/// Bound on an answer's body: token answers are a few kilobytes.
const MAX_BODY: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{0}")]
    Send(#[source] reqwest::Error),
    #[error("the answer is longer than {} KiB", MAX_BODY / 1024)]
    TooLong,
    #[error("{0}")]
    Build(#[from] oauth2::http::Error),
}

pub struct Http {
    client: reqwest::Client,
}

impl Http {
    pub fn new(timeout: Duration) -> Result<Http, HttpError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .user_agent(concat!("mailer/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(HttpError::Send)?;
        Ok(Http { client })
    }

    /// One request, as oauth2 hands it over.
    pub async fn call(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let request = reqwest::Request::try_from(request).map_err(HttpError::Send)?;
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(HttpError::Send)?;
        let mut builder = oauth2::http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(HttpError::Send)? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(HttpError::TooLong);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(builder.body(body)?)
    }
}
