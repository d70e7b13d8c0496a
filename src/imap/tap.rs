//! Watches what the server sends before async-imap parses it: keeps its last tagged NO
//! or BAD line as it came over the wire, and enforces the limits on a response.
//!
//! async-imap reports a refusal only as a debug rendering of its parsed form. Errors
//! quote the server's own words instead, taken here from the bytes themselves, so a
//! change in async-imap's formatting cannot change what users read.
//!
//! async-imap buffers a whole response before parsing it, and its parser recurses into
//! every parenthesised list: a line without an end would fill memory, and a
//! BODYSTRUCTURE nested a few thousand levels deep would overflow the stack. The tap
//! refuses both before they reach the parser (`net::limits`).

use std::fmt::Debug;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::net::Unsent;
use crate::net::limits::{self, TooMuch};

/// At most this much of a status line is kept.
const MAX_LINE: usize = 1000;

/// What the tap has seen; shared between the stream and the session.
#[derive(Debug, Default)]
pub struct Seen {
    line: Vec<u8>,
    mode: Mode,
    refusal: Option<String>,
    /// The refusal of the mailbox opened in the login's write, kept apart so that a
    /// refused login is told in the login's words.
    pipelined_refusal: Option<String>,
    /// Tagged responses (OK, NO or BAD) seen: one per command the server completed.
    completions: u64,
    /// The capabilities of the last tagged OK that carried them (`A0001 OK [CAPABILITY
    /// IMAP4rev1 ...] Logged in`), with the count of completions at the time.
    capabilities: Option<(u64, String)>,
    shape: Shape,
    /// Commands to go out right after the next one, in the same write (see
    /// [`Seen::follow_next_command`]).
    trailer: Vec<u8>,
    /// The connection's idle bound, which IDLE turns off while it waits.
    idle_switch: Option<crate::net::IdleSwitch>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// At the start of a line.
    #[default]
    Start,
    /// In a line that may be a tagged status line (async-imap's tags start with `A`,
    /// the mailbox opened in the login's write has `E1`).
    Collect,
    /// In any other line, or after a literal.
    Skip,
}

/// Where the reader is in the grammar of a response, as far as the limits need: the
/// length of the line, quoted strings, parentheses, and literals (`{N}` CRLF, then N
/// bytes that are data, not syntax).
#[derive(Debug, Default)]
struct Shape {
    /// The first bytes of the response, which say what kind it is.
    head: Vec<u8>,
    line: usize,
    depth: usize,
    quoted: bool,
    escaped: bool,
    /// The size of a literal announced at the end of this line, while reading `{N}`.
    announced: Option<u64>,
    /// Whether the announcement is complete (`}` seen) and only CRLF may follow.
    closed: bool,
    /// Bytes of a literal still to come.
    literal: u64,
    /// Bytes of this response so far, literals included.
    total: u64,
}

pub type Shared = Arc<Mutex<Seen>>;

impl Seen {
    /// Keeps the switch of the connection's idle bound.
    pub fn keep_idle_switch(shared: &Shared, switch: crate::net::IdleSwitch) {
        shared.lock().unwrap_or_else(|e| e.into_inner()).idle_switch = Some(switch);
    }

    /// Turns the connection's idle bound off (`paused`) or on again.
    pub fn pause_idle_bound(shared: &Shared, paused: bool) {
        let seen = shared.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(switch) = &seen.idle_switch {
            switch.pause(paused);
        }
    }

    /// How many commands the server has completed so far.
    pub fn completions(shared: &Shared) -> u64 {
        shared.lock().unwrap_or_else(|e| e.into_inner()).completions
    }

    /// The capabilities a command completed after `after` completions announced in its
    /// OK (RFC 3501 7.1: a server may send them there, as Dovecot does after LOGIN),
    /// once; each as the server spelled it.
    pub fn take_capabilities(shared: &Shared, after: u64) -> Option<Vec<String>> {
        let mut seen = shared.lock().unwrap_or_else(|e| e.into_inner());
        let (at, list) = seen.capabilities.take()?;
        (at > after).then(|| list.split_whitespace().map(str::to_string).collect())
    }

    /// Has `commands` (complete lines, each with its own tag) written right after the
    /// next command async-imap sends, before the flush that sends it: RFC 3501 5.5
    /// lets a client pipeline, and async-imap has no way to.
    pub fn follow_next_command(shared: &Shared, commands: &[u8]) {
        let mut seen = shared.lock().unwrap_or_else(|e| e.into_inner());
        seen.trailer.extend_from_slice(commands);
    }

