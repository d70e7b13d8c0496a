//! What `mailer auth` prints. Never a token: only where tokens are and when they expire.

use std::io::Write;

use crate::commands::auth::{Revocation, Signed, SignedOut, Status};
use crate::oauth::login::Prompt;

use super::text::{print_json, printable};

fn when(at: i64) -> String {
    mail_parser::DateTime::from_timestamp(at).to_rfc3339()
}

/// What the user must do to sign in, on stderr, so that stdout stays the result.
pub fn auth_prompt(account: &str, prompt: &Prompt) {
    let mut err = std::io::stderr().lock();
    let _ = match prompt {
        Prompt::Open(url) => writeln!(
            err,
            "To sign in account {account:?}, open this address in a browser on this machine:\n  {url}"
        ),
        Prompt::Device {
            uri,
            code,
            complete,
        } => {
            let code = printable(code, false);
            let _ = writeln!(
                err,
                "To sign in account {account:?}, open {} on any device and enter the code: {code}",
                printable(uri, false)
            );
            match complete {
                Some(c) => writeln!(err, "  (or open {})", printable(c, false)),
                None => Ok(()),
            }
        }
    };
}

#[derive(serde::Serialize)]
struct SignedJson<'a> {
    account: &'a str,
    store: &'static str,
    path: String,
    expires_at: Option<String>,
    refresh_token: bool,
    scopes: &'a [String],
}

pub fn signed_in(signed: &Signed, json: bool) {
    let s = &signed.stored;
    if json {
        return print_json(&SignedJson {
            account: &signed.account,
            store: signed.store.name(),
            path: signed.path.display().to_string(),
            expires_at: s.expires_at.map(when),
            refresh_token: s.refresh_token.is_some(),
            scopes: &s.scopes,
        });
    }
    let expiry = match s.expires_at {
        Some(at) => format!("; access token valid until {}", when(at)),
        None => String::new(),
    };
    let refresh = match s.refresh_token {
        Some(_) => "",
        None => "; no refresh token was given, so the login ends when the access token expires",
    };
    let place = match signed.store {
        crate::store::tokens::Store::Keyring => "the OS keyring".to_string(),
        crate::store::tokens::Store::File => signed.path.display().to_string(),
    };
    println!(
        "signed in account {:?}; tokens kept in {place}{expiry}{refresh}",
        signed.account
    );
}

#[derive(serde::Serialize)]
struct StatusJson<'a> {
    #[serde(flatten)]
    status: &'a Status,
    expires_at: Option<String>,
}

pub fn auth_status(status: &Status, json: bool) {
    if json {
        let expires_at = status.expires_at.map(when);
        return print_json(&StatusJson { status, expires_at });
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "account:       {}", status.account);
    let _ = match (status.source, &status.token_command) {
        ("token_command", Some(c)) => {
            writeln!(out, "source:        token_command {}", printable(c, false))
        }
        ("login", _) => writeln!(
            out,
            "source:        mailer's own login (provider {}, client_id {})",
            status.provider.unwrap_or("none"),
            match status.client_id.as_deref() {
                Some("") | None => "not set yet: see docs/oauth2.md",
                Some(id) => id,
            }
        ),
        _ => writeln!(
            out,
            "source:        none (the account logs in with a password)"
        ),
    };
    let Some(path) = &status.path else {
        return;
    };
    if !status.signed_in {
        let _ = writeln!(
            out,
            "signed in:     no: run \"mailer auth login -a {}\"",
            status.account
        );
        return;
    }
    let _ = match status.store {
        Some("keyring") => writeln!(
            out,
            "store:         the OS keyring (expiry and scopes in {})",
            path.display()
        ),
        _ => writeln!(out, "store:         file {}", path.display()),
    };
    let now = crate::date::unix_now();
    let _ = match status.expires_at {
        Some(at) if at > now => writeln!(out, "access token:  valid until {}", when(at)),
        Some(at) => writeln!(
            out,
            "access token:  expired at {} (refreshed when next used)",
            when(at)
        ),
        None => writeln!(out, "access token:  no expiry given"),
    };
    let refresh = if status.refresh_token { "yes" } else { "no" };
    let _ = writeln!(out, "refresh token: {refresh}");
    let _ = writeln!(out, "scopes:        {}", status.scopes.join(" "));
}

/// The JSON object `auth logout --json` prints (docs/json.md).
#[derive(serde::Serialize)]
struct SignedOutJson<'a> {
    account: &'a str,
    revocation: &'static str,
    detail: &'a str,
    deleted: bool,
}

pub fn signed_out(done: &SignedOut, json: bool) {
    let (revoked, detail) = match &done.revoked {
        None => ("nothing stored", String::new()),
        Some(Revocation::Revoked(url)) => ("revoked", url.clone()),
        Some(Revocation::NotOffered) => ("not offered", String::new()),
        Some(Revocation::Failed(why)) => ("failed", why.clone()),
    };
    if json {
        return print_json(&SignedOutJson {
            account: &done.account,
            revocation: revoked,
            detail: &detail,
            deleted: done.revoked.is_some(),
        });
    }
    let line = match &done.revoked {
        None => format!(
            "account {:?} was not signed in; nothing to delete",
            done.account
        ),
        Some(Revocation::Revoked(url)) => format!(
            "signed out account {:?}: the refresh token was revoked at {url} and the stored tokens deleted",
            done.account
        ),
        Some(Revocation::NotOffered) => format!(
            "signed out account {:?}: stored tokens deleted; the provider offers no revocation, so remove mailer's access in its account settings if you want it gone there too",
            done.account
        ),
        Some(Revocation::Failed(why)) => format!(
            "signed out account {:?}: stored tokens deleted, but revoking failed ({why})",
            done.account
        ),
    };
    println!("{line}");
}
