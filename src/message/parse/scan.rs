//! The MIME tree of a message read line by line, without decoding any part: what
//! `fetch` needs to list attachments for every message it stores, several times
//! cheaper than a full parse on messages with attachments. It reads the tree as
//! mail-parser does, so `fetch` and `read` list the same parts: a delimiter line
//! belongs to the innermost open multipart with that boundary (a nested multipart may
//! reuse its parent's), and a delimiter of an outer multipart ends the inner ones.

use mail_parser::{MessageParser, MimeHeaders};

use super::parts::{self, AttachmentInfo, Leaf};
use crate::message::lines::{DashLines, line_at};

/// The leaves of the message, in order.
pub fn leaves(message: &[u8]) -> Vec<Leaf> {
    let mut scan = Scan::default();
    let (dashes, mut at) = (DashLines::default(), 0);
    // A header section is read line by line; a body only at its delimiter lines.
    while at < message.len() {
        let (start, line) = match scan.state {
            State::Headers => (at, line_at(message, at)),
            _ => match dashes.next(message, at) {
                Some(found) => found,
                None => break,
            },
        };
        scan.line(message, start, line);
        at = start + line.len();
    }
    scan.end_part(message, message.len());
    scan.leaves
}

/// An open multipart.
struct Open {
    boundary: Vec<u8>,
    alternative: Option<usize>,
    digest: bool,
}

#[derive(Default, PartialEq)]
enum State {
    /// Reading a header section.
    #[default]
    Headers,
    /// In a leaf's body, which starts at this offset.
    Body(usize),
    /// Between a multipart's header and its first delimiter, or after its end.
    Outside,
}

#[derive(Default)]
struct Scan {
    stack: Vec<Open>,
    leaves: Vec<Leaf>,
    alternatives: usize,
    state: State,
    /// Where the header section being read starts.
    headers_at: usize,
    /// The leaf whose body is being read.
    leaf: Option<(Leaf, bool)>,
}

impl Scan {
    fn line(&mut self, message: &[u8], at: usize, line: &[u8]) {
        if let Some((depth, close)) = self.delimiter(line) {
            self.end_part(message, at);
            self.stack.truncate(depth + 1);
            if close {
                self.stack.pop();
                self.state = State::Outside;
            } else {
                self.state = State::Headers;
                self.headers_at = at + line.len();
            }
            return;
        }
        if self.state == State::Headers && line.iter().all(u8::is_ascii_whitespace) {
            let headers = &message[self.headers_at..at];
            self.part(headers, at + line.len());
        }
    }

    /// The open multipart (by depth) this line is a delimiter of, innermost first, and
    /// whether it is the closing one.
    fn delimiter(&self, line: &[u8]) -> Option<(usize, bool)> {
        let mut innermost = self.stack.iter().enumerate().rev();
        innermost.find_map(|(depth, open)| {
            parts::delimiter(line, &open.boundary).map(|close| (depth, close))
        })
    }

    /// A header section has ended: a multipart opens, or a leaf's body starts.
    fn part(&mut self, headers: &[u8], body_at: usize) {
        let parsed = MessageParser::default().parse_headers(headers);
        let h = parsed.as_ref();
        let ct = h.and_then(|h| h.content_type());
        let parent = self.stack.last();
        let in_digest = parent.is_some_and(|p| p.digest);
        let alternative = parent.and_then(|p| p.alternative);
        let content_type = parts::media_type(ct.map(|c| (c.ctype(), c.subtype())), in_digest);
        let boundary = ct.and_then(|c| c.attribute("boundary"));
        if let (Some(sub), Some(boundary)) = (content_type.strip_prefix("multipart/"), boundary)
            && self.stack.len() < parts::MAX_DEPTH
        {
            let alternative = match sub == "alternative" {
                true => {
                    self.alternatives += 1;
                    Some(self.alternatives)
                }
                false => alternative,
            };
            self.stack.push(Open {
                boundary: boundary.as_bytes().to_vec(),
                alternative,
                digest: sub == "digest",
            });
            self.state = State::Outside;
            return;
        }
        let content_type = match content_type.starts_with("multipart/") {
            true => "text/plain".to_string(),
            false => content_type,
        };
        let base64 = h
            .and_then(|h| h.content_transfer_encoding())
            .is_some_and(|c| c.eq_ignore_ascii_case("base64"));
        let leaf = Leaf {
            part: 0,
            info: AttachmentInfo {
                filename: h.and_then(|h| h.attachment_name()).map(str::to_string),
                content_type,
                size: 0,
            },
            marked_attachment: h
                .and_then(|h| h.content_disposition())
                .is_some_and(|d| d.is_attachment()),
            alternative,
        };
        self.leaf = Some((leaf, base64));
        self.state = State::Body(body_at);
    }

