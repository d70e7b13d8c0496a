//! The command line: clap definitions, one file per command, each turning its flags into
//! a typed request before anything touches the network.

mod account;
mod answer;
mod attachments;
mod auth;
mod check;
mod complete;
mod config;
mod context;
mod delete;
mod digest;
mod editor;
mod fetch;
mod flag;
mod list;
mod mailboxes;
mod man;
mod queue;
mod read;
mod search;
mod send;
mod sendmail;
mod transfer;
mod watch;

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};

use crate::error::Failure;
use context::Context;

/// The heading the flags every command takes go under, apart from each command's own.
const GLOBAL: &str = "Global options";

/// A command-line mail client for people and for cron: send over SMTP, fetch over IMAP.
#[derive(Debug, Parser)]
#[command(name = "mailer", version, about, max_term_width = 100)]
pub struct Cli {
    /// Config file [default: $MAILER_CONFIG, else $XDG_CONFIG_HOME/mailer/config.toml, else ~/.config/mailer/config.toml]
    #[arg(short, long, global = true, value_name = "PATH", help_heading = GLOBAL)]
    pub config: Option<PathBuf>,

    /// Account to use [default: $MAILER_ACCOUNT, else the config's default_account, or its only account]
    #[arg(
        short,
        long,
        global = true,
        value_name = "NAME",
        env = "MAILER_ACCOUNT",
        hide_env_values = true,
        add = clap_complete::ArgValueCompleter::new(complete::accounts),
        help_heading = GLOBAL
    )]
    pub account: Option<String>,

    /// Log what happens to stderr (-v steps, -vv details)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = GLOBAL)]
    pub verbose: u8,

    /// Print results as JSON for scripts
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub json: bool,

    /// Say nothing on success, even on a terminal (scripts without one never get the
    /// words a person would: "no messages", "sent 3, 0 left")
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub quiet: bool,

    /// When to colour the output: auto (on a terminal, unless NO_COLOR is set), always,
    /// never
    #[arg(
        long,
        global = true,
        value_name = "WHEN",
        default_value = "auto",
        value_parser = ["auto", "always", "never"],
        hide_default_value = true,
        help_heading = GLOBAL
    )]
    pub color: String,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// `--color` as the output module takes it.
    pub fn color(&self) -> crate::output::color::When {
        use crate::output::color::When;
        match self.color.as_str() {
            "always" => When::Always,
            "never" => When::Never,
            _ => When::Auto,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Send(Box<send::SendArgs>),
    Reply(Box<answer::ReplyArgs>),
    Forward(Box<answer::ForwardArgs>),
    Fetch(fetch::FetchArgs),
    List(list::ListArgs),
    Read(read::ReadArgs),
    Search(search::SearchArgs),
    Attachments(attachments::AttachmentsArgs),
    Mailboxes(mailboxes::MailboxesArgs),
    Flag(flag::FlagArgs),
    Move(transfer::MoveArgs),
    Copy(transfer::CopyArgs),
    Delete(delete::DeleteArgs),
    Queue(queue::QueueArgs),
    Watch(watch::WatchArgs),
    Digest(digest::DigestArgs),
    Sendmail(sendmail::SendmailArgs),
    Auth(auth::AuthArgs),
    Account(account::AccountArgs),
    Check(check::CheckArgs),
    Config(config::ConfigArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell); it asks
    /// mailer for accounts, mailboxes and queue ids as you type
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a manual page (roff), or write them all with --dir
    Man(man::ManArgs),
}

/// Answers the completion scripts when they call mailer back (`MAILER_COMPLETE` set),
/// then exits; otherwise does nothing.
pub fn complete_if_asked() {
    clap_complete::CompleteEnv::with_factory(Cli::command)
        .var(complete::VAR)
        .complete();
}

/// What `mailer --version` says: the version, what this build can do, and the TLS
/// library it runs on (what a bug report needs).
pub fn long_version() -> String {
    let can = "+smtp +imap +pop3 +maildir +outbox +digest +sendmail +oauth2 +keyring +autoconfig";
    format!(
        "{}\n{can}\nTLS: {}\nbuilt for {}-{}",
        env!("CARGO_PKG_VERSION"),
        crate::tls::library(),
        std::env::consts::ARCH,
        std::env::consts::OS
    )
}

impl Command {
    /// The command's name when it prints nothing a script would read as JSON: `--json`
    /// is refused for it, rather than silently ignored.
    fn without_json(&self) -> Option<&'static str> {
        match self {
            Command::Account(_) => Some("account add"),
            Command::Auth(a) if !a.prints_json() => Some("auth set-password"),
            Command::Queue(q) if !q.prints_json() => Some("queue drop"),
            Command::Config(_) => Some("config check"),
            Command::Digest(_) => Some("digest"),
            Command::Sendmail(_) => Some("sendmail"),
            Command::Completions { .. } => Some("completions"),
            Command::Man(_) => Some("man"),
            _ => None,
        }
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), Failure> {
    crate::output::color::set_for_stdout(cli.color());
    if let Some(name) = cli.json.then(|| cli.command.without_json()).flatten() {
        return Err(Failure::new(
            crate::error::Exit::Usage,
            format!("mailer {name} prints nothing to read as JSON: leave out --json"),
        ));
    }
    let ctx = Context {
        config: cli.config,
        account: cli.account,
        json: cli.json,
        people: !cli.quiet && !cli.json && std::io::IsTerminal::is_terminal(&std::io::stdout()),
    };
    match cli.command {
        Command::Send(args) => args.run(&ctx),
        Command::Reply(args) => args.run(&ctx),
        Command::Forward(args) => args.run(&ctx),
        Command::Fetch(args) => args.run(&ctx),
        Command::List(args) => args.run(&ctx),
        Command::Read(args) => args.run(&ctx),
        Command::Search(args) => args.run(&ctx),
        Command::Attachments(args) => args.run(&ctx),
        Command::Mailboxes(args) => args.run(&ctx),
        Command::Flag(args) => args.run(&ctx),
        Command::Move(args) => args.run(&ctx),
        Command::Copy(args) => args.run(&ctx),
        Command::Delete(args) => args.run(&ctx),
        Command::Queue(args) => args.run(&ctx),
        Command::Watch(args) => args.run(&ctx),
        Command::Digest(args) => args.run(&ctx),
        // sendmail has no --help of its own, so the word is free for ours.
        Command::Sendmail(args) if args.wants_help() => {
            if let Some(cmd) = Cli::command().find_subcommand_mut("sendmail") {
                let _ = cmd.print_long_help();
            }
            Ok(())
        }
        Command::Sendmail(args) => args.run(&ctx),
        Command::Auth(args) => args.run(&ctx),
        Command::Account(args) => args.run(&ctx),
        Command::Check(args) => args.run(&ctx),
        Command::Config(args) => args.run(&ctx),
        Command::Completions { shell } => complete::registration(shell, &mut std::io::stdout())
            .map_err(|e| Failure::io("writing the completion script", e)),
        Command::Man(args) => args.run(Cli::command()),
    }
}
