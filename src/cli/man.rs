//! `mailer man`: the manual pages, made from the command-line definitions themselves
//! (clap_mangen), so that they never disagree with `--help`: mailer(1) with the
//! sections a user looks for (exit status, files, environment, examples), and one page
//! per command, mailer-send(1), mailer-queue-flush(1) and so on.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::error::{Exit, Failure};

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print (`send`, `queue flush`); mailer(1) without one
    #[arg(value_name = "COMMAND")]
    command: Vec<String>,
    /// Write every page (mailer.1, mailer-send.1 ...) into DIR instead, such as
    /// ~/.local/share/man/man1
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    dir: Option<PathBuf>,
}

impl ManArgs {
    /// `cli` is mailer's whole command line, as clap defines it.
    pub fn run(&self, cli: clap::Command) -> Result<(), Failure> {
        let mut top = cli.disable_help_subcommand(true);
        top.build();
        if let Some(dir) = &self.dir {
            return write_all(&top, dir);
        }
        let mut cmd = &top;
        for word in &self.command {
            cmd = cmd.find_subcommand(word).ok_or_else(|| {
                Failure::new(
                    Exit::Usage,
                    format!(
                        "no command \"{}\": mailer --help lists them",
                        self.command.join(" ")
                    ),
                )
            })?;
        }
        let mut page = Vec::new();
        render(cmd, std::ptr::eq(cmd, &top), &mut page)
            .map_err(|e| Failure::io("making the manual page", e))?;
        std::io::stdout()
            .write_all(&page)
            .map_err(|e| Failure::io("writing the manual page", e))
    }
}

/// Writes mailer.1 and a page for every command and subcommand into `dir`.
fn write_all(top: &clap::Command, dir: &Path) -> Result<(), Failure> {
    let io = |e| {
        Failure::io(
            format!("writing the manual pages into {}", dir.display()),
            e,
        )
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut pages = vec![(top, true)];
    let mut i = 0;
    while i < pages.len() {
        let subcommands = pages[i].0.get_subcommands().filter(|s| !s.is_hide_set());
        pages.extend(subcommands.map(|s| (s, false)));
        i += 1;
    }
    for (cmd, is_top) in pages {
        let name = cmd.get_display_name().unwrap_or(cmd.get_name());
        let mut page = Vec::new();
        render(cmd, is_top, &mut page).map_err(io)?;
        std::fs::write(dir.join(format!("{name}.1")), page).map_err(io)?;
    }
    Ok(())
}

/// One page: clap_mangen's sections, and for mailer(1) the ones a user looks for.
fn render(cmd: &clap::Command, is_top: bool, w: &mut dyn Write) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone());
    if !is_top {
        man.render(w)?;
        return w.write_all(SEE_ALSO.as_bytes());
    }
    man.render_title(w)?;
    man.render_name_section(w)?;
    man.render_synopsis_section(w)?;
    man.render_description_section(w)?;
    man.render_options_section(w)?;
    man.render_subcommands_section(w)?;
    w.write_all(TOP_SECTIONS.as_bytes())?;
    man.render_version_section(w)
}

const SEE_ALSO: &str = r#".SH "SEE ALSO"
\fBmailer\fR(1), for the configuration, exit status, files and environment of every command.
"#;

/// The sections of mailer(1) that clap has no place for.
const TOP_SECTIONS: &str = r#".SH "EXIT STATUS"
The codes of sysexits.h, the same for every command:
.TP
\fB0\fR
Success.
.TP
\fB64\fR
The command line is wrong: a flag, an address or a header.
.TP
\fB65\fR
The data is wrong: a message that does not parse, a mailbox that does not exist, a
message or recipient the server refused for good.
.TP
\fB66\fR
An input file is missing or unreadable.
.TP
\fB69\fR
The server cannot be used as configured (TLS fails, STARTTLS is not offered).
.TP
\fB70\fR
A bug in mailer.
.TP
\fB73\fR
An output file cannot be created (an account of that name is already there).
.TP
\fB74\fR
A local input/output error.
.TP
\fB75\fR
A temporary failure: running again later may succeed (a message sent is then in the
outbox).
.TP
\fB77\fR
The server refused the login.
.TP
\fB78\fR
The configuration is wrong; the message names the file, line and key.
.SH FILES
.TP
\fI$XDG_CONFIG_HOME/mailer/config.toml\fR (else \fI~/.config/mailer/config.toml\fR)
The accounts: servers, logins, Maildir folders. \fBmailer account add\fR writes it.
.TP
\fI$XDG_STATE_HOME/mailer/\fR (else \fI~/.local/state/mailer/\fR)
What fetch has seen (so that nothing is fetched twice), the outbox of messages still to
send, OAuth2 tokens where no keyring is reachable, the per-account lock. Private: mode 0700.
.TP
\fI~/Mail/ACCOUNT/\fR
The Maildir that fetch stores into, unless the account's \fBmaildir\fR says otherwise.
.SH ENVIRONMENT
.TP
\fBMAILER_CONFIG\fR
The config file, as \fB-c\fR.
.TP
\fBMAILER_ACCOUNT\fR
The account, as \fB-a\fR.
.TP
\fBMAILER_LOG\fR
What to log to standard error, as RUST_LOG reads it (\fB-v\fR is simpler).
.TP
\fBNO_COLOR\fR
When set and not empty, no colour (see \fB--color\fR).
.TP
\fBPAGER\fR
What \fBread\fR shows long messages through on a terminal (default: less -FRX).
.TP
\fBCOLUMNS\fR
The width \fBlist\fR fits its lines to, else the terminal's.
.TP
\fBTZ\fR
The time zone dates are shown in.
.TP
\fBBROWSER\fR
The browser \fBauth login\fR opens the sign-in page in.
.TP
\fBHOME\fR, \fBXDG_CONFIG_HOME\fR, \fBXDG_STATE_HOME\fR
Where the files above are.
.SH EXAMPLES
.TP
Set up an account from its address (servers found for you), then test it:
mailer account add alice@example.org
.br
mailer check
.TP
Send a message with an attachment:
mailer send --to bob@example.org -s "report" --body-file report.md -A report.pdf
.TP
Fetch new mail into the Maildir and list it:
mailer fetch --inbox
.br
mailer list --limit 20
.TP
A daily digest from cron, sent only when there is new mail:
mailer digest --to me@example.org --if-empty skip
.TP
Send what is waiting in the outbox after an outage:
mailer queue flush
.SH "SEE ALSO"
The pages of each command: \fBmailer-send\fR(1), \fBmailer-fetch\fR(1),
\fBmailer-list\fR(1), \fBmailer-read\fR(1), \fBmailer-queue\fR(1), \fBmailer-digest\fR(1),
\fBmailer-account\fR(1), \fBmailer-check\fR(1) and the others; the guides in
/usr/share/doc/mailer/docs.
"#;
