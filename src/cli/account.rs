//! `mailer account add`: set up an account from its address.

use clap::{Args, Subcommand};

use crate::commands::account::{self, AddRequest};
use crate::config::Security;
use crate::config::edit::{Endpoints, NewSecret};
use crate::error::{Exit, Failure};

/// Add an account to the config file, from its address
///
/// The servers come from mailer's presets for the providers people use (Gmail, Outlook,
/// iCloud, Fastmail, Yahoo, GMX, QQ, 163 and more; see docs/setup.md), or from the flags.
/// The account's name is -a NAME, else the address's domain (`gmail`).
#[derive(Debug, Args)]
pub struct AccountArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    Add(Box<AddArgs>),
}

#[derive(Debug, Args)]
struct AddArgs {
    /// The address, alice@example.org (asked for on a terminal when left out)
    #[arg(value_name = "EMAIL")]
    email: Option<String>,
    /// The address, as a flag
    #[arg(long = "email", value_name = "EMAIL", conflicts_with = "email")]
    email_flag: Option<String>,
    /// Your display name, shown in From
    #[arg(long)]
    name: Option<String>,
    /// A command that prints the password
    #[arg(long, value_name = "CMD", group = "secret")]
    password_command: Option<String>,
    /// An environment variable that holds the password
    #[arg(long, value_name = "VAR", group = "secret")]
    password_env: Option<String>,
    /// The password is in the OS keyring (the default without a preset's OAuth2)
    #[arg(long, group = "secret")]
    password_keyring: bool,
    /// Sign in with OAuth2 (mailer's own login) even where the provider also takes an
    /// app password; the client id may follow later (Google and Microsoft presets)
    #[arg(long, conflicts_with_all = ["password_command", "password_env", "password_keyring", "token_command"])]
    oauth2: bool,
    /// Sign in with OAuth2 (mailer's own login): your app registration's client id
    #[arg(long, value_name = "ID", group = "secret")]
    client_id: Option<String>,
    /// With --client-id: a command that prints the client secret (Google)
    #[arg(long, value_name = "CMD", requires = "client_id")]
    client_secret_command: Option<String>,
    /// With --client-id, for an authorization server mailer has no preset for: where
    /// the user signs in
    #[arg(long, value_name = "URL", requires_all = ["client_id", "token_url"])]
    auth_url: Option<String>,
    /// With --auth-url: where the tokens come from
    #[arg(long, value_name = "URL", requires = "auth_url")]
    token_url: Option<String>,
    /// With --auth-url: a scope to ask for (repeat for more)
    #[arg(long, value_name = "SCOPE", requires = "auth_url")]
    scope: Vec<String>,
    /// OAuth2 through a token helper (pizauth, oama): the command that prints a token
    #[arg(long, value_name = "CMD", group = "secret")]
    token_command: Option<String>,
    /// Where fetched mail goes [default: ~/Mail/NAME]
    #[arg(long, value_name = "DIR")]
    maildir: Option<String>,
    /// Use a preset by its name (for a custom domain at Google, Microsoft 365, Exmail)
    #[arg(long, value_name = "NAME")]
    preset: Option<String>,
    /// Read mail over IMAP (the default)
    #[arg(long, conflicts_with = "pop3")]
    imap: bool,
    /// Read mail over POP3 instead of IMAP
    #[arg(long)]
    pop3: bool,
    /// The IMAP (or POP3) server's host
    #[arg(long)]
    host: Option<String>,
    /// The IMAP (or POP3) server's port
    #[arg(long)]
    port: Option<u16>,
    /// tls, starttls or none, for the IMAP (or POP3) server
    #[arg(long, value_parser = security)]
    security: Option<Security>,
    /// The SMTP server's host
    #[arg(long)]
    smtp_host: Option<String>,
    /// The SMTP server's port
    #[arg(long)]
    smtp_port: Option<u16>,
    /// tls, starttls or none, for the SMTP server
    #[arg(long, value_parser = security)]
    smtp_security: Option<Security>,
    /// A certificate to trust for both servers (and an --autoconfig-url), besides the
    /// system's
    #[arg(long, value_name = "PEM")]
    ca_file: Option<String>,
    /// Where the domain's autoconfig file is, for a private setup [default: the
    /// domain's autoconfig host, its well-known path, then Mozilla's ISPDB]
    #[arg(long, value_name = "URL")]
    autoconfig_url: Option<String>,
    /// Ask this DNS server (IP:PORT) for every name account add looks up, instead of
    /// the system's: for a private setup
    #[arg(long, value_name = "IP:PORT")]
    dns_server: Option<std::net::SocketAddr>,
    /// Do not look the servers up on the network: presets and flags only
    #[arg(long)]
    offline: bool,
    /// Make it the default account
    #[arg(long)]
    default: bool,
    /// Replace an account of the same name
    #[arg(long)]
    force: bool,
    /// Do not run `mailer check` on the new account
    #[arg(long)]
    no_check: bool,
    /// Ask nothing, even on a terminal (without one, nothing is asked anyway)
    #[arg(long, short = 'y')]
    yes: bool,
}

