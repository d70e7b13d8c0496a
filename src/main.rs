#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use mailer::cli::Cli;
use mailer::error::Exit;

fn main() -> ExitCode {
    // Like any Unix filter, end quietly when the reader goes away (`mailer man | head`).
    // SAFETY: restoring the default disposition of a signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // The completion scripts call back with MAILER_COMPLETE set: answer, and exit.
    mailer::cli::complete_if_asked();
    // Called as `sendmail` (a symlink), behave as `mailer sendmail`.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let called_as_sendmail = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .is_some_and(|n| n == "sendmail");
    if called_as_sendmail {
        args.insert(1, "sendmail".into());
    }
    // `mailer help --help` (clap's help command takes no flags) is the main help.
    let n = args.len();
    if n >= 3 && args[n - 2] == "help" && (args[n - 1] == "--help" || args[n - 1] == "-h") {
        args.truncate(n - 2);
        args.push("--help".into());
    }
    // The long version is made at run time (the TLS library's version); it lives as
    // long as the process.
    let long_version: &'static str = mailer::cli::long_version().leak();
    let parsed = Cli::command()
        .long_version(long_version)
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    let stderr_is_terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    init_logging(
        cli.verbose,
        mailer::output::color::decide(cli.color(), stderr_is_terminal),
    );
    match mailer::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let line = failure.to_string();
            eprintln!("mailer: {}", mailer::output::printable(&line, false));
            ExitCode::from(failure.exit() as u8)
        }
    }
}

/// What a command line that does not parse gets: help and --version as clap prints
/// them; with no command at all, a short usage on stdout and clap's exit code 2; any
/// other mistake one line, `mailer: ...`, with the usage of the command, exit 64.
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if !e.use_stderr() {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let text = e.render().to_string();
    let usage = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Usage: "))
        .unwrap_or("mailer [OPTIONS] <COMMAND>")
        .to_string();
    // The message is the text before the first blank line, on one line.
    let message: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.is_empty())
        .collect();
    let message = message.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    let command: Vec<&str> = usage
        .split_whitespace()
        .take_while(|w| !w.starts_with(['[', '<']))
        .collect();
    let command = command.join(" ");
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        println!("Usage: {usage}\n{command} --help lists the commands and tells more.");
        return ExitCode::from(2);
    }
    let message = match (e.kind(), command.as_str()) {
        (ErrorKind::MissingRequiredArgument, "mailer read" | "mailer attachments") => {
            "give the message's id as `mailer list` shows it (or, for read, --file PATH)"
        }
        _ => message,
    };
    eprintln!("mailer: {message} (usage: {usage}; see {command} --help)");
    ExitCode::from(Exit::Usage as u8)
}

/// Logs go to stderr, so that stdout stays the command's output.
fn init_logging(verbose: u8, colour: bool) {
    // -v: what mailer does, each step once; -vv: its details and the protocol
    // conversation (target "wire", secrets as ***); -vvv: the libraries' detail too.
    let level = match verbose {
        0 => "warn",
        1 => "warn,mailer=info",
        2 => "warn,mailer=debug,wire=debug",
        _ => "debug,mailer=trace,wire=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MAILER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // async-imap logs every command it writes at trace level, LOGIN's password and
    // AUTHENTICATE's base64 included, and every byte it reads: never below info.
    let filter = match "async_imap=info".parse() {
        Ok(cap) => filter.add_directive(cap),
        Err(_) => filter,
    };
    // hickory's DNS messages come as many-line dumps of each query: its warnings only.
    let filter = [
        "hickory_proto=warn",
        "hickory_resolver=warn",
        "hickory_net=warn",
    ]
    .iter()
    .filter_map(|d| d.parse().ok())
    .fold(filter, |f, d| f.add_directive(d));
    // Colour only for a terminal (and --color, NO_COLOR): cron mails and log files get
    // plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false);
    // Timings matter when looking at details; a plain -v stays terse.
    if verbose >= 2 {
        builder
            .with_timer(tracing_subscriber::fmt::time::uptime())
            .init();
    } else {
        builder.without_time().init();
    }
}
