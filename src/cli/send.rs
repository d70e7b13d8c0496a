//! `mailer send`: its flags, and the request they become.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use clap::Args;

use crate::commands::send::{Content, SendRequest};
use crate::error::{Exit, Failure};
use lettre::message::Mailbox;

use crate::message::compose::{self, AttachmentFile, Draft};
use crate::message::template::Template;

/// Compose a message and submit it over SMTP
///
/// The body comes from --body, --body-file, or standard input when it is not a terminal.
/// Prints the Message-ID on success.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  mailer send --to bob@example.org --subject \"周报\" --body-file report.md --attach report.pdf\n  echo \"disk is 91% full\" | mailer -a ops send --to oncall@example.org --subject \"disk alert\"\n  mailer send --raw message.eml"
)]
pub struct SendArgs {
    /// Recipient; repeat or separate with commas. "Bob <bob@example.org>" is accepted
    #[arg(long, value_name = "ADDR")]
    to: Vec<String>,

    /// Carbon-copy recipient; repeatable
    #[arg(long, value_name = "ADDR")]
    cc: Vec<String>,

    /// Blind-copy recipient: receives the message, never appears in its headers; repeatable
    #[arg(long, value_name = "ADDR")]
    bcc: Vec<String>,

    /// Subject line, in any script
    #[arg(short, long)]
    subject: Option<String>,

    /// Body text
    #[arg(long, conflicts_with_all = ["body_file", "raw"])]
    body: Option<String>,

    /// File holding the body text (UTF-8)
    #[arg(long, value_name = "PATH", conflicts_with = "raw")]
    body_file: Option<PathBuf>,

    /// HTML version of the body; sent as multipart/alternative with the text
    #[arg(long, value_name = "PATH", conflicts_with = "raw")]
    html_file: Option<PathBuf>,

    /// File to attach; repeatable. The content type is guessed from the name
    #[arg(short = 'A', long, value_name = "PATH", conflicts_with = "raw")]
    attach: Vec<PathBuf>,

    /// From address, overriding the account's
    #[arg(long, value_name = "ADDR", conflicts_with = "raw")]
    from: Option<String>,

    /// Reply-To address
    #[arg(long, value_name = "ADDR", conflicts_with = "raw")]
    reply_to: Option<String>,

    /// Extra header, "Name: value"; repeatable
    #[arg(long, value_name = "HEADER", conflicts_with = "raw")]
    header: Vec<String>,

    /// Send this RFC 5322 message as it is ("-" for standard input); recipients come from
    /// its To, Cc and Bcc unless --to/--cc/--bcc are given, and Bcc is removed
    #[arg(long, value_name = "PATH", conflicts_with = "subject")]
    raw: Option<PathBuf>,

    #[command(flatten)]
    leaving: Leaving,
}

/// What becomes of a composed message, for `send`, `reply` and `forward`: sent (queued
/// while the server is out of reach), only shown, or kept as a draft.
#[derive(Debug, Args)]
pub(super) struct Leaving {
    /// Print the exact message that would be sent, and send nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Fail instead of queueing the message when the server is temporarily unreachable
    #[arg(long)]
    pub no_queue: bool,

    /// Save the message in the Drafts mailbox (the one the server marks \Drafts)
    /// instead of sending it
    #[arg(long, conflicts_with = "dry_run")]
    pub draft: bool,
}

impl SendArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        let account = ctx.account().map_err(|e| attach_meant(ctx, e))?;
        // Files and standard input are read before the runtime starts.
        let Some(request) = self.to_request()? else {
            return nothing_sent();
        };
        let report = ctx.block_on(crate::commands::send::run(&account, request))??;
        crate::output::send_report(&report, ctx.json);
        report.outcome()
    }
}

