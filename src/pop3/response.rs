//! POP3 replies (RFC 1939): status lines (`+OK ...`, `-ERR ...`) and multi-line bodies
//! ended by a lone `.`, with dot-stuffing undone. Lines may end in CRLF or, from sloppy
//! servers, a bare LF; both are kept as they came.

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// A message larger than this is refused rather than buffered.
pub const MAX_MESSAGE: usize = 256 << 20;

/// Why a reply could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The connection ended mid-reply.
    Closed,
    /// The reply is not POP3 (the text is cut for display).
    Garbage(String),
    /// A negative reply, with the server's text.
    Negative(String),
    TooLarge,
    Io(String),
}

/// Reads one status line; `Ok` carries the text after `+OK`.
pub async fn status<R: AsyncBufRead + Unpin>(r: &mut R) -> Result<String, ReadError> {
    let mut line = Vec::with_capacity(64);
    let n = r
        .read_until(b'\n', &mut line)
        .await
        .map_err(|e| ReadError::Io(e.to_string()))?;
    if n == 0 || !line.ends_with(b"\n") {
        return Err(ReadError::Closed);
    }
    let text = String::from_utf8_lossy(&line);
    let text = text.trim_end();
    if let Some(rest) = text.strip_prefix("+OK") {
        Ok(rest.trim_start().to_string())
    } else if let Some(rest) = text.strip_prefix("-ERR") {
        Err(ReadError::Negative(rest.trim_start().to_string()))
    } else {
        Err(ReadError::Garbage(text.chars().take(80).collect()))
    }
}

/// Reads the lines of a multi-line reply up to the terminating `.` line, undoing
/// dot-stuffing, into `out` (cleared first).
pub async fn body<R: AsyncBufRead + Unpin>(r: &mut R, out: &mut Vec<u8>) -> Result<(), ReadError> {
    out.clear();
    loop {
        let start = out.len();
        let n = r
            .read_until(b'\n', out)
            .await
            .map_err(|e| ReadError::Io(e.to_string()))?;
        if n == 0 || !out.ends_with(b"\n") {
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
        if out.len() > MAX_MESSAGE {
            return Err(ReadError::TooLarge);
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
