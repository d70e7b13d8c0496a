//! Saving files whose names come from messages: never outside the chosen directory,
//! never over an existing file.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A file name from a message made safe: only its last path component, without control
/// characters, never `.`/`..`/empty (then `fallback`).
pub fn safe_name(name: Option<&str>, fallback: &str) -> String {
    let last = name.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .to_string();
    if cleaned.is_empty() {
        fallback.to_string()
    } else {
        // Keep names within common file-system limits (255 bytes).
        let mut cut = cleaned;
        while cut.len() > 200 {
            cut.pop();
        }
        cut
    }
}

/// Writes `bytes` to a new file named `name` in `dir`; if that name is taken, tries
/// `stem (1).ext`, `stem (2).ext`, ... The file is created with O_EXCL, so an existing
/// file or symlink is never written through.
pub fn save_new(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
        _ => (name.to_string(), String::new()),
    };
    for n in 0..10_000 {
        let candidate = if n == 0 {
            name.to_string()
        } else {
            format!("{stem} ({n}){ext}")
        };
        let path = dir.join(&candidate);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                f.write_all(bytes)?;
                f.sync_all()?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(format!(
        "too many files named like {name:?} in {}",
        dir.display()
    )))
}

#[cfg(test)]
mod tests;
