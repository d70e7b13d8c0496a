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
    use async_imap::error::{Error as E, ParseError};
    match e {
        E::No(reply) | E::Bad(reply) => Error::Refused {
            addr: addr.to_string(),
            step: step.to_string(),
            reply: refusal(seen, &reply),
        },
        E::ConnectionLost => broken(addr, step, &"the server closed the connection"),
        E::Parse(ParseError::DataNotUtf8(bytes, _)) => {
            let text = String::from_utf8_lossy(&bytes);
            broken(
                addr,
                step,
                &format!("the server sent text that is not UTF-8: {text:?}"),
            )
        }
        E::Parse(ParseError::Invalid(bytes)) => {
            let text = String::from_utf8_lossy(&bytes);
            broken(addr, step, &format!("not an IMAP response: {text:?}"))
        }
        E::Io(e) => crate::net::io_failure(addr, step, &e),
        e => broken(addr, step, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_bytes_in_parse_errors_are_text_not_numbers() {
        let bad = [0xffu8, b'h', b'i'];
        let utf8 = String::from_utf8(bad.to_vec()).unwrap_err().utf8_error();
        let parse = async_imap::error::ParseError::DataNotUtf8(bad.to_vec(), utf8);
        let e = imap_error(
            "h:1",
            "FETCH",
            async_imap::error::Error::Parse(parse),
            &Shared::default(),
        );
        let text = e.to_string();
        assert!(text.contains("not UTF-8: \"\u{fffd}hi\""), "{text}");
        assert!(!text.contains("255"), "{text}");
    }
}
