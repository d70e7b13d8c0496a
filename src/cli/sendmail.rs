//! `mailer sendmail`: the interface of /usr/sbin/sendmail, for cron's MAILTO, logwatch,
//! smartd and git send-email. Also what runs when the binary is called `sendmail`.
//!
//! sendmail's options do not fit clap (`-oi` is one option, `-fADDR` carries its value),
//! so they are parsed here by hand.

use std::io::Read;

use clap::Args;
use lettre::Address;

use crate::commands::sendmail::SendmailRequest;
use crate::error::{Exit, Failure};

/// Send a message read from standard input, as /usr/sbin/sendmail does
///
/// Options: -t (recipients from To/Cc/Bcc, Bcc removed), -i / -oi (a lone "." does not
/// end the input), -f ADDR (envelope sender; a bare user name keeps the account's), -F NAME
/// (sender's name when the message has no From). -o, -B, -N and -bm are accepted and
/// ignored; -v logs mailer's steps. A recipient without a domain (cron's crontab owner)
/// means the account's own address. A message that cannot be sent now is queued and the
/// exit status is 75.
#[derive(Debug, Args)]
#[command(
    disable_help_flag = true,
    override_usage = "mailer sendmail [OPTIONS] [RECIPIENT]...  (or sendmail ..., as a link named sendmail)"
)]
pub struct SendmailArgs {
    /// sendmail options and recipients
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0.., value_name = "ARGS")]
    args: Vec<String>,
}

/// The options sendmail callers use.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub extract: bool,
    pub ignore_dots: bool,
    pub envelope_from: Option<String>,
    pub full_name: Option<String>,
    pub recipients: Vec<String>,
}

/// Parses sendmail's command line.
pub fn parse(args: &[String]) -> Result<Options, Failure> {
    let usage = |m: String| Failure::new(Exit::Usage, format!("sendmail: {m}"));
    let mut o = Options::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--" {
            o.recipients.extend(it.by_ref().cloned());
            break;
        }
        let Some(opt) = arg.strip_prefix('-').filter(|o| !o.is_empty()) else {
            o.recipients.push(arg.clone());
            continue;
        };
        let mut value = |name: &str, inline: &str| -> Result<String, Failure> {
            if inline.is_empty() {
                it.next()
                    .cloned()
                    .ok_or_else(|| usage(format!("-{name} needs a value")))
            } else {
                Ok(inline.to_string())
            }
        };
        // -t and -i may come grouped (-ti).
        if opt.chars().all(|c| c == 't' || c == 'i') {
            o.extract |= opt.contains('t');
            o.ignore_dots |= opt.contains('i');
            continue;
        }
        // The option letter may be any character a user typed, not only ASCII.
        let letter = opt.chars().next().map_or(0, char::len_utf8);
        match opt.split_at(letter) {
            ("o", "i") => o.ignore_dots = true,
            ("f", rest) | ("r", rest) => o.envelope_from = Some(value("f", rest)?),
            ("F", rest) => o.full_name = Some(value("F", rest)?),
            // Body type and DSN take a value, inline or as the next argument.
            ("B", rest) | ("N", rest) => {
                value(&opt[..letter], rest)?;
            }
            // Delivery and error modes, verbosity: mailer has one way.
            ("o", _) | ("v", "") | ("b", "m") | ("U", "") => {}
            ("b", mode) => {
                return Err(usage(format!(
                    "-b{mode} is not supported; only sending (-bm)"
                )));
            }
            _ => return Err(usage(format!("unknown option {arg}"))),
        }
    }
    Ok(o)
}

/// Reads the message: to the end of input, or, without -i, to a line holding only ".".
fn read_input(ignore_dots: bool) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::new(Exit::Io, format!("reading standard input: {e}")))?;
    if !ignore_dots {
        let mut start = 0;
        for line in bytes.split_inclusive(|&b| b == b'\n') {
            if line == b".\n" || line == b".\r\n" || line == b"." {
                bytes.truncate(start);
                break;
            }
            start += line.len();
        }
    }
    Ok(bytes)
}

impl SendmailArgs {
    /// Whether `--help` is among the arguments.
    pub fn wants_help(&self) -> bool {
        self.args.iter().any(|a| a == "--help")
    }

    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        let o = parse(&self.args)?;
        let account = ctx.account()?;
        let parse_address = |what: &str, a: &str| -> Result<Address, Failure> {
            let a = a.trim_matches(['<', '>']);
            // cron names the crontab's owner by user name (`root`): that is the account
            // holder, so a name without a domain means the account's own address.
            if !a.contains('@') {
                return Ok(account.email.clone());
            }
            a.parse().map_err(|_| {
                Failure::new(
                    Exit::Usage,
                    format!("sendmail: {what} {a:?} is not an address"),
                )
            })
        };
        let recipients = o
            .recipients
            .iter()
            .flat_map(|r| r.split(','))
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|r| parse_address("recipient", r))
            .collect::<Result<Vec<_>, _>>()?;
        if !o.extract && recipients.is_empty() {
            return Err(Failure::new(
                Exit::Usage,
                "sendmail: no recipients: give them as arguments, or -t to read them from the message",
            ));
        }
        // A bare user name (cronie passes -f root) keeps the account's address, which the
        // submission server accepts.
        let envelope_from = o
            .envelope_from
            .as_deref()
            .filter(|f| f.contains('@'))
            .map(|f| parse_address("-f", f))
            .transpose()?;
        let input = read_input(o.ignore_dots)?;
        let request = SendmailRequest {
            input,
            extract: o.extract,
            envelope_from,
            full_name: o.full_name,
            recipients,
        };
        let report = ctx.block_on(crate::commands::sendmail::run(&account, request))??;
        report.outcome()
    }
}

#[cfg(test)]
mod tests;
