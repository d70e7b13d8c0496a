use std::process::ExitCode;

use clap::Parser;
use mailer::cli::Cli;
use mailer::error::Exit;

fn main() -> ExitCode {
    // Like any Unix filter, end quietly when the reader goes away (`mailer man | head`).
    // SAFETY: restoring the default disposition of a signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // Called as `sendmail` (a symlink), behave as `mailer sendmail`.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let called_as_sendmail = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .is_some_and(|n| n == "sendmail");
    if called_as_sendmail {
        args.insert(1, "sendmail".into());
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.use_stderr() {
                true => ExitCode::from(Exit::Usage as u8),
                false => ExitCode::SUCCESS,
            };
        }
    };
    init_logging(cli.verbose);
    match mailer::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let line = failure.to_string();
            eprintln!("mailer: {}", mailer::output::printable(&line, false));
            ExitCode::from(failure.exit() as u8)
        }
    }
}

/// Logs go to stderr, so that stdout stays the command's output.
fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
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
    // Colour only for a terminal: cron mails and log files get plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
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
