//! `mailer auth`: mailer's own OAuth2 sign-in for an account, what it holds, and
//! signing out.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{Account, KEYRING_SERVICE, Login, Password, SecretSource, TokenSource};
use crate::error::{Exit, Failure};
use crate::oauth::{self, login::Prompt};
use crate::store::tokens;

/// Which sign-in flow to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// A browser on this machine, redirected back to a listener on 127.0.0.1.
    Browser,
    /// A code to enter on any device: works over SSH.
    Device,
}

/// Bound on each exchange with the authorization server.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The account's own-login settings, or an error saying what `auth` needs.
pub fn own_login(account: &Account) -> Result<&Login, Failure> {
    match &account.token {
        Some(TokenSource::Login(login)) => match login.unusable() {
            Some(why) => Err(Failure::new(
                Exit::Config,
                format!("{}: {why}", account.config_path.display()),
            )),
            None => Ok(login),
        },
        Some(TokenSource::Command(_)) => Err(Failure::new(
            Exit::Config,
            format!(
                "{}: account {:?} gets its tokens from [accounts.{0}.oauth2] token_command, which signs in by itself; mailer's own login needs client_id instead",
                account.config_path.display(),
                account.name
            ),
        )),
        None => Err(Failure::new(
            Exit::Config,
            format!(
                "{}: account {:?} has no [accounts.{1}.oauth2] section: add one with provider and client_id (see docs/oauth2.md)",
                account.config_path.display(),
                account.name
            ),
        )),
    }
}

/// Whether a browser can be opened here: a graphical session.
pub fn has_display() -> bool {
    let display = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
    display || cfg!(any(target_os = "macos", target_os = "windows"))
}

/// The browser the user chose with `BROWSER` (the first of a colon-separated list, its
/// words split on spaces, as git and Python's webbrowser read it), if any.
pub fn chosen_browser() -> Option<Vec<String>> {
    let value = std::env::var("BROWSER").ok()?;
    let first = value.split(':').next()?.trim();
    let words: Vec<String> = first.split_whitespace().map(str::to_string).collect();
    (!words.is_empty()).then_some(words)
}

/// Asks the browser in `BROWSER`, else the desktop, to open `url`; nothing waits for
/// it, and a failure only means the user opens the printed address by hand.
pub fn open_browser(url: &str) {
    let desktop = match () {
        _ if cfg!(target_os = "macos") => "open",
        _ if cfg!(target_os = "windows") => "explorer",
        _ => "xdg-open",
    };
    let mut words = chosen_browser().unwrap_or_else(|| vec![desktop.to_string()]);
    let opener = words.remove(0);
    // The old BROWSER convention puts %s where the address goes.
    let with_url = words.iter().any(|w| w.contains("%s"));
    let args = words.iter().map(|w| w.replace("%s", url));
    let spawned = std::process::Command::new(&opener)
        .args(args)
        .args((!with_url).then_some(url))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        tracing::info!("could not start {opener}: {e}; open the address by hand");
    }
}

/// The flow to use when the user did not choose: a browser where one can open (and
/// always for Google, whose mail scope is not granted to devices), else the device flow
/// when the provider has one.
pub fn default_flow(login: &Login) -> Flow {
    let desktop = has_display();
    let google = login.provider == Some(crate::config::Provider::Google);
    match (google || desktop, login.device_auth_url.is_some()) {
        (false, true) => Flow::Device,
        _ => Flow::Browser,
    }
}

/// What a sign-in left.
#[derive(Debug)]
pub struct Signed {
    pub account: String,
    pub path: PathBuf,
    pub stored: tokens::Stored,
    pub store: tokens::Store,
}

/// Signs the account in with `flow`, telling the user what to do through `prompt`, and
/// stores the tokens. `wait` bounds the user's part.
pub async fn login(
    account: &Account,
    flow: Flow,
    wait: Duration,
    prompt: impl Fn(Prompt),
) -> Result<Signed, Failure> {
    let login = own_login(account)?;
    let path = tokens::path(&account.name).map_err(oauth::Error::from)?;
    let stored = match flow {
        Flow::Browser => oauth::login::browser(login, HTTP_TIMEOUT, wait, prompt).await?,
        Flow::Device => oauth::login::device(login, HTTP_TIMEOUT, wait, prompt).await?,
    };
    let store = tokens::save(&path, &account.name, &stored, HTTP_TIMEOUT)
        .await
        .map_err(oauth::Error::from)?;
    Ok(Signed {
        account: account.name.clone(),
        path,
        stored,
        store,
    })
}

