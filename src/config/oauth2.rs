//! `[accounts.NAME.oauth2]` as written, checked and resolved into a [`TokenSource`]:
//! a helper command, or mailer's own login described by a provider preset or by
//! explicit endpoints.

use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use super::account::Auth;
use super::error::Error;
use super::token::{Login, Provider, TokenSource};

/// Builds an error pointing at a byte offset of the file, for a key.
pub(super) type At<'a> = &'a dyn Fn(usize, &str, &str) -> Error;

/// The section as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileOAuth2 {
    token_command: Option<Spanned<String>>,
    provider: Option<Spanned<Provider>>,
    client_id: Option<Spanned<String>>,
    client_secret_command: Option<Spanned<String>>,
    tenant: Option<Spanned<String>>,
    auth_url: Option<Spanned<String>>,
    token_url: Option<Spanned<String>>,
    device_auth_url: Option<Spanned<String>>,
    revoke_url: Option<Spanned<String>>,
    scopes: Option<Spanned<Vec<String>>>,
}

/// A provider's endpoints and scopes.
struct Preset {
    auth_url: String,
    token_url: String,
    device_auth_url: Option<String>,
    revoke_url: Option<String>,
    scopes: &'static [&'static str],
}

fn preset(provider: Provider, tenant: &str) -> Preset {
    match provider {
        Provider::Google => Preset {
            auth_url: "https://accounts.google.com/o/oauth2/v2/auth".into(),
            token_url: "https://oauth2.googleapis.com/token".into(),
            // Google's device flow does not grant the mail scope; kept so that the
            // refusal comes from Google in its own words.
            device_auth_url: Some("https://oauth2.googleapis.com/device/code".into()),
            revoke_url: Some("https://oauth2.googleapis.com/revoke".into()),
            scopes: &["https://mail.google.com/"],
        },
        Provider::Microsoft => {
            let base = format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0");
            Preset {
                auth_url: format!("{base}/authorize"),
                token_url: format!("{base}/token"),
                device_auth_url: Some(format!("{base}/devicecode")),
                revoke_url: None,
                scopes: &[
                    "offline_access",
                    "https://outlook.office.com/IMAP.AccessAsUser.All",
                    "https://outlook.office.com/POP.AccessAsUser.All",
                    "https://outlook.office.com/SMTP.Send",
                ],
            }
        }
    }
}

impl FileOAuth2 {
    /// The mechanism a preset implies when the account does not name one.
    pub(super) fn default_auth(&self) -> Option<Auth> {
        self.provider.as_ref().map(|_| Auth::Xoauth2)
    }

    /// Checks the section and resolves it into a token source.
    pub(super) fn resolve(
        &self,
        places: At<'_>,
        account: &str,
        key: &str,
        at: usize,
    ) -> Result<TokenSource, Error> {
        let key = format!("{key}.oauth2");
        let nonempty = |v: &Spanned<String>, name: &str| -> Result<String, Error> {
            match v.get_ref().trim() {
                "" => Err(places(v.span().start, &format!("{key}.{name}"), "is empty")),
                s => Ok(s.to_string()),
            }
        };
        match (&self.token_command, &self.client_id) {
            (Some(_), Some(id)) => Err(places(
                id.span().start,
                &format!("{key}.client_id"),
                "token_command and client_id exclude each other: keep token_command for a helper, or client_id for mailer's own login",
            )),
            (Some(cmd), None) => {
                if let Some(p) = &self.provider {
                    let msg = "needs client_id: a provider preset is for mailer's own login, not token_command";
                    return Err(places(p.span().start, &format!("{key}.provider"), msg));
                }
                Ok(TokenSource::Command(nonempty(cmd, "token_command")?))
            }
            (None, Some(id)) => {
                let client_id = nonempty(id, "client_id")?;
                let login = self.login(places, account, &key, client_id)?;
                Ok(TokenSource::Login(Arc::new(login)))
            }
            // A preset without a client id yet (as `account add` writes it): valid, and
            // `auth login` says what to set.
            (None, None) if self.provider.is_some() => {
                let login = self.login(places, account, &key, String::new())?;
                Ok(TokenSource::Login(Arc::new(login)))
            }
            (None, None) => Err(places(
                at,
                &key,
                "needs token_command (a helper that prints a token) or client_id (mailer's own login, see docs/oauth2.md)",
            )),
        }
    }

