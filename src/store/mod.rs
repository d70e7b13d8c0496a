//! Local storage: Maildir folders, sync state, and the per-account lock.
//!
//! Everything here is about durability: a message counts as stored only once its file and
//! the directory entry naming it are on disk, and state never runs ahead of the files.

pub mod files;
pub mod hints;
pub mod lock;
pub mod maildir;
pub mod outbox;
pub mod sent;
pub mod state;
pub mod tokens;

use std::path::{Path, PathBuf};

use crate::error::{Exit, Failure};

/// Neither `XDG_STATE_HOME` nor `HOME` says where mailer may keep its state.
#[derive(Debug, thiserror::Error)]
#[error("no state directory: set XDG_STATE_HOME or HOME")]
pub struct NoStateDir;

impl From<NoStateDir> for Failure {
    fn from(e: NoStateDir) -> Self {
        Failure::with_cause(Exit::Config, e)
    }
}

/// Where mailer keeps its own state: `$XDG_STATE_HOME/mailer`, else `~/.local/state/mailer`.
pub fn state_root() -> Result<PathBuf, NoStateDir> {
    if let Some(p) = std::env::var_os("XDG_STATE_HOME").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p).join("mailer"));
    }
    crate::config::home_dir()
        .map(|h| h.join(".local/state/mailer"))
        .ok_or(NoStateDir)
}

/// The state directory of one account: its outbox, locks and sync state live here.
pub fn account_dir(account: &str) -> Result<PathBuf, NoStateDir> {
    Ok(state_root()?.join(path_component(account)))
}

/// A name made safe as one path component, without collisions: bytes outside
/// `[A-Za-z0-9._-]` become `%XX`, and a leading dot is escaped too.
pub fn path_component(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, b) in name.bytes().enumerate() {
        let safe = b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || (b == b'.' && i > 0);
        if safe {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The name [`path_component`] made `component` from; None when it is not one.
pub fn from_path_component(component: &str) -> Option<String> {
    let bytes = component.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Creates `dir` and any missing parent readable by its owner only (0700), whatever the
/// umask, as mbsync and Dovecot do: mail is private. Existing directories keep their
/// mode.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Options for writing a file readable by its owner only (0600), whatever the umask.
pub fn private_file() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Writes `bytes` to `path` atomically and durably: a temporary file in the same
/// directory, fsync, rename over `path`, fsync of the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let mut file = private_file().create(true).truncate(true).open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    sync_dir(dir)
}

/// Makes a directory's entries (created and renamed files) durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests;