    fn take_trailer(shared: &Shared) -> Vec<u8> {
        std::mem::take(&mut shared.lock().unwrap_or_else(|e| e.into_inner()).trailer)
    }

    /// The refusal of the command pipelined with the login, once.
    pub fn take_pipelined_refusal(shared: &Shared) -> Option<String> {
        let mut seen = shared.lock().unwrap_or_else(|e| e.into_inner());
        seen.pipelined_refusal.take()
    }

    /// The text after `NO` or `BAD` of the last refusal seen, once.
    pub fn take_refusal(shared: &Shared) -> Option<String> {
        shared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .refusal
            .take()
    }

    #[cfg(test)]
    fn feed(&mut self, bytes: &[u8]) -> Result<(), TooMuch> {
        self.feed_mut(&mut bytes.to_vec())
    }

    /// Takes bytes from the server; an error when they pass a limit. A tagged status
    /// line reaches async-imap with its 8-bit bytes as `?`: its parser refuses them,
    /// leaving the session unusable, and servers do send them (Dovecot names a missing
    /// mailbox in UTF-8). The refusal kept here keeps them as they came.
    fn feed_mut(&mut self, mut bytes: &mut [u8]) -> Result<(), TooMuch> {
        while !bytes.is_empty() {
            if self.shape.literal > 0 {
                let skip = bytes
                    .len()
                    .min(usize::try_from(self.shape.literal).unwrap_or(usize::MAX));
                self.shape.literal -= skip as u64;
                self.count(skip)?;
                bytes = &mut std::mem::take(&mut bytes)[skip..];
                continue;
            }
            let end = memchr::memchr(b'\n', bytes).map_or(bytes.len(), |i| i + 1);
            let (part, rest) = std::mem::take(&mut bytes).split_at_mut(end);
            self.count(part.len())?;
            self.syntax(part)?;
            let ended = match part.strip_suffix(b"\n") {
                Some(line) => {
                    self.take(line);
                    true
                }
                None => {
                    self.take(part);
                    false
                }
            };
            if self.mode == Mode::Collect {
                part.iter_mut()
                    .filter(|b| !b.is_ascii())
                    .for_each(|b| *b = b'?');
            }
            if ended {
                self.end_line()?;
            }
            bytes = rest;
        }
        Ok(())
    }

    /// Adds `n` bytes to the size of the response being read.
    fn count(&mut self, n: usize) -> Result<(), TooMuch> {
        self.shape.total += n as u64;
        if self.shape.total > limits::IMAP_RESPONSE {
            let limit = usize::try_from(limits::IMAP_RESPONSE).unwrap_or(usize::MAX);
            return Err(TooMuch::new("a response", limit));
        }
        Ok(())
    }

    /// Follows quotes, parentheses and literal announcements through a part of a line.
    fn syntax(&mut self, part: &[u8]) -> Result<(), TooMuch> {
        let s = &mut self.shape;
        if s.head.len() < 12 {
            let room = 12 - s.head.len();
            s.head.extend_from_slice(&part[..part.len().min(room)]);
        }
        s.line += part.len();
        let lists_uids = [&b"* SEARCH"[..], b"* ESEARCH", b"* SORT"]
            .iter()
            .any(|kind| s.head.starts_with(kind));
        let limit = match lists_uids {
            true => limits::IMAP_SEARCH_LINE,
            false => limits::IMAP_LINE,
        };
        if s.line > limit {
            return Err(TooMuch::new("a line", limit));
        }
        for &b in part {
            if s.quoted {
                match b {
                    _ if s.escaped => s.escaped = false,
                    b'\\' => s.escaped = true,
                    b'"' => s.quoted = false,
                    _ => {}
                }
                continue;
            }
            match (b, s.announced) {
                (b'0'..=b'9', Some(n)) if !s.closed => {
                    s.announced = Some(n.saturating_mul(10).saturating_add(u64::from(b - b'0')));
                }
                (b'+', Some(_)) if !s.closed => {}
                (b'}', Some(_)) if !s.closed => s.closed = true,
                (b'\r' | b'\n', Some(_)) if s.closed => {}
                _ => {
                    s.announced = None;
                    s.closed = false;
                }
            }
            match b {
                b'"' => s.quoted = true,
                b'{' => {
                    s.announced = Some(0);
                    s.closed = false;
                }
                b'(' => {
                    s.depth += 1;
                    if s.depth > limits::IMAP_NESTING {
                        return Err(TooMuch::new("nesting", limits::IMAP_NESTING));
                    }
                }
                b')' => s.depth = s.depth.saturating_sub(1),
                _ => {}
            }
        }
        Ok(())
    }

