//! async-imap's errors turned into ours, with the server's own words for a refusal.

use super::tap::{Seen, Shared};
use crate::net::broken;

/// A failed IMAP step.
pub type Error = crate::net::SessionError;

/// The server's text of the refusal async-imap just reported: from the wire when the tap
/// saw it, else async-imap's own rendering as a last resort.
pub(super) fn refusal(seen: &Shared, rendered: &str) -> String {
    Seen::take_refusal(seen).unwrap_or_else(|| crate::error::one_line(rendered))
}

/// An async-imap failure at `step`.
pub(super) fn imap_error(
    addr: &str,
    step: &str,
    e: async_imap::error::Error,
    seen: &Shared,
) -> Error {
    use async_imap::error::Error as E;
    match e {
        E::No(reply) | E::Bad(reply) => Error::Refused {
            addr: addr.to_string(),
            step: step.to_string(),
            reply: refusal(seen, &reply),
        },
        E::ConnectionLost => broken(addr, step, &"the server closed the connection"),
        E::Io(e) => crate::net::io_failure(addr, step, &e),
        e => broken(addr, step, &e),
    }
}
