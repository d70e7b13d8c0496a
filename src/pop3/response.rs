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
mod tests {
    use super::*;

    async fn read_body(input: &[u8]) -> Result<Vec<u8>, ReadError> {
        let mut r = tokio::io::BufReader::new(input);
        let mut out = Vec::new();
        body(&mut r, &mut out).await.map(|()| out)
    }

    #[tokio::test]
    async fn unstuffs_dots_and_stops_at_the_terminator() {
        let got =
            read_body(b"Subject: x\r\n\r\n..hidden\r\n.\r\n...two\r\nend\r\n.\r\n+OK next").await;
        assert_eq!(got.unwrap(), b"Subject: x\r\n\r\n.hidden\r\n".to_vec());
        let got = read_body(b"a\r\n...two\r\n.\r\n").await;
        assert_eq!(got.unwrap(), b"a\r\n..two\r\n".to_vec());
    }

    #[tokio::test]
    async fn accepts_bare_lf_and_reports_a_cut() {
        assert_eq!(
            read_body(b"a\n..b\n.\n").await.unwrap(),
            b"a\n.b\n".to_vec()
        );
        assert_eq!(read_body(b"a\r\nb").await, Err(ReadError::Closed));
        assert_eq!(read_body(b"").await, Err(ReadError::Closed));
    }

    #[tokio::test]
    async fn status_lines() {
        let mut r =
            tokio::io::BufReader::new(&b"+OK 2 320\r\n-ERR no such message\r\nHELLO\r\n"[..]);
        assert_eq!(status(&mut r).await, Ok("2 320".into()));
        assert_eq!(
            status(&mut r).await,
            Err(ReadError::Negative("no such message".into()))
        );
        assert_eq!(
            status(&mut r).await,
            Err(ReadError::Garbage("HELLO".into()))
        );
    }
}
