//! RFC 2046 5.1.1: a multipart ends with its closing delimiter. A truncated message
//! lacks it, and mail-parser then decodes none of its parts. The multiparts are found
//! by walking the MIME tree from the message's own Content-Type (not by every
//! `boundary=` in the text, which a bounce quoting a message is full of).

use crate::message::lines::{DashLines, lines};
use crate::message::parse::parts::{MAX_DEPTH, delimiter};

/// The multiparts of a message, by boundary, outermost first.
#[derive(Debug, Default)]
pub struct Tree {
    /// Every multipart with at least one part.
    pub opened: Vec<Vec<u8>>,
    /// Those not closed where their part of the message ends: where the closing
    /// delimiter belongs (the end of the message, or the start of the enclosing
    /// multipart's next delimiter line), and the boundary.
    pub unclosed: Vec<(usize, Vec<u8>)>,
}

impl Tree {
    pub fn of(message: &[u8]) -> Tree {
        let mut tree = Tree::default();
        tree.walk(message, 0, 0);
        tree
    }

    /// Whether a body line is a delimiter line of one of the multiparts (a line such
    /// as `-----BEGIN PGP SIGNATURE-----` is not), and if so whether a closing one.
    pub fn delimiter(&self, line: &[u8]) -> Option<bool> {
        self.opened.iter().find_map(|b| delimiter(line, b))
    }

    /// Walks `entity`, which starts `at` bytes into the message. Its multipart's parts
    /// lie between delimiter lines of its boundary (RFC 2046 5.1.1: a boundary does not
    /// occur inside the parts), so a part never holds the delimiters of a multipart
    /// around it; one not closed inside its part is closed at the part's end.
    fn walk(&mut self, entity: &[u8], at: usize, depth: usize) {
        let (headers, body) = split(entity);
        let Some(boundary) = boundary(headers).filter(|_| depth < MAX_DEPTH) else {
            return;
        };
        let body_at = at + (entity.len() - body.len());
        let mut starts = Vec::new();
        let mut closing = None;
        let (dashes, mut at) = (DashLines::default(), 0);
        while let Some((start, line)) = dashes.next(body, at) {
            match delimiter(line, &boundary) {
                Some(true) => {
                    closing = Some(start);
                    break;
                }
                Some(false) => starts.push(start),
                None => {}
            }
            at = start + line.len();
        }
        if starts.is_empty() {
            return;
        }
        if closing.is_none() {
            self.unclosed.push((body_at + body.len(), boundary.clone()));
        }
        if self.opened.len() < 64 {
            self.opened.push(boundary);
        }
        let end = closing.unwrap_or(body.len());
        for (i, &start) in starts.iter().enumerate() {
            let next = starts.get(i + 1).copied().unwrap_or(end);
            let part = &body[start..next];
            let first_line = memchr::memchr(b'\n', part).map_or(part.len(), |n| n + 1);
            self.walk(&part[first_line..], body_at + start + first_line, depth + 1);
        }
    }
}

/// The header section and the body: split at the first line that is empty or holds
/// only white space (as the header repair reads it).
fn split(entity: &[u8]) -> (&[u8], &[u8]) {
    let mut at = 0;
    for line in lines(entity) {
        if line.iter().all(u8::is_ascii_whitespace) {
            return (&entity[..at], &entity[at + line.len()..]);
        }
        at += line.len();
    }
    (entity, &[])
}

/// The boundary of a `Content-Type: multipart/...` among these headers.
fn boundary(headers: &[u8]) -> Option<Vec<u8>> {
    let name = b"content-type:";
    let mut lines = headers.split(|b| *b == b'\n').peekable();
    while let Some(line) = lines.next() {
        if line.len() < name.len() || !line[..name.len()].eq_ignore_ascii_case(name) {
            continue;
        }
        let mut value = line[name.len()..].to_vec();
        while let Some(fold) =
            lines.next_if(|l| l.first().is_some_and(|b| *b == b' ' || *b == b'\t'))
        {
            value.extend_from_slice(fold);
        }
        return parameter(&value);
    }
    None
}

/// The `boundary` parameter of a multipart Content-Type value, quoted or not.
fn parameter(value: &[u8]) -> Option<Vec<u8>> {
    let lower = value.to_ascii_lowercase();
    if !lower.trim_ascii_start().starts_with(b"multipart/") {
        return None;
    }
    let at = memchr::memmem::find(&lower, b"boundary=")?;
    let rest = value[at + b"boundary=".len()..].trim_ascii_start();
    let value: Vec<u8> = match rest.first() {
        Some(b'"') => rest[1..]
            .iter()
            .take_while(|b| **b != b'"')
            .copied()
            .collect(),
        _ => rest
            .iter()
            .take_while(|b| !b" \t\r\n;".contains(*b))
            .copied()
            .collect(),
    };
    (!value.is_empty() && value.len() <= 200).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_multiparts_the_message_opens_count() {
        let cut = b"Content-Type: multipart/mixed;\r\n boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n--b2\r\n\r\nx\r\n";
        let ends = Tree::of(cut).unclosed;
        assert_eq!(
            ends,
            [(cut.len(), b"b1".to_vec()), (cut.len(), b"b2".to_vec())]
        );
        assert_eq!(Tree::of(cut).delimiter(b"--b2"), Some(false));
        assert_eq!(Tree::of(cut).delimiter(b"--b2--"), Some(true));
        assert_eq!(
            Tree::of(cut).delimiter(b"-----BEGIN PGP SIGNATURE-----"),
            None
        );
        let closed = b"Content-Type: multipart/mixed; boundary=b1\n\n--b1\n\nx\n--b1--\n";
        assert!(Tree::of(closed).unclosed.is_empty());
        // A bounce quoting a message's headers in its text: nothing is opened.
        let quoted = b"Content-Type: text/plain\r\n\r\n---- returned ----\r\nContent-type: multipart/mixed; boundary=q\r\n\r\n--q\r\nbody\r\n";
        assert!(Tree::of(quoted).opened.is_empty());
    }
}
