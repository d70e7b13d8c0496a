//! Waiting for a mailbox to change: IDLE (RFC 2177), renewed before the 29 minutes a
//! server may wait, or NOOP where IDLE is not offered.

use std::future::Future;
use std::time::Duration;

use async_imap::extensions::idle::IdleResponse;

use super::error::{Error, imap_error};
use super::session::Session;
use super::tap::Seen;
use crate::net::{bounded, broken};

/// Why an IDLE ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woke {
    /// The server reported something (new mail, a flag, an expunge).
    Changed,
    /// The time to renew the IDLE came first.
    Renew,
    /// The caller's `stop` came first.
    Stopped,
}

impl Session {
    /// Waits in IDLE until the server reports a change, `renew` passes or `stop`
    /// resolves; then ends the IDLE (DONE) and gives the session back. The connection's
    /// idle bound is off while the server is silent by right.
    pub async fn idle(
        self,
        renew: Duration,
        stop: impl Future<Output = ()>,
    ) -> Result<(Session, Woke), Error> {
        // The connection goes into the IDLE handle and comes back out of it; the rest of
        // the session waits here.
        let mut handle = self.inner.idle();
        let (addr, timeout, seen) = (&self.addr, self.timeout, &self.seen);
        bounded(addr, timeout, "IDLE", handle.init())
            .await?
            .map_err(|e| imap_error(addr, "IDLE", e, seen))?;
        Seen::pause_idle_bound(seen, true);
        let woke = {
            let (wait, _interrupt) = handle.wait_with_timeout(renew);
            tokio::select! {
                r = wait => match r {
                    Ok(IdleResponse::NewData(_)) => Ok(Woke::Changed),
                    Ok(IdleResponse::Timeout) => Ok(Woke::Renew),
                    // The stream ended: the connection is gone.
                    Ok(IdleResponse::ManualInterrupt) => Err(broken(addr, "IDLE", &"the server closed the connection")),
                    Err(e) => Err(imap_error(addr, "IDLE", e, seen)),
                },
                () = stop => Ok(Woke::Stopped),
            }
        };
        Seen::pause_idle_bound(seen, false);
        let woke = woke?;
        let inner = bounded(addr, timeout, "DONE", handle.done())
            .await?
            .map_err(|e| imap_error(addr, "DONE", e, seen))?;
        tracing::debug!("IDLE ended: {woke:?}");
        Ok((Session { inner, ..self }, woke))
    }

    /// NOOP: lets a server without IDLE report what changed.
    pub async fn noop(&mut self) -> Result<(), Error> {
        let (addr, t, mark) = (self.addr.clone(), self.timeout, self.mark());
        bounded(&addr, t, "NOOP", self.inner.noop())
            .await?
            .map_err(|e| self.error("NOOP", e))?;
        self.ended("NOOP", mark)
    }
}
