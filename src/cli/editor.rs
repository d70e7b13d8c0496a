//! Composing in `$VISUAL` or `$EDITOR` (else `vi`), as git does: the template written
//! to a private file, the editor run on it, the text read back and checked.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Exit, Failure};
use crate::message::template::Template;

/// Whether a command with no body should open the editor: standard input is a
/// terminal, so there is a person to type.
pub fn wanted() -> bool {
    std::io::IsTerminal::is_terminal(&std::io::stdin())
}

/// Has the person edit `template`; None when they left it unchanged or the body empty
/// (nothing is to be sent). A text that does not read back keeps its file, named in the
/// error, so nothing typed is lost.
pub fn edit(template: &Template) -> Result<Option<Template>, Failure> {
    let path = private_file(&template.render())?;
    let ran = run_editor(&path);
    let text = ran.and_then(|()| {
        std::fs::read_to_string(&path)
            .map_err(|e| Failure::new(Exit::Io, format!("reading {}: {e}", path.display())))
    });
    let edited = match text.map(|t| Template::read(&t)) {
        Ok(Ok(edited)) => edited,
        Ok(Err(e)) => {
            return Err(Failure::new(
                Exit::Usage,
                format!("{e}; nothing sent, the text is kept in {}", path.display()),
            ));
        }
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
    };
    let _ = std::fs::remove_file(&path);
    Ok((!edited.says_nothing_beyond(template)).then_some(edited))
}

/// A new file only this user can read, in the temporary directory, holding `text`.
fn private_file(text: &str) -> Result<PathBuf, Failure> {
    let name = format!(
        "mailer-{}-{:08x}.eml",
        std::process::id(),
        fastrand::u32(..)
    );
    let path = std::env::temp_dir().join(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    written
        .map_err(|e| Failure::new(Exit::CantCreat, format!("writing {}: {e}", path.display())))?;
    Ok(path)
}

/// Runs the editor on `path` through the shell, so that `EDITOR="code -w"` works.
fn run_editor(path: &Path) -> Result<(), Failure> {
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "vi".to_string());
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("mailer")
        .arg(path)
        .status()
        .map_err(|e| {
            Failure::new(
                Exit::Unavailable,
                format!("running the editor {editor:?}: {e}"),
            )
        })?;
    match status.success() {
        true => Ok(()),
        false => Err(Failure::new(
            Exit::Unavailable,
            format!("the editor {editor:?} ended with {status}: nothing sent"),
        )),
    }
}
