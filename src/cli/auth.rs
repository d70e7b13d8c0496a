//! `mailer auth`: sign in with OAuth2, see what is held, sign out.

use std::time::Duration;

use clap::{Args, Subcommand};

use crate::commands::auth::{self, Flow};
use crate::error::Failure;

/// Sign in to an OAuth2 provider (Gmail, Microsoft 365, Outlook.com), or sign out
///
/// For accounts whose [accounts.NAME.oauth2] section has a client_id. The tokens are
/// kept in a private file of mailer's state directory and refreshed by themselves;
/// see docs/oauth2.md.
#[derive(Debug, Args)]
pub struct AuthArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Sign in: opens (or prints) the provider's sign-in page, or prints a device code
    Login {
        /// Sign in in a browser on this machine (the default where one can open)
        #[arg(long, conflicts_with = "device")]
        browser: bool,
        /// Sign in on any other device with a code (the default over SSH, where the
        /// provider offers it)
        #[arg(long)]
        device: bool,
        /// Give up when the sign-in is not done within this many seconds
        #[arg(long, value_name = "SECS", default_value_t = 300)]
        timeout: u64,
    },
    /// Show where the account's tokens come from, where they are kept and when they expire
    Status,
    /// Revoke the sign-in where the provider allows it, and delete the stored tokens
    Logout,
    /// Store the account's password in the OS keyring (for password_keyring = true):
    /// asked for without echo on a terminal, else read from the first line of stdin
    SetPassword,
}

impl AuthArgs {
    /// `set-password` says nothing a script would read as JSON.
    pub fn prints_json(&self) -> bool {
        !matches!(self.action, Action::SetPassword)
    }
}

impl AuthArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        match &self.action {
            Action::Login {
                browser,
                device,
                timeout,
            } => {
                let account = ctx.account()?;
                let flow = match (browser, device) {
                    (true, _) => Some(Flow::Browser),
                    (_, true) => Some(Flow::Device),
                    _ => None,
                };
                sign_in(ctx, &account, flow, Duration::from_secs((*timeout).max(1)))
            }
            Action::Status => {
                for account in ctx.accounts()? {
                    crate::output::auth_status(&auth::status(&account)?, ctx.json);
                }
                Ok(())
            }
            Action::SetPassword => {
                let account = ctx.account()?;
                let users = auth::keyring_users(&account)?;
                let password = read_password(&users[0])?;
                let users = ctx.block_on(auth::set_password(&account, &password))??;
                for user in users {
                    println!("stored the password of {user:?} in the keyring (service \"mailer\")");
                }
                Ok(())
            }
            Action::Logout => {
                let done = ctx.on_account(async |a| auth::logout(a).await)?;
                crate::output::signed_out(&done, ctx.json);
                Ok(())
            }
        }
    }
}

/// Signs `account` in with mailer's own OAuth2 client, by `flow` or the one that suits
/// this machine; `account add` offers it right after writing the account.
pub(super) fn sign_in(
    ctx: &super::context::Context,
    account: &crate::config::Account,
    flow: Option<Flow>,
    wait: Duration,
) -> Result<(), Failure> {
    let login = auth::own_login(account)?;
    let flow = flow.unwrap_or_else(|| auth::default_flow(login));
    let prompt = |p| {
        crate::output::auth_prompt(&account.name, &p);
        if let crate::oauth::login::Prompt::Open(url) = &p
            && (auth::has_display() || auth::chosen_browser().is_some())
        {
            auth::open_browser(url);
        }
    };
    let signed = ctx.block_on(auth::login(account, flow, wait, prompt))??;
    crate::output::signed_in(&signed, ctx.json);
    Ok(())
}

/// The password, from the terminal without echo, or else from stdin's first line.
fn read_password(user: &str) -> Result<crate::config::Password, Failure> {
    use std::io::{BufRead, IsTerminal};
    let io = |e| Failure::io("reading the password", e);
    let line = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("Password for {user}: ")).map_err(io)?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(io)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    if line.is_empty() {
        return Err(Failure::new(
            crate::error::Exit::Usage,
            "no password given: type it at the prompt, or pipe it on stdin",
        ));
    }
    Ok(line.into())
}