fn security(text: &str) -> Result<Security, String> {
    match text {
        "tls" => Ok(Security::Tls),
        "starttls" => Ok(Security::Starttls),
        "none" => Ok(Security::None),
        _ => Err("one of tls, starttls, none".into()),
    }
}

impl AddArgs {
    fn secret(&self) -> Option<NewSecret> {
        if let Some(c) = &self.password_command {
            return Some(NewSecret::Command(c.clone()));
        }
        if let Some(v) = &self.password_env {
            return Some(NewSecret::Env(v.clone()));
        }
        if let Some(c) = &self.token_command {
            let command = c.clone();
            return Some(NewSecret::TokenCommand {
                auth: "xoauth2",
                command,
            });
        }
        if self.password_keyring {
            return Some(NewSecret::Keyring);
        }
        let endpoints = self.auth_url.clone().zip(self.token_url.clone());
        (self.oauth2 || self.client_id.is_some()).then(|| NewSecret::Login {
            provider: None,
            client_id: self.client_id.clone(),
            client_secret_command: self.client_secret_command.clone(),
            endpoints: endpoints.map(|(auth_url, token_url)| Endpoints {
                auth_url,
                token_url,
                scopes: self.scope.clone(),
            }),
        })
    }

    fn request(&self, account: Option<String>) -> AddRequest {
        AddRequest {
            email: self
                .email
                .clone()
                .or(self.email_flag.clone())
                .unwrap_or_default(),
            account,
            name: self.name.clone(),
            preset: self.preset.clone(),
            pop3: self.pop3,
            secret: self.secret(),
            maildir: self.maildir.clone(),
            host: self.host.clone(),
            port: self.port,
            security: self.security,
            smtp_host: self.smtp_host.clone(),
            smtp_port: self.smtp_port,
            smtp_security: self.smtp_security,
            ca_file: self.ca_file.clone(),
            discovered: None,
            looked_up: Vec::new(),
        }
    }

    /// The domain's servers from its autoconfig file, else its SRV records; what was
    /// tried when neither names them.
    async fn look_up(&self, request: &mut AddRequest) -> Result<(), Failure> {
        let domain = request
            .email
            .rsplit('@')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let dns = crate::dns::Dns::new(self.dns_server)
            .map_err(|e| Failure::new(Exit::Config, format!("DNS: {e}")))?;
        let dns = std::sync::Arc::new(dns);
        let urls = match &self.autoconfig_url {
            Some(url) => vec![url.clone()],
            None => crate::autoconfig::urls(&request.email, &domain),
        };
        let ca = self.ca_file.as_deref().map(crate::config::expand_tilde);
        let timeout = std::time::Duration::from_secs(10);
        let via = self.dns_server.map(|_| dns.clone());
        let found = crate::autoconfig::discover(&request.email, &urls, ca.as_deref(), via, timeout);
        match found.await {
            Ok(d) => request.discovered = Some(d),
            Err(tried) => request.looked_up = tried,
        }
        if request.discovered.is_none() {
            request.discovered = dns.mail_servers(&domain).await;
            if request.discovered.is_none() {
                request
                    .looked_up
                    .push(format!("no SRV records for {domain}"));
            }
        }
        if request.discovered.is_none() {
            request.discovered = crate::guess::guess(&dns, &domain, ca.as_deref(), timeout).await;
            if request.discovered.is_none() {
                let none = "no imap., smtp. or mail. host answered with a verified TLS handshake";
                request.looked_up.push(none.into());
            }
        }
        Ok(())
    }

