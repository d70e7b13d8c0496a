//! The login written with the first command after it, where the server lists PIPELINING
//! and USER (RFC 2449 6.6 and 6.1): `USER`, `PASS` and, say, `LIST` and `UIDL` leave in
//! one write, and the login's replies are read before the command's. One round trip
//! less for every POP3 command.
//!
//! USER and PASS rather than AUTH PLAIN: Cyrus's pop3d, which lists PIPELINING, drops
//! what follows AUTH in the same write (tried against the interop tests' Cyrus: its
//! LIST was never answered), while it answers what follows PASS.

use super::{Error, Session};

impl Session {
    /// What `line` is to be written as: after the deferred login, if it waits.
    pub(super) fn with_deferred(&mut self, line: &[u8]) -> Vec<u8> {
        match self.deferred.as_mut().filter(|d| !d.written) {
            Some(d) => {
                d.written = true;
                [&d.lines[..], line].concat()
            }
            None => line.to_vec(),
        }
    }

    /// Reads the deferred login's replies, once it was written, before any other. A
    /// refusal is the login's, in the server's words; the command written with it was
    /// refused too, and the session ends.
    pub(super) async fn settle(&mut self) -> Result<(), Error> {
        let Some(d) = self.deferred.take_if(|d| d.written) else {
            return Ok(());
        };
        for step in ["USER", "PASS"] {
            match self.read_status(step).await {
                Err(Error::Refused { reply, .. }) => return Err(self.refused(&d.user, reply)),
                other => other?,
            };
        }
        Ok(())
    }
}