/// `send -a report.pdf`, mutt's habit, names a file where mailer takes an account: say
/// so, when the account is unknown and a file of that name exists.
fn attach_meant(ctx: &super::context::Context, e: Failure) -> Failure {
    match &ctx.account {
        Some(name) if Path::new(name).is_file() && e.to_string().contains("no account named") => {
            Failure::new(
                Exit::Usage,
                format!(
                    "-a is the account (there is none named {name:?}); attach {name} with --attach (-A)"
                ),
            )
        }
        _ => e,
    }
}

impl SendArgs {
    /// Checks every flag and reads every file, so that nothing fails after connecting.
    /// With no body on a terminal, the message is composed in the editor first; None
    /// when it was left empty or unchanged.
    pub fn to_request(&self) -> Result<Option<SendRequest>, Failure> {
        let composing = self.raw.is_none()
            && self.body.is_none()
            && self.body_file.is_none()
            && super::editor::wanted();
        let edited = match composing {
            true => match super::editor::edit(&self.template())? {
                Some(edited) => Some(edited),
                None => return Ok(None),
            },
            false => None,
        };
        let (to, cc, bcc) = match &edited {
            Some(t) => (
                addresses("To", &t.to)?,
                addresses("Cc", &t.cc)?,
                addresses("Bcc", &t.bcc)?,
            ),
            None => (
                compose::parse_mailboxes("--to", &self.to).map_err(usage)?,
                compose::parse_mailboxes("--cc", &self.cc).map_err(usage)?,
                compose::parse_mailboxes("--bcc", &self.bcc).map_err(usage)?,
            ),
        };
        let content = match &self.raw {
            Some(raw) => raw_content(raw, [to.as_slice(), &cc, &bcc].concat())?,
            None => Content::Draft(Box::new(self.draft(to, cc, bcc, edited)?)),
        };
        Ok(Some(SendRequest {
            content,
            dry_run: self.leaving.dry_run,
            queue: !self.leaving.no_queue,
            draft: self.leaving.draft,
        }))
    }

    /// What the editor starts from: the flags given.
    fn template(&self) -> Template {
        Template {
            to: self.to.join(", "),
            cc: self.cc.join(", "),
            bcc: self.bcc.join(", "),
            subject: self.subject.clone().unwrap_or_default(),
            body: String::new(),
        }
    }

    /// A new message from the flags, its files read.
    fn draft(
        &self,
        to: Vec<Mailbox>,
        cc: Vec<Mailbox>,
        bcc: Vec<Mailbox>,
        edited: Option<Template>,
    ) -> Result<Draft, Failure> {
        let from = optional_mailbox("--from", &self.from)?;
        let reply_to = optional_mailbox("--reply-to", &self.reply_to)?;
        let headers = self
            .header
            .iter()
            .map(|h| compose::parse_header(h))
            .collect::<Result<Vec<_>, _>>()
            .map_err(usage)?;
        if to.is_empty() && cc.is_empty() && bcc.is_empty() {
            return Err(usage(compose::Error::NoRecipients));
        }
        let html = match &self.html_file {
            Some(p) => Some(utf8_text("--html-file", p, read_file("HTML file", p)?)?),
            None => None,
        };
        let attachments = self
            .attach
            .iter()
            .map(|p| read_attachment(p))
            .collect::<Result<Vec<_>, _>>()?;
        let may_be_empty = html.is_some() || !attachments.is_empty();
        let (text, subject) = match edited {
            Some(t) => (t.body, Some(t.subject).filter(|s| !s.is_empty())),
            None => (self.body_text(may_be_empty)?, self.subject.clone()),
        };
        Ok(Draft {
            from,
            reply_to,
            to,
            cc,
            bcc,
            subject,
            text,
            html,
            attachments,
            headers,
        })
    }

    /// The body text: --body, --body-file, or standard input when it is not a terminal.
    /// With HTML or attachments, no text at all is fine.
    fn body_text(&self, may_be_empty: bool) -> Result<String, Failure> {
        body_text(&self.body, &self.body_file, may_be_empty)
    }
}

