//! POP3 replies (RFC 1939): status lines (`+OK ...`, `-ERR ...`) and multi-line bodies
//! ended by a lone `.`, with dot-stuffing undone. Lines may end in CRLF or, from sloppy
//! servers, a bare LF; both are kept as they came.
//!
//! Every read is capped (`net::limits`): a line without an end, or a reply without its
//! terminator, fails at the limit instead of filling memory.

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use crate::net::limits::{self, TooMuch};

/// Why a reply could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The connection ended mid-reply.
    Closed,
    /// The reply is not POP3 (the text is cut for display).
    Garbage(String),
    /// A negative reply, with the server's text.
    Negative(String),
    /// A line or the whole reply passed its limit.
    TooMuch(TooMuch),
    Io(String),
}

/// Appends one line, through its `\n`, to `out`; fails once the line passes `limit`
/// bytes. At the end of input it returns what there was, without a line end.
async fn read_line<R: AsyncBufRead + Unpin>(
    r: &mut R,
    out: &mut Vec<u8>,
    limit: usize,
) -> Result<(), ReadError> {
    let start = out.len();
    loop {
        let (taken, done) = {
            let buf = r
                .fill_buf()
                .await
                .map_err(|e| ReadError::Io(e.to_string()))?;
            match memchr::memchr(b'\n', buf) {
                _ if buf.is_empty() => return Ok(()),
                Some(i) => {
                    out.extend_from_slice(&buf[..=i]);
                    (i + 1, true)
                }
                None => {
                    out.extend_from_slice(buf);
                    (buf.len(), false)
                }
            }
        };
        r.consume(taken);
        if out.len() - start > limit {
            return Err(ReadError::TooMuch(TooMuch::new("a line", limit)));
        }
        if done {
            return Ok(());
        }
    }
}

/// Reads one whole status line, without its line end.
async fn status_line<R: AsyncBufRead + Unpin>(r: &mut R) -> Result<String, ReadError> {
    let mut line = Vec::with_capacity(64);
    read_line(r, &mut line, limits::POP3_STATUS).await?;
    if !line.ends_with(b"\n") {
        return Err(ReadError::Closed);
    }
    Ok(String::from_utf8_lossy(&line).trim_end().to_string())
}

/// Reads one status line; `Ok` carries the text after `+OK`.
pub async fn status<R: AsyncBufRead + Unpin>(r: &mut R) -> Result<String, ReadError> {
    parse_status(&status_line(r).await?)
}

fn parse_status(text: &str) -> Result<String, ReadError> {
    if let Some(rest) = text.strip_prefix("+OK") {
        Ok(rest.trim_start().to_string())
    } else if let Some(rest) = text.strip_prefix("-ERR") {
        Err(ReadError::Negative(rest.trim_start().to_string()))
    } else {
        Err(ReadError::Garbage(text.chars().take(80).collect()))
    }
}

/// The answer to an AUTH command: done, or a challenge (`+ base64`).
#[derive(Debug, PartialEq, Eq)]
pub enum AuthReply {
    Ok,
    Challenge(String),
}

/// Reads the reply to AUTH: `+OK`, a `+ ` challenge, or `-ERR` (as `Negative`).
pub async fn auth_reply<R: AsyncBufRead + Unpin>(r: &mut R) -> Result<AuthReply, ReadError> {
    let text = status_line(r).await?;
    let challenge = text
        .strip_prefix("+ ")
        .or(text.strip_prefix("+").filter(|t| t.is_empty()));
    match challenge {
        Some(challenge) => Ok(AuthReply::Challenge(challenge.to_string())),
        None => parse_status(&text).map(|_| AuthReply::Ok),
    }
}

/// Reads the lines of a multi-line reply up to the terminating `.` line, undoing
/// dot-stuffing, into `out` (cleared first).
pub async fn body<R: AsyncBufRead + Unpin>(r: &mut R, out: &mut Vec<u8>) -> Result<(), ReadError> {
    out.clear();
    loop {
        let start = out.len();
        read_line(r, out, limits::POP3_LINE).await?;
        if out.len() == start || !out.ends_with(b"\n") {
            return Err(ReadError::Closed);
        }
        let line = &out[start..];
        if line == b".\r\n" || line == b".\n" {
            out.truncate(start);
            return Ok(());
        }
        if line.first() == Some(&b'.') {
            out.remove(start);
        }
        if out.len() > limits::POP3_REPLY {
            return Err(ReadError::TooMuch(TooMuch::new(
                "a reply",
                limits::POP3_REPLY,
            )));
        }
    }
}

/// Reads a multi-line reply (after its status line) as text lines.
pub async fn lines<R: AsyncBufRead + Unpin>(r: &mut R) -> Result<Vec<String>, ReadError> {
    let mut raw = Vec::new();
    body(r, &mut raw).await?;
    Ok(String::from_utf8_lossy(&raw)
        .lines()
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect())
}

#[cfg(test)]
mod tests;