    /// The part being read ends where a delimiter line starts (`end`), the line break
    /// before it belonging to the delimiter.
    fn end_part(&mut self, message: &[u8], end: usize) {
        if self.state == State::Headers && end > self.headers_at {
            // A header section that runs to here: a part with no body.
            self.part(&message[self.headers_at..end], end);
        }
        let state = std::mem::take(&mut self.state);
        let (Some((mut leaf, base64)), State::Body(start)) = (self.leaf.take(), state) else {
            return;
        };
        let mut stop = end.max(start);
        if stop > start && message[stop - 1] == b'\n' {
            stop -= 1;
            if stop > start && message[stop - 1] == b'\r' {
                stop -= 1;
            }
        }
        let body = &message[start..stop];
        leaf.info.size = if base64 {
            decoded_size(body)
        } else {
            body.len()
        };
        self.leaves.push(leaf);
    }
}

/// The CR and LF bytes of `body`. A base64 body has a break every 76 characters, too
/// many for memchr to find one at a time; a plain count vectorises, and does so several
/// times better summed a byte wide, 255 bytes at a time, than into a usize per byte
/// (this count was a tenth of `fetch`'s CPU with attachments).
fn line_breaks(body: &[u8]) -> usize {
    let count = |chunk: &[u8]| {
        chunk
            .iter()
            .fold(0u8, |n, &b| n + u8::from(b == b'\r' || b == b'\n'))
    };
    body.chunks(255)
        .map(|chunk| usize::from(count(chunk)))
        .sum()
}

/// The size of a base64 body once decoded, from its encoded size.
fn decoded_size(body: &[u8]) -> usize {
    let breaks = line_breaks(body);
    let padding = body
        .iter()
        .rev()
        .filter(|b| !b.is_ascii_whitespace())
        .take(2)
        .filter(|&&b| b == b'=')
        .count();
    // Without its `=` padding, a last group of 2 or 3 characters is 1 or 2 bytes.
    let chars = body.len().saturating_sub(breaks);
    let unpadded = match chars % 4 {
        2 => 1,
        3 => 2,
        _ => 0,
    };
    (chars / 4 * 3 + unpadded).saturating_sub(padding)
}

#[cfg(test)]
mod tests {
    use super::line_breaks;

    #[test]
    fn line_breaks_counts_every_cr_and_lf_across_chunks() {
        let naive = |b: &[u8]| b.iter().filter(|&&c| c == b'\r' || c == b'\n').count();
        let mut body = Vec::new();
        for len in [0, 1, 254, 255, 256, 510, 511, 1000] {
            for fill in [b'\r', b'\n', b'A'] {
                body.clear();
                body.resize(len, fill);
                assert_eq!(line_breaks(&body), naive(&body), "{len} of {fill}");
            }
        }
        let base64: Vec<u8> = (0..10_000u32)
            .flat_map(|i| match i % 78 {
                76 => *b"\r",
                77 => *b"\n",
                _ => *b"Q",
            })
            .collect();
        assert_eq!(line_breaks(&base64), naive(&base64));
    }
}
