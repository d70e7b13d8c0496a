//! SMTP on the wire (RFC 5321): replies read line by line within the caps of the
//! stream, commands written whole, several in one write where the server offers
//! PIPELINING (RFC 2920). mailer speaks SMTP itself rather than through lettre's
//! connection, which waits for each reply before the next command, has neither
//! PIPELINING nor CHUNKING, and puts its STARTTLS above the stream, out of `-vv`'s sight.

use std::io;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::stream::Stream;

/// A reply: its code and the text of each line.
#[derive(Debug, Clone)]
pub(super) struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    /// The text of every line, on one line.
    pub fn text(&self) -> String {
        crate::error::one_line(&self.lines.join(" "))
    }
}

/// What the server offers after EHLO: its name and each keyword line as it wrote it.
#[derive(Debug, Clone, Default)]
pub(super) struct Offers {
    pub name: String,
    pub keywords: Vec<String>,
}

impl Offers {
    pub fn of(ehlo: &Reply) -> Offers {
        let shown = |word: &str| -> String {
            word.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect()
        };
        let name = ehlo
            .lines
            .first()
            .map_or("", |l| l.split_whitespace().next().unwrap_or(""));
        Offers {
            name: shown(name),
            keywords: ehlo
                .lines
                .iter()
                .skip(1)
                .take(64)
                .map(|l| shown(l.trim()))
                .collect(),
        }
    }

    /// Whether the server offers this extension (`PIPELINING`, `CHUNKING`...).
    pub fn has(&self, extension: &str) -> bool {
        self.keywords.iter().any(|k| {
            let word = k.split([' ', '=']).next().unwrap_or("");
            word.eq_ignore_ascii_case(extension)
        })
    }

    /// Whether AUTH lists this mechanism (also in the old `AUTH=` form).
    pub fn auth(&self, mechanism: &str) -> bool {
        self.keywords.iter().any(|k| {
            let mut words = k.split([' ', '=']);
            let auth = words.next().is_some_and(|w| w.eq_ignore_ascii_case("AUTH"));
            auth && words.any(|m| m.eq_ignore_ascii_case(mechanism))
        })
    }
}

/// The connection, buffered for reading replies.
#[derive(Debug)]
pub(super) struct Wire {
    io: BufReader<Stream>,
}

impl Wire {
    pub fn new(stream: Stream) -> Wire {
        Wire {
            io: BufReader::new(stream),
        }
    }

    /// Writes `bytes` (one command, or several pipelined) and sends them at once.
    pub async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.send_parts(&[bytes]).await
    }

    /// Writes `parts` one after the other (commands, then a message) and sends them at
    /// once: in one write (one TLS record, one segment) up to 64 KiB, and beyond that
    /// each part as it is, so a large message is not copied.
    pub async fn send_parts(&mut self, parts: &[&[u8]]) -> io::Result<()> {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        if total <= 64 * 1024 {
            self.io.write_all(&parts.concat()).await?;
        } else {
            for part in parts {
                self.io.write_all(part).await?;
            }
        }
        self.io.flush().await
    }

    /// Reads one reply, every line of it. The stream caps a line and a reply's size.
    pub async fn reply(&mut self) -> io::Result<Reply> {
        let mut lines = Vec::new();
        let mut code = None;
        loop {
            let mut raw = Vec::new();
            if self.io.read_until(b'\n', &mut raw).await? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection",
                ));
            }
            let line = String::from_utf8_lossy(&raw);
            let line = line.trim_end_matches(['\r', '\n']);
            let (this, last, text) = parse_line(line)?;
            if code.is_some_and(|c| c != this) {
                return Err(malformed(line));
            }
            code = Some(this);
            lines.push(text.to_string());
            if last {
                return Ok(Reply { code: this, lines });
            }
        }
    }

    /// Whether the server sent more than it was asked for: after STARTTLS's reply, what
    /// an attacker in the middle would have written for the TLS session to read (RFC
    /// 3207 5), so the upgrade is refused.
    pub fn has_unread(&self) -> bool {
        !self.io.buffer().is_empty()
    }

    pub fn stream_mut(&mut self) -> &mut Stream {
        self.io.get_mut()
    }

    pub fn stream(&self) -> &Stream {
        self.io.get_ref()
    }

    /// Closes the connection (TLS's close_notify included).
    pub async fn shutdown(&mut self) {
        let _ = self.io.shutdown().await;
    }
}

/// `250-text`, `250 text` or `250`: the code, whether it is the last line, the text.
fn parse_line(line: &str) -> io::Result<(u16, bool, &str)> {
    let digits = line
        .get(..3)
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()));
    let code: u16 = digits
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| malformed(line))?;
    if !(200..600).contains(&code) {
        return Err(malformed(line));
    }
    match line.as_bytes().get(3) {
        None => Ok((code, true, "")),
        Some(b' ') => Ok((code, true, &line[4..])),
        Some(b'-') => Ok((code, false, &line[4..])),
        Some(_) => Err(malformed(line)),
    }
}

fn malformed(line: &str) -> io::Error {
    let shown: String = line
        .chars()
        .take(80)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("not an SMTP reply: {shown:?}"),
    )
}

/// The message for DATA (RFC 5321 4.5.2): a line starting with `.` gets another, and
/// the end is CRLF `.` CRLF.
pub(super) fn dot_stuffed(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 64 + 5);
    let mut line_start = true;
    for &b in bytes {
        if line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_lines_and_what_the_server_offers() {
        assert_eq!(
            parse_line("250-mail.example").unwrap(),
            (250, false, "mail.example")
        );
        assert_eq!(parse_line("250 OK").unwrap(), (250, true, "OK"));
        assert_eq!(parse_line("354").unwrap(), (354, true, ""));
        for bad in ["25", "abc ok", "250x", "999 no", "hello"] {
            assert!(parse_line(bad).is_err(), "{bad}");
        }
        let ehlo = Reply {
            code: 250,
            lines: [
                "mx.example greets you",
                "PIPELINING",
                "SIZE 1000",
                "AUTH=LOGIN",
                "AUTH PLAIN XOAUTH2",
                "CHUNKING",
            ]
            .map(String::from)
            .to_vec(),
        };
        let offers = Offers::of(&ehlo);
        assert_eq!(offers.name, "mx.example");
        assert!(offers.has("pipelining") && offers.has("SIZE") && offers.has("CHUNKING"));
        assert!(!offers.has("STARTTLS") && !offers.has("PIPE"));
        assert!(offers.auth("PLAIN") && offers.auth("LOGIN") && offers.auth("XOAUTH2"));
        assert!(!offers.auth("OAUTHBEARER"));
    }

    #[test]
    fn data_is_dot_stuffed_and_ended() {
        assert_eq!(
            dot_stuffed(b".hi\r\nok\r\n..\r\n"),
            b"..hi\r\nok\r\n...\r\n.\r\n"
        );
        assert_eq!(dot_stuffed(b"no end"), b"no end\r\n.\r\n");
    }
}
