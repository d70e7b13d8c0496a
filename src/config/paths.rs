//! Where files are: the config file's default place, the home directory, `~/` in paths.

use std::path::PathBuf;

/// Where the config file is: `$MAILER_CONFIG`, else the XDG location.
pub fn default_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MAILER_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    if let Some(p) = std::env::var_os("XDG_CONFIG_HOME").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p).join("mailer/config.toml"));
    }
    home_dir().map(|h| h.join(".config/mailer/config.toml"))
}

/// The user's home directory, from `$HOME`.
pub fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// Expands a leading `~/` to the home directory.
pub fn expand_tilde(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ if path == "~" => home_dir().unwrap_or_else(|| PathBuf::from(path)),
        _ => PathBuf::from(path),
    }
}