/// Where an account's tokens come from and what is held, without any secret.
#[derive(Debug, serde::Serialize)]
pub struct Status {
    pub account: String,
    /// "login" (mailer's own), "token_command", or "none".
    pub source: &'static str,
    pub provider: Option<&'static str>,
    pub client_id: Option<String>,
    /// "keyring" or "file" once signed in with mailer's own login; None otherwise.
    pub store: Option<&'static str>,
    pub path: Option<PathBuf>,
    pub signed_in: bool,
    /// Unix time; JSON shows it as RFC 3339, as everywhere.
    #[serde(skip)]
    pub expires_at: Option<i64>,
    pub refresh_token: bool,
    pub scopes: Vec<String>,
    pub token_command: Option<String>,
}

pub fn status(account: &Account) -> Result<Status, Failure> {
    let mut status = Status {
        account: account.name.clone(),
        source: "none",
        provider: None,
        client_id: None,
        store: None,
        path: None,
        signed_in: false,
        expires_at: None,
        refresh_token: false,
        scopes: Vec::new(),
        token_command: None,
    };
    match &account.token {
        None => {}
        Some(TokenSource::Command(command)) => {
            status.source = "token_command";
            status.token_command = Some(command.clone());
        }
        Some(TokenSource::Login(login)) => {
            status.source = "login";
            status.provider = login.provider.map(|p| p.name());
            status.client_id = Some(login.client_id.clone());
            let path = tokens::path(&account.name).map_err(oauth::Error::from)?;
            status.scopes = login.scopes.clone();
            if let Some(stored) = tokens::load_file(&path).map_err(oauth::Error::from)? {
                status.signed_in = true;
                status.store = Some(match stored.in_keyring {
                    true => "keyring",
                    false => "file",
                });
                status.expires_at = stored.expires_at;
                status.refresh_token = stored.refresh_token.is_some();
                status.scopes = stored.scopes;
            }
            status.path = Some(path);
        }
    }
    Ok(status)
}

/// What signing out did.
#[derive(Debug)]
pub struct SignedOut {
    pub account: String,
    /// None: there was nothing stored.
    pub revoked: Option<Revocation>,
}

#[derive(Debug)]
pub enum Revocation {
    Revoked(String),
    /// The provider has no revocation endpoint (Microsoft).
    NotOffered,
    /// Revoking failed; the tokens were deleted anyway.
    Failed(String),
}

/// Revokes the refresh token where the provider allows, then deletes the stored tokens.
pub async fn logout(account: &Account) -> Result<SignedOut, Failure> {
    let login = own_login(account)?;
    let path = tokens::path(&account.name).map_err(oauth::Error::from)?;
    let loaded = tokens::load(&path, &account.name, HTTP_TIMEOUT).await;
    let Some(stored) = loaded.map_err(oauth::Error::from)? else {
        // Nothing to revoke; still no file (or keyring entry) may be left behind.
        let removed = tokens::remove(&path, &account.name, HTTP_TIMEOUT).await;
        removed.map_err(oauth::Error::from)?;
        return Ok(SignedOut {
            account: account.name.clone(),
            revoked: None,
        });
    };
    let revoked = match oauth::client::revoke(login, &stored, HTTP_TIMEOUT).await {
        Ok(true) => Revocation::Revoked(login.revoke_url.clone().unwrap_or_default()),
        Ok(false) => Revocation::NotOffered,
        Err(e) => Revocation::Failed(crate::error::chain(&e)),
    };
    tokens::remove(&path, &account.name, HTTP_TIMEOUT)
        .await
        .map_err(oauth::Error::from)?;
    Ok(SignedOut {
        account: account.name.clone(),
        revoked: Some(revoked),
    })
}

/// The login users whose password the account reads from the keyring, one per distinct
/// user of its servers with `password_keyring = true`.
pub fn keyring_users(account: &Account) -> Result<Vec<String>, Failure> {
    let retrieval = account.retrieval.as_ref().map(|r| match r {
        crate::config::Retrieval::Imap(s) | crate::config::Retrieval::Pop3(s) => s,
    });
    let mut users: Vec<String> = [account.smtp.as_ref(), retrieval]
        .into_iter()
        .flatten()
        .filter_map(|s| match &s.secret {
            Some(SecretSource::Keyring(user)) => Some(user.clone()),
            _ => None,
        })
        .collect();
    users.dedup();
    if users.is_empty() {
        return Err(Failure::new(
            Exit::Config,
            format!(
                "{}: account {:?} does not take its password from the keyring: set password_keyring = true in [accounts.{1}]",
                account.config_path.display(),
                account.name
            ),
        ));
    }
    Ok(users)
}

/// Stores `password` in the OS keyring for each of the account's keyring users.
pub async fn set_password(account: &Account, password: &Password) -> Result<Vec<String>, Failure> {
    let users = keyring_users(account)?;
    for user in &users {
        crate::keyring::set(KEYRING_SERVICE, user, password.expose(), HTTP_TIMEOUT)
            .await
            .map_err(|e| {
                Failure::with_cause(Exit::Config, e).context(format!(
                    "storing the password of {user:?} in the keyring (without one, use password_command or password_env)"
                ))
            })?;
    }
    Ok(users)
}
