//! What an account's last IMAP session learned that lets the next one send more before
//! it waits: the server's capabilities after login, and how many messages each mailbox
//! had when it was listed. A guess that saves round trips, nothing more: a missing,
//! damaged or stale file costs a round trip, never a wrong result, so it is written
//! without fsync and read without complaint.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Hints {
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// Mailbox name (as people write it) to its message count.
    #[serde(default)]
    pub exists: BTreeMap<String, u32>,
}

fn path(account_dir: &Path) -> PathBuf {
    account_dir.join("imap-hints.json")
}

/// The hints of the account whose state directory is `account_dir`; none when there
/// are none or they cannot be read.
pub fn load(account_dir: &Path) -> Hints {
    std::fs::read(path(account_dir))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Replaces the hints (private file, renamed into place); a failure only costs the
/// next session a round trip.
pub fn save(account_dir: &Path, hints: &Hints) {
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        super::create_private_dir(account_dir)?;
        let target = path(account_dir);
        let tmp = account_dir.join(format!(".imap-hints.json.tmp.{}", std::process::id()));
        let mut file = super::private_file()
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        file.write_all(&serde_json::to_vec(hints).map_err(std::io::Error::other)?)?;
        drop(file);
        std::fs::rename(&tmp, target)
    };
    if let Err(e) = write() {
        tracing::debug!("saving the IMAP hints in {}: {e}", account_dir.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_survive_a_round_trip_and_a_damaged_file_is_no_hints() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).capabilities.is_empty());
        let mut hints = Hints::default();
        hints.capabilities.push("IMAP4rev1".into());
        hints.exists.insert("INBOX".into(), 60);
        save(dir.path(), &hints);
        let read = load(dir.path());
        assert_eq!(read.capabilities, ["IMAP4rev1"]);
        assert_eq!(read.exists.get("INBOX"), Some(&60));
        std::fs::write(path(dir.path()), b"{not json").unwrap();
        assert!(load(dir.path()).exists.is_empty());
    }
}