    fn login(
        &self,
        places: At<'_>,
        account: &str,
        key: &str,
        client_id: String,
    ) -> Result<Login, Error> {
        let provider = self.provider.as_ref().map(|p| *p.get_ref());
        let tenant = match (&self.tenant, provider) {
            (Some(t), Some(Provider::Microsoft)) => t.get_ref().trim().to_string(),
            (Some(t), _) => {
                let msg = "applies only to provider = \"microsoft\"";
                return Err(places(t.span().start, &format!("{key}.tenant"), msg));
            }
            (None, _) => "common".to_string(),
        };
        let preset = provider.map(|p| preset(p, &tenant));
        let url = |v: &Option<Spanned<String>>, name: &str, fallback: Option<String>| match v {
            Some(v) => check_url(places, v, &format!("{key}.{name}")).map(Some),
            None => Ok(fallback),
        };
        let auth_url = url(
            &self.auth_url,
            "auth_url",
            preset.as_ref().map(|p| p.auth_url.clone()),
        )?;
        let token_url = url(
            &self.token_url,
            "token_url",
            preset.as_ref().map(|p| p.token_url.clone()),
        )?;
        let device = preset.as_ref().and_then(|p| p.device_auth_url.clone());
        let revoke = preset.as_ref().and_then(|p| p.revoke_url.clone());
        let (Some(auth_url), Some(token_url)) = (auth_url, token_url) else {
            let at = self.client_id.as_ref().map_or(0, |c| c.span().start);
            let msg =
                "needs provider = \"google\" or \"microsoft\", or both auth_url and token_url";
            return Err(places(at, key, msg));
        };
        let scopes = self.scopes(places, key, preset.as_ref())?;
        let client_secret_command = self.client_secret(places, key, provider)?;
        Ok(Login {
            account: account.to_string(),
            key: key.to_string(),
            provider,
            client_id,
            client_secret_command,
            auth_url,
            token_url,
            device_auth_url: url(&self.device_auth_url, "device_auth_url", device)?,
            revoke_url: url(&self.revoke_url, "revoke_url", revoke)?,
            scopes,
        })
    }

    /// The scopes written, else the preset's.
    fn scopes(
        &self,
        places: At<'_>,
        key: &str,
        preset: Option<&Preset>,
    ) -> Result<Vec<String>, Error> {
        let Some(s) = &self.scopes else {
            let preset = preset.map(|p| p.scopes.iter().map(|s| s.to_string()).collect());
            return Ok(preset.unwrap_or_default());
        };
        let scopes: Vec<String> = s
            .get_ref()
            .iter()
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect();
        if scopes.is_empty() {
            return Err(places(s.span().start, &format!("{key}.scopes"), "is empty"));
        }
        Ok(scopes)
    }

    /// The client secret's command; Google's installed-app clients need one.
    fn client_secret(
        &self,
        places: At<'_>,
        key: &str,
        provider: Option<Provider>,
    ) -> Result<Option<String>, Error> {
        let name = format!("{key}.client_secret_command");
        match &self.client_secret_command {
            Some(c) if c.get_ref().trim().is_empty() => {
                Err(places(c.span().start, &name, "is empty"))
            }
            Some(c) => Ok(Some(c.get_ref().trim().to_string())),
            None if provider == Some(Provider::Google) && self.client_id.is_some() => {
                let at = self.client_id.as_ref().map_or(0, |c| c.span().start);
                let msg = "provider = \"google\" needs client_secret_command: Google gives installed apps a client secret (see docs/oauth2.md)";
                Err(places(at, &name, msg))
            }
            None => Ok(None),
        }
    }
}

/// An endpoint must be HTTPS; plain HTTP only to this machine (a local test server).
fn check_url(places: At<'_>, v: &Spanned<String>, key: &str) -> Result<String, Error> {
    let text = v.get_ref().trim();
    let at = v.span().start;
    let url = oauth2::url::Url::parse(text)
        .map_err(|e| places(at, key, &format!("{text:?} is not a URL ({e})")))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => Ok(text.to_string()),
        "http" if loopback => Ok(text.to_string()),
        _ => Err(places(at, key, "must be an https:// URL")),
    }
}
