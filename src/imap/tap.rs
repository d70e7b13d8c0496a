//! Keeps the server's last tagged NO or BAD line as it came over the wire.
//!
//! async-imap reports a refusal only as a debug rendering of its parsed form. Errors
//! quote the server's own words instead, taken here from the bytes themselves, so a
//! change in async-imap's formatting cannot change what users read.

use std::fmt::Debug;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// At most this much of a status line is kept.
const MAX_LINE: usize = 1000;

/// What the tap has seen; shared between the stream and the session.
#[derive(Debug, Default)]
pub struct Seen {
    line: Vec<u8>,
    mode: Mode,
    refusal: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// At the start of a line.
    #[default]
    Start,
    /// In a line that may be a tagged status line (mailer's tags start with `A`).
    Collect,
    /// In any other line.
    Skip,
}

pub type Shared = Arc<Mutex<Seen>>;

impl Seen {
    /// The text after `NO` or `BAD` of the last refusal seen, once.
    pub fn take_refusal(shared: &Shared) -> Option<String> {
        shared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .refusal
            .take()
    }

    fn feed(&mut self, mut bytes: &[u8]) {
        while let Some(i) = memchr::memchr(b'\n', bytes) {
            self.take(&bytes[..i]);
            self.end_line();
            bytes = &bytes[i + 1..];
        }
        self.take(bytes);
    }

    fn take(&mut self, part: &[u8]) {
        let Some(&first) = part.first() else { return };
        if self.mode == Mode::Start {
            self.mode = if first == b'A' {
                Mode::Collect
            } else {
                Mode::Skip
            };
        }
        if self.mode == Mode::Collect {
            let room = MAX_LINE.saturating_sub(self.line.len());
            self.line.extend_from_slice(&part[..part.len().min(room)]);
        }
    }

    fn end_line(&mut self) {
        if self.mode == Mode::Collect
            && let Some(text) = refusal_text(&self.line)
        {
            self.refusal = Some(text);
        }
        self.line.clear();
        self.mode = Mode::Start;
    }
}

/// `A0007 NO [TRYCREATE] No such mailbox` gives `[TRYCREATE] No such mailbox`.
fn refusal_text(line: &[u8]) -> Option<String> {
    let line = String::from_utf8_lossy(line);
    let (tag, rest) = line.trim_end().split_once(' ')?;
    let tagged = tag.len() > 1 && tag[1..].bytes().all(|b| b.is_ascii_digit());
    let (status, text) = rest.split_once(' ').unwrap_or((rest, ""));
    let refused = status.eq_ignore_ascii_case("NO") || status.eq_ignore_ascii_case("BAD");
    (tagged && refused).then(|| crate::error::one_line(text))
}

/// A stream that shows every byte it reads to a [`Seen`].
#[derive(Debug)]
pub struct Tap<S> {
    inner: S,
    seen: Shared,
}

impl<S> Tap<S> {
    pub fn new(inner: S, seen: Shared) -> Self {
        Tap { inner, seen }
    }

    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tap<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            let mut seen = this.seen.lock().unwrap_or_else(|e| e.into_inner());
            seen.feed(&buf.filled()[before..]);
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tap<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_tagged_refusal_even_when_split_across_reads() {
        let mut seen = Seen::default();
        seen.feed(b"* OK ready\r\nA0001 OK done\r\nA00");
        seen.feed(b"02 NO [AUTHENTICATIONFAILED] Authentication");
        seen.feed(b" failed.\r\n");
        assert_eq!(
            seen.refusal.as_deref(),
            Some("[AUTHENTICATIONFAILED] Authentication failed.")
        );
    }

    #[test]
    fn ignores_untagged_lines_and_other_statuses() {
        let mut seen = Seen::default();
        seen.feed(b"* NO [ALERT] disk full\r\nA0003 OK [READ-ONLY] done\r\nAbc NO x\r\n");
        assert_eq!(seen.refusal, None);
        seen.feed(b"A0004 BAD Error in IMAP command\r\n");
        assert_eq!(seen.refusal.as_deref(), Some("Error in IMAP command"));
    }
}