    /// Whether the servers must be looked up: no preset, and not both given.
    fn needs_lookup(&self, email: &str) -> bool {
        let domain = email.rsplit('@').next().unwrap_or("");
        let preset = self.preset.is_some() || crate::config::presets::for_domain(domain).is_some();
        !self.offline && !preset && (self.host.is_none() || self.smtp_host.is_none())
    }
}

impl AccountArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        let Action::Add(args) = &self.action;
        let mut request = args.request(ctx.account.clone());
        let asking = !args.yes && std::io::IsTerminal::is_terminal(&std::io::stdin());
        if asking {
            ask_missing(&mut request)?;
        } else if request.email.is_empty() {
            return Err(Failure::new(
                Exit::Usage,
                "no address: mailer account add you@example.org",
            ));
        }
        if args.needs_lookup(&request.email) {
            ctx.block_on(args.look_up(&mut request))??;
        }
        let added = account::plan(&request)?;
        let path = match &ctx.config {
            Some(p) => p.clone(),
            None => crate::config::default_path().ok_or_else(|| {
                Failure::new(
                    Exit::Config,
                    "no place for the config: pass -c PATH or set HOME",
                )
            })?,
        };
        let mut default = args.default;
        if asking && !default && path.exists() {
            let answer = ask("Make it the default account? [y/N] ")?;
            default = matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes");
        }
        if asking && !confirm(&added, &path)? {
            return Err(Failure::new(Exit::Usage, "nothing written"));
        }
        account::write(&path, &added, args.force, default)?;
        crate::output::account_added(&added, &path);
        if asking && !store_password(ctx, &added, &path)? {
            sign_in(ctx, &added, &path)?;
        }
        if args.no_check {
            return Ok(());
        }
        // Run even when the account cannot log in yet (no password stored, no sign-in):
        // the steps before the login still show the servers answer, and the failed
        // login's fix line says what to do.
        super::check::run_for(ctx, &path, &added.account.name, args.dns_server)
    }
}

/// On a terminal, for an account whose password is to be in the keyring: asks for it
/// (without echo) and stores it; true when it was stored. Empty means later.
fn store_password(
    ctx: &super::context::Context,
    added: &account::Added,
    path: &std::path::Path,
) -> Result<bool, Failure> {
    if !matches!(added.account.secret, NewSecret::Keyring) {
        return Ok(false);
    }
    let prompt = format!(
        "Password for {} (kept in the OS keyring; empty to store it later): ",
        added.account.email
    );
    let password =
        rpassword::prompt_password(prompt).map_err(|e| Failure::io("reading the password", e))?;
    if password.is_empty() {
        return Ok(false);
    }
    let config = crate::config::Config::load(Some(path))?;
    let account = config.account(Some(&added.account.name))?.clone();
    let password = password.into();
    match ctx.block_on(crate::commands::auth::set_password(&account, &password))? {
        Ok(_) => {
            println!("stored the password in the keyring");
            Ok(true)
        }
        Err(e) => {
            eprintln!("mailer: {e}");
            Ok(false)
        }
    }
}