/// The body text: `body`, the file `body_file`, or standard input when it is not a
/// terminal; with `may_be_empty`, no text at all is fine.
pub(super) fn body_text(
    body: &Option<String>,
    body_file: &Option<PathBuf>,
    may_be_empty: bool,
) -> Result<String, Failure> {
    match (body, body_file) {
        (Some(b), _) => Ok(b.clone()),
        (None, Some(p)) => utf8_text("--body-file", p, read_file("body file", p)?),
        (None, None) if !std::io::stdin().is_terminal() => {
            let bytes = read_stdin()?;
            String::from_utf8(bytes).map_err(|e| {
                    Failure::new(
                        Exit::Data,
                        format!(
                            "standard input is not UTF-8 (invalid byte at offset {}): convert it with iconv -t UTF-8, or send the file with --attach",
                            e.utf8_error().valid_up_to()
                        ),
                    )
                })
        }
        (None, None) if may_be_empty => Ok(String::new()),
        (None, None) => Err(Failure::new(
            Exit::Usage,
            "no body: give --body TEXT, --body-file PATH, or pipe the body on standard input",
        )),
    }
}

/// A message left empty or unchanged in the editor: exit 0, and a word on stderr.
pub(super) fn nothing_sent() -> Result<(), Failure> {
    eprintln!("mailer: the message was left empty or unchanged: nothing sent");
    Ok(())
}

/// The addresses of an edited header line (`To`, `Cc`, `Bcc`), checked as the flags are.
pub(super) fn addresses(name: &'static str, line: &str) -> Result<Vec<Mailbox>, Failure> {
    match line.trim().is_empty() {
        true => Ok(Vec::new()),
        false => compose::parse_mailboxes(name, &[line.to_string()]).map_err(usage),
    }
}

fn usage(e: compose::Error) -> Failure {
    Failure::with_cause(Exit::Usage, e)
}

fn optional_mailbox(
    flag: &'static str,
    value: &Option<String>,
) -> Result<Option<Mailbox>, Failure> {
    value
        .as_deref()
        .map(|v| compose::parse_mailbox(flag, v))
        .transpose()
        .map_err(usage)
}

/// An existing message (`--raw PATH`, or `-` for standard input); `recipients` from the
/// flags replace its headers' when there are any.
fn raw_content(raw: &Path, recipients: Vec<Mailbox>) -> Result<Content, Failure> {
    let bytes = match raw.as_os_str() == "-" {
        true => read_stdin()?,
        false => read_file("message", raw)?,
    };
    let recipients =
        (!recipients.is_empty()).then(|| recipients.into_iter().map(|m| m.email).collect());
    Ok(Content::Raw { bytes, recipients })
}

fn read_file(what: &str, path: &Path) -> Result<Vec<u8>, Failure> {
    if path.is_dir() {
        return Err(Failure::new(
            Exit::NoInput,
            format!("reading {what} {}: is a directory", path.display()),
        ));
    }
    std::fs::read(path).map_err(|e| {
        Failure::new(
            Exit::NoInput,
            format!("reading {what} {}: {}", path.display(), io_reason(&e)),
        )
    })
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

fn read_stdin() -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .map_err(|e| Failure::new(Exit::Io, format!("reading standard input: {e}")))?;
    Ok(buf)
}

fn utf8_text(flag: &str, path: &Path, bytes: Vec<u8>) -> Result<String, Failure> {
    String::from_utf8(bytes).map_err(|e| {
        Failure::new(
            Exit::Data,
            format!(
                "{flag} {}: not UTF-8 (invalid byte at offset {}): convert it with iconv -f CHARSET -t UTF-8, or send it as is with --attach",
                path.display(),
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

pub(super) fn read_attachment(path: &Path) -> Result<AttachmentFile, Failure> {
    let data = read_file("attachment", path)?;
    let filename = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "attachment".to_string());
    let content_type = mime_guess::from_path(path)
        .first_or_octet_stream()
        .essence_str()
        .to_string();
    Ok(AttachmentFile {
        filename,
        content_type,
        data,
    })
}
