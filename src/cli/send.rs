//! `mailer send`: its flags, and the request they become.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use clap::Args;

use crate::commands::send::{Content, SendRequest};
use crate::error::{Exit, Failure};
use crate::message::compose::{self, AttachmentFile, Draft};

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
    #[arg(long, value_name = "PATH", conflicts_with = "raw")]
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

    /// Print the exact message that would be sent, and send nothing
    #[arg(long)]
    dry_run: bool,

    /// Fail instead of queueing the message when the server is temporarily unreachable
    #[arg(long)]
    no_queue: bool,
}

impl SendArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        let account = ctx.account()?;
        let request = self.to_request()?;
        let report = ctx.block_on(crate::commands::send::run(&account, request))??;
        crate::output::send_report(&report, ctx.json);
        report.outcome()
    }
}

impl SendArgs {
    /// Checks every flag and reads every file, so that nothing fails after connecting.
    pub fn to_request(&self) -> Result<SendRequest, Failure> {
        let usage = |e: compose::Error| Failure::new(Exit::Usage, e.to_string());
        let to = compose::parse_mailboxes("--to", &self.to).map_err(usage)?;
        let cc = compose::parse_mailboxes("--cc", &self.cc).map_err(usage)?;
        let bcc = compose::parse_mailboxes("--bcc", &self.bcc).map_err(usage)?;

        if let Some(raw) = &self.raw {
            let bytes = if raw.as_os_str() == "-" {
                read_stdin()?
            } else {
                read_file("message", raw)?
            };
            let recipients = (!(to.is_empty() && cc.is_empty() && bcc.is_empty())).then(|| {
                to.iter()
                    .chain(&cc)
                    .chain(&bcc)
                    .map(|m| m.email.clone())
                    .collect()
            });
            return Ok(SendRequest {
                content: Content::Raw { bytes, recipients },
                dry_run: self.dry_run,
                queue: !self.no_queue,
            });
        }

        let from = self
            .from
            .as_deref()
            .map(|f| compose::parse_mailbox("--from", f))
            .transpose()
            .map_err(usage)?;
        let reply_to = self
            .reply_to
            .as_deref()
            .map(|r| compose::parse_mailbox("--reply-to", r))
            .transpose()
            .map_err(usage)?;
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
        let text = match (&self.body, &self.body_file) {
            (Some(b), _) => b.clone(),
            (None, Some(p)) => utf8_text("--body-file", p, read_file("body file", p)?)?,
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
                })?
            }
            (None, None) if html.is_some() || !attachments.is_empty() => String::new(),
            (None, None) => {
                return Err(Failure::new(
                    Exit::Usage,
                    "no body: give --body TEXT, --body-file PATH, or pipe the body on standard input",
                ));
            }
        };

        Ok(SendRequest {
            content: Content::Draft(Box::new(Draft {
                from,
                reply_to,
                to,
                cc,
                bcc,
                subject: self.subject.clone(),
                text,
                html,
                attachments,
                headers,
            })),
            dry_run: self.dry_run,
            queue: !self.no_queue,
        })
    }
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

fn read_attachment(path: &Path) -> Result<AttachmentFile, Failure> {
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