    fn take(&mut self, part: &[u8]) {
        let Some(&first) = part.first() else { return };
        if self.mode == Mode::Start {
            self.mode = if first == b'A' || first == b'E' {
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

    /// A line ended: either a literal follows, and the response goes on after it, or
    /// the response is complete.
    fn end_line(&mut self) -> Result<(), TooMuch> {
        let s = &mut self.shape;
        s.line = 0;
        if let (Some(n), true) = (s.announced, s.closed) {
            if n > limits::IMAP_LITERAL as u64 {
                return Err(TooMuch::new("a literal", limits::IMAP_LITERAL));
            }
            s.literal = n;
            s.announced = None;
            s.closed = false;
            self.line.clear();
            self.mode = Mode::Skip;
            return Ok(());
        }
        *s = Shape::default();
        if self.mode == Mode::Collect
            && let Some((status, text)) = tagged_status(&self.line)
        {
            self.completions += 1;
            if status != "OK" && self.line.first() == Some(&b'E') {
                self.pipelined_refusal = Some(text);
            } else if status != "OK" {
                self.refusal = Some(text);
            } else if let Some(list) = capability_code(&text) {
                self.capabilities = Some((self.completions, list.to_string()));
            }
        }
        self.line.clear();
        self.mode = Mode::Start;
        Ok(())
    }
}

/// `A0007 NO [TRYCREATE] No such mailbox` gives `("NO", "[TRYCREATE] No such mailbox")`.
fn tagged_status(line: &[u8]) -> Option<(&'static str, String)> {
    let line = String::from_utf8_lossy(line);
    let (tag, rest) = line.trim_end().split_once(' ')?;
    let tagged = tag.len() > 1 && tag[1..].bytes().all(|b| b.is_ascii_digit());
    let (status, text) = rest.split_once(' ').unwrap_or((rest, ""));
    let status = ["OK", "NO", "BAD"]
        .into_iter()
        .find(|s| status.eq_ignore_ascii_case(s))?;
    tagged.then(|| (status, crate::error::one_line(text)))
}

/// The list of a `[CAPABILITY ...]` response code at the start of an OK's text.
fn capability_code(text: &str) -> Option<&str> {
    let rest = text.strip_prefix('[')?;
    let (code, rest) = rest.split_once(' ')?;
    if !code.eq_ignore_ascii_case("CAPABILITY") {
        return None;
    }
    rest.split_once(']').map(|(list, _)| list)
}

/// A stream that shows every byte it reads to a [`Seen`].
#[derive(Debug)]
pub struct Tap<S> {
    inner: S,
    seen: Shared,
    /// The conversation, for `-vv`.
    wire: Option<crate::net::wire::Transcript>,
    /// What the client wrote since its last flush, and how much of it has gone: async-
    /// imap writes a command as its tag, a space, the command and CRLF, then flushes,
    /// and each write would be a TLS record and a segment of its own.
    out: Unsent,
}

/// At most this much is held before it is written on.
const WRITE_BUFFER: usize = 64 * 1024;

impl<S> Tap<S> {
    pub fn new(inner: S, seen: Shared) -> Self {
        let wire = crate::net::wire::Transcript::new("imap");
        Tap {
            inner,
            seen,
            wire,
            out: Unsent::default(),
        }
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
            if let Err(limit) = seen.feed_mut(&mut buf.filled_mut()[before..]) {
                return Poll::Ready(Err(limit.into_io()));
            }
            if let Some(wire) = this.wire.as_mut() {
                wire.server(&buf.filled()[before..]);
            }
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> Tap<S> {
    /// Writes on what is held, all of it.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.out.poll_send(&mut self.inner, cx)
    }
}

/// Writes are held until a flush (or [`WRITE_BUFFER`] bytes), so that a command leaves
/// in one write.
impl<S: AsyncWrite + Unpin> AsyncWrite for Tap<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        if this.out.len() >= WRITE_BUFFER {
            match this.poll_drain(cx) {
                Poll::Ready(Ok(())) => {}
                other => return other.map(|r| r.map(|()| 0)),
            }
        }
        let n = buf.len().min(WRITE_BUFFER - this.out.len());
        this.out.push(&buf[..n]);
        if let Some(wire) = this.wire.as_mut() {
            wire.client(&buf[..n]);
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        let trailer = Seen::take_trailer(&this.seen);
        if !trailer.is_empty() {
            if let Some(wire) = this.wire.as_mut() {
                wire.client(&trailer);
            }
            this.out.push(&trailer);
        }
        match this.poll_drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        match this.poll_drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_shutdown(cx),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests;
