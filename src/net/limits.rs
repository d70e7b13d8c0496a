//! How much a server may send in one piece. Bytes keep flowing from a broken or hostile
//! server, so the idle bound never fires; these caps keep memory bounded whatever it
//! sends, and each failure names the limit.

use std::fmt;

/// A line of an SMTP reply (RFC 5321 allows 512 octets).
pub const SMTP_LINE: usize = 64 << 10;
/// A whole SMTP reply, all its lines (EHLO's is the longest).
pub const SMTP_REPLY: usize = 1 << 20;
/// A POP3 status line (RFC 2449 allows 512 octets).
pub const POP3_STATUS: usize = 64 << 10;
/// A line of a POP3 multi-line reply: a line of a message, or of a listing.
pub const POP3_LINE: usize = 16 << 20;
/// A whole POP3 multi-line reply: one message, or a listing.
pub const POP3_REPLY: usize = 256 << 20;
/// An IMAP response line, outside its literals. (async-imap parses a response again on
/// every read until it is complete, so a long line also costs time.)
pub const IMAP_LINE: usize = 1 << 20;
/// A SEARCH or SORT response line: every UID of a mailbox of two million messages.
pub const IMAP_SEARCH_LINE: usize = 16 << 20;
/// One IMAP literal: a message body, a header.
pub const IMAP_LITERAL: usize = 256 << 20;
/// A whole IMAP response, its literals included: one message and its metadata.
pub const IMAP_RESPONSE: u64 = 320 << 20;
/// A message file `read --file` takes: the size of the largest message a server may send.
pub const MESSAGE_FILE: u64 = 256 << 20;
/// Parentheses nested in an IMAP response (a BODYSTRUCTURE nests one level per part).
pub const IMAP_NESTING: usize = 100;

/// A server sent more than a limit allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub struct TooMuch {
    /// What was too long: "a line", "a reply", "a literal", "nesting".
    pub what: &'static str,
    pub limit: usize,
}

impl fmt::Display for TooMuch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.what {
            "nesting" => write!(f, "parentheses nested deeper than {} levels", self.limit),
            what => write!(f, "{what} longer than {}", size(self.limit)),
        }
    }
}

impl TooMuch {
    pub fn new(what: &'static str, limit: usize) -> TooMuch {
        TooMuch { what, limit }
    }

    /// As an I/O error, the way it travels through lettre and async-imap.
    pub fn into_io(self) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, self)
    }

    /// The limit an I/O error reports, if it is one of ours.
    pub fn of(e: &std::io::Error) -> Option<TooMuch> {
        e.get_ref()?.downcast_ref::<TooMuch>().copied()
    }
}

fn size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{} MiB", b >> 20),
        b => format!("{} KiB", b >> 10),
    }
}

/// Counts what a peer sends: the length of the current line, and of everything since
/// the client last wrote (one reply). For protocols whose replies are lines (SMTP).
#[derive(Debug, Clone)]
pub struct LineGuard {
    line: usize,
    reply: usize,
    max_line: usize,
    max_reply: usize,
}

impl LineGuard {
    pub fn new(max_line: usize, max_reply: usize) -> LineGuard {
        LineGuard {
            line: 0,
            reply: 0,
            max_line,
            max_reply,
        }
    }

    /// Takes bytes read from the peer; an error once a limit is passed.
    pub fn read(&mut self, bytes: &[u8]) -> Result<(), TooMuch> {
        self.reply += bytes.len();
        match memchr::memrchr(b'\n', bytes) {
            Some(last) => self.line = bytes.len() - last - 1,
            None => self.line += bytes.len(),
        }
        if self.line > self.max_line {
            return Err(TooMuch::new("a line", self.max_line));
        }
        if self.reply > self.max_reply {
            return Err(TooMuch::new("a reply", self.max_reply));
        }
        Ok(())
    }

    /// The client wrote: what comes next is another reply.
    pub fn wrote(&mut self) {
        self.reply = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_without_an_end_is_stopped_at_its_limit() {
        let mut g = LineGuard::new(10, 100);
        assert!(g.read(b"220 hello\r\n").is_ok());
        assert!(g.read(b"0123456789").is_ok());
        assert_eq!(g.read(b"x"), Err(TooMuch::new("a line", 10)));
    }

    #[test]
    fn a_reply_of_many_lines_is_stopped_at_its_limit_until_the_client_writes() {
        let mut g = LineGuard::new(10, 20);
        assert!(g.read(b"250-a\r\n250-b\r\n").is_ok());
        assert!(g.read(b"250-c\r\n").is_err());
        g.wrote();
        assert!(g.read(b"250 ok\r\n").is_ok());
    }

    #[test]
    fn limits_read_as_sentences_and_survive_an_io_error() {
        let e = TooMuch::new("a line", 64 << 10).into_io();
        assert_eq!(TooMuch::of(&e), Some(TooMuch::new("a line", 64 << 10)));
        assert_eq!(e.to_string(), "a line longer than 64 KiB");
        assert_eq!(
            TooMuch::new("nesting", 100).to_string(),
            "parentheses nested deeper than 100 levels"
        );
    }
}