/// On a terminal, for an account that signs in with mailer's own OAuth2 client: offers
/// to sign in now; true when it did.
fn sign_in(
    ctx: &super::context::Context,
    added: &account::Added,
    path: &std::path::Path,
) -> Result<bool, Failure> {
    let NewSecret::Login {
        client_id: Some(_),
        provider,
        endpoints,
        ..
    } = &added.account.secret
    else {
        return Ok(false);
    };
    if provider.is_none() && endpoints.is_none() {
        return Ok(false);
    }
    let provider = match provider {
        Some(crate::config::Provider::Google) => "Google",
        Some(crate::config::Provider::Microsoft) => "Microsoft",
        None => "the provider",
    };
    let answer = ask(&format!("Sign in to {provider} now? [Y/n] "))?;
    if !matches!(answer.to_ascii_lowercase().as_str(), "" | "y" | "yes") {
        return Ok(false);
    }
    let config = crate::config::Config::load(Some(path))?;
    let account = config.account(Some(&added.account.name))?.clone();
    super::auth::sign_in(ctx, &account, None, std::time::Duration::from_secs(300))?;
    Ok(true)
}

/// On a terminal: the address, the display name, where the password comes from and the
/// Maildir, when the flags left them out.
fn ask_missing(request: &mut AddRequest) -> Result<(), Failure> {
    if request.email.is_empty() {
        request.email = ask("Email address: ")?;
    }
    if request.name.is_none() {
        let name = ask("Your name, as shown in From (empty for none): ")?;
        request.name = Some(name).filter(|n| !n.is_empty());
    }
    if request.secret.is_none() && !signs_in_with_oauth2(request) {
        request.secret = ask_password_source()?;
    }
    if request.maildir.is_none() {
        let dir = ask("Where fetched mail goes (empty for ~/Mail/ACCOUNT): ")?;
        request.maildir = Some(dir).filter(|d| !d.is_empty());
    }
    Ok(())
}

/// Whether the provider's preset signs in with OAuth2 (then no password is asked for).
fn signs_in_with_oauth2(request: &AddRequest) -> bool {
    use crate::config::presets::{self, Login};
    let domain = request.email.rsplit('@').next().unwrap_or("");
    let preset = match &request.preset {
        Some(id) => presets::by_id(id),
        None => presets::for_domain(domain),
    };
    preset.is_some_and(|p| matches!(p.login, Login::OAuth2(_)))
}

/// Where the password comes from: the keyring (asked for once the account is written),
/// a command such as a password manager's, or an environment variable.
fn ask_password_source() -> Result<Option<NewSecret>, Failure> {
    loop {
        let answer = ask(
            "Password from: [k]eyring (typed in now), a [c]ommand (such as pass show mail), an [e]nvironment variable? [K/c/e] ",
        )?;
        match answer.to_ascii_lowercase().as_str() {
            "" | "k" | "keyring" => return Ok(Some(NewSecret::Keyring)),
            "c" | "command" => {
                let command = ask("Command that prints the password: ")?;
                if !command.is_empty() {
                    return Ok(Some(NewSecret::Command(command)));
                }
            }
            "e" | "env" | "environment" => {
                let name = ask("Variable that holds the password: ")?;
                if !name.is_empty() {
                    return Ok(Some(NewSecret::Env(name)));
                }
            }
            _ => {}
        }
    }
}

/// Shows what will be written and asks before writing it.
fn confirm(added: &account::Added, path: &std::path::Path) -> Result<bool, Failure> {
    for (section, server, source) in &added.servers {
        eprintln!("  {section:<5} {server}  ({source})");
    }
    let answer = ask(&format!(
        "Write account {:?} to {}? [Y/n] ",
        added.account.name,
        path.display()
    ))?;
    Ok(matches!(
        answer.to_ascii_lowercase().as_str(),
        "" | "y" | "yes"
    ))
}

fn ask(prompt: &str) -> Result<String, Failure> {
    use std::io::{BufRead, Write};
    let mut err = std::io::stderr();
    let _ = write!(err, "{prompt}");
    let _ = err.flush();
    let mut line = String::new();
    let read = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::io("reading the answer", e))?;
    if read == 0 {
        return Err(Failure::new(Exit::Usage, "no answer: the input ended"));
    }
    Ok(line.trim().to_string())
}
