//! One fetch (or digest, or queue flush) per account at a time: an advisory lock on a
//! file in the state directory. The kernel drops it when the process dies, so a killed
//! run never leaves a stale lock behind.

use std::fs::{File, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Exit, Failure};

/// A held lock; released when dropped.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("another mailer run holds {path} (pid {holder}); try again when it has finished")]
    Busy { path: PathBuf, holder: String },
    #[error("locking {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl From<Error> for Failure {
    /// A busy lock is worth another try later (75); a lock file that cannot be
    /// written is a local I/O problem (74).
    fn from(e: Error) -> Self {
        let exit = match e {
            Error::Busy { .. } => Exit::TempFail,
            Error::Io { .. } => Exit::Io,
        };
        Failure::with_cause(exit, e)
    }
}

/// Takes the lock at `path` now, or says who holds it.
pub fn try_acquire(path: &Path) -> Result<Lock, Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        super::create_private_dir(dir).map_err(io)?;
    }
    let mut file = super::private_file()
        .read(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(path)
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "unknown".into());
            return Err(Error::Busy {
                path: path.to_path_buf(),
                holder,
            });
        }
        Err(TryLockError::Error(e)) => return Err(io(e)),
    }
    // Record the holder for the message another run prints; the lock itself is the flock.
    let _ = file.set_len(0);
    let _ = write!(file, "{}", std::process::id());
    Ok(Lock { _file: file })
}

/// Takes the lock at `path`, waiting up to `wait` for another holder to finish. Polls on
/// tokio's timer, so the runtime's other work goes on meanwhile.
pub async fn acquire(path: &Path, wait: Duration) -> Result<Lock, Error> {
    let deadline = Instant::now() + wait;
    loop {
        match try_acquire(path) {
            Err(Error::Busy { .. }) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests;
