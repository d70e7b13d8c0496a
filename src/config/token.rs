//! Where an account's bearer tokens come from, resolved from its `[oauth2]` section.

use std::sync::Arc;

use serde::Deserialize;

/// Providers whose endpoints, scopes and SASL mechanism mailer knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Google,
    Microsoft,
}

impl Provider {
    pub fn name(self) -> &'static str {
        match self {
            Provider::Google => "google",
            Provider::Microsoft => "microsoft",
        }
    }
}

/// How mailer signs in by itself: an OAuth2 client of the user's own registration.
#[derive(Debug, Clone)]
pub struct Login {
    /// The account the tokens belong to; they are stored under its name.
    pub account: String,
    /// `accounts.NAME.oauth2`, for messages about the section.
    pub key: String,
    pub provider: Option<Provider>,
    pub client_id: String,
    /// A command printing the client secret, for providers that give installed apps one.
    pub client_secret_command: Option<String>,
    pub auth_url: String,
    pub token_url: String,
    pub device_auth_url: Option<String>,
    pub revoke_url: Option<String>,
    pub scopes: Vec<String>,
}

impl Login {
    /// Why this login cannot be used yet, if it cannot: a preset written without the
    /// client id of the user's own app registration.
    pub fn unusable(&self) -> Option<String> {
        self.client_id.is_empty().then(|| {
            format!(
                "{}.client_id is not set: register an app with the provider and put its client id there (see docs/oauth2.md)",
                self.key
            )
        })
    }
}

/// Where bearer tokens come from.
#[derive(Debug, Clone)]
pub enum TokenSource {
    /// A helper (pizauth, oama, a script) that prints a current access token.
    Command(String),
    /// mailer's own login; tokens kept in mailer's token store.
    Login(Arc<Login>),
}
