//! The command line: clap definitions, one file per command, turned into typed requests
//! before anything touches the network.

mod fetch;
mod send;

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};

use crate::config::{self, Account, Config};
use crate::error::{Exit, Failure};

/// A command-line mail client for people and for cron: send over SMTP, fetch over IMAP and POP3.
#[derive(Debug, Parser)]
#[command(name = "mailer", version, about, max_term_width = 100)]
pub struct Cli {
    /// Config file [default: $MAILER_CONFIG, else $XDG_CONFIG_HOME/mailer/config.toml, else ~/.config/mailer/config.toml]
    #[arg(short, long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Account to use [default: the config's default_account, or its only account]
    #[arg(short, long, global = true, value_name = "NAME")]
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
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to stdout
    Man,
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Send(ref args) => {
            let account = load_account(&cli)?;
            let request = args.to_request()?;
            let runtime = runtime()?;
            let report = runtime.block_on(crate::commands::send::run(&account, request))?;
            crate::output::send_report(&report, cli.json);
            Ok(())
        }
        Command::Fetch(ref args) => {
            let account = load_account(&cli)?;
            let request = args.to_request()?;
            let printer = Box::new(crate::output::FetchPrinter::new(cli.json));
            let runtime = runtime()?;
            let report =
                runtime.block_on(crate::commands::fetch::run(&account, &request, printer))?;
            tracing::info!(
                "stored {} new message(s), {} bytes; {} already stored",
                report.stored,
                report.bytes,
                report.already_stored
            );
            Ok(())
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "mailer", &mut std::io::stdout());
            Ok(())
        }
        Command::Man => clap_mangen::Man::new(Cli::command())
            .render(&mut std::io::stdout())
            .map_err(|e| Failure::new(Exit::Io, format!("writing the manual page: {e}"))),
    }
}

fn load_account(cli: &Cli) -> Result<Account, Failure> {
    let path = match cli.config.clone().or_else(config::default_path) {
        Some(p) => p,
        None => {
            return Err(Failure::new(
                Exit::Config,
                "no config file: pass -c PATH or set MAILER_CONFIG (HOME is not set)",
            ));
        }
    };
    let config = Config::load(&path).map_err(config_failure)?;
    config
        .account(cli.account.as_deref())
        .cloned()
        .map_err(config_failure)
}

fn config_failure(e: config::Error) -> Failure {
    Failure::new(Exit::Config, crate::error::one_line(&e.to_string()))
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(Exit::Software, format!("starting the async runtime: {e}")))
}
