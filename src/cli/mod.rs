//! The command line: clap definitions, one file per command, each turning its flags into
//! a typed request before anything touches the network.

mod attachments;
mod digest;
mod fetch;
mod list;
mod mailboxes;
mod queue;
mod read;
mod send;
mod sendmail;

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};

use crate::config::{self, Account, Config};
use crate::error::{Exit, Failure};

/// A command-line mail client for people and for cron: send over SMTP, fetch over IMAP.
#[derive(Debug, Parser)]
#[command(name = "mailer", version, about, max_term_width = 100)]
pub struct Cli {
    /// Config file [default: $MAILER_CONFIG, else $XDG_CONFIG_HOME/mailer/config.toml, else ~/.config/mailer/config.toml]
    #[arg(short, long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Account to use [default: $MAILER_ACCOUNT, else the config's default_account, or its only account]
    #[arg(
        short,
        long,
        global = true,
        value_name = "NAME",
        env = "MAILER_ACCOUNT"
    )]
    pub account: Option<String>,

    /// Log what happens to stderr (-v steps, -vv details)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Print results as JSON for scripts
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Send(Box<send::SendArgs>),
    Fetch(fetch::FetchArgs),
    List(list::ListArgs),
    Read(read::ReadArgs),
    Attachments(attachments::AttachmentsArgs),
    Mailboxes(mailboxes::MailboxesArgs),
    Queue(queue::QueueArgs),
    Digest(digest::DigestArgs),
    Sendmail(sendmail::SendmailArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to stdout
    Man,
}

/// What every command may need from the global options.
pub struct Context {
    config: Option<PathBuf>,
    account: Option<String>,
    pub json: bool,
}

impl Context {
    /// The config file, parsed.
    pub fn config(&self) -> Result<Config, Failure> {
        let path = match self.config.clone().or_else(config::default_path) {
            Some(p) => p,
            None => {
                return Err(Failure::new(
                    Exit::Config,
                    "no config file: pass -c PATH or set MAILER_CONFIG (HOME is not set)",
                ));
            }
        };
        Config::load(&path).map_err(config_failure)
    }

    /// The selected account, from the config file.
    pub fn account(&self) -> Result<Account, Failure> {
        self.config()?
            .account(self.account.as_deref().filter(|a| !a.is_empty()))
            .cloned()
            .map_err(config_failure)
    }

    /// The accounts a command about "all accounts unless -a" works on.
    pub fn accounts(&self) -> Result<Vec<Account>, Failure> {
        match self.account.as_deref().filter(|a| !a.is_empty()) {
            Some(_) => Ok(vec![self.account()?]),
            None => Ok(self.config()?.accounts().to_vec()),
        }
    }

    /// Runs a command's future on a single-threaded runtime.
    pub fn block_on<T>(&self, fut: impl Future<Output = T>) -> Result<T, Failure> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                Failure::new(Exit::Software, format!("starting the async runtime: {e}"))
            })?;
        Ok(runtime.block_on(fut))
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), Failure> {
    let ctx = Context {
        config: cli.config,
        account: cli.account,
        json: cli.json,
    };
    match cli.command {
        Command::Send(args) => args.run(&ctx),
        Command::Fetch(args) => args.run(&ctx),
        Command::List(args) => args.run(&ctx),
        Command::Read(args) => args.run(&ctx),
        Command::Attachments(args) => args.run(&ctx),
        Command::Mailboxes(args) => args.run(&ctx),
        Command::Queue(args) => args.run(&ctx),
        Command::Digest(args) => args.run(&ctx),
        Command::Sendmail(args) => args.run(&ctx),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "mailer", &mut std::io::stdout());
            Ok(())
        }
        Command::Man => clap_mangen::Man::new(Cli::command())
            .render(&mut std::io::stdout())
            .map_err(|e| Failure::new(Exit::Io, format!("writing the manual page: {e}"))),
    }
}

fn config_failure(e: config::Error) -> Failure {
    Failure::new(Exit::Config, crate::error::one_line(&e.to_string()))
}
