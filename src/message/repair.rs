//! Small repairs made to a message before mail-parser 0.11 reads it, each restoring a
//! rule of the RFCs that real mail breaks and that version trips over (a header or a
//! body silently lost). Only what is read is repaired: the stored message keeps its
//! bytes. Each repair is a no-op on well-formed mail, and the message is copied only
//! when one changes something.

use std::borrow::Cow;

use super::lines::{DashLines, line_at};

mod addresses;
mod multipart;

/// The message with every repair below applied.
pub fn repaired(bytes: &[u8]) -> Cow<'_, [u8]> {
    repair(bytes, Bodies::Read)
}

/// The message with the repairs that its headers and MIME structure need, for reading
/// those only (`fetch`'s summary of each message): what is inside a part's body (its
/// base64 padding, its UTF-7) is left alone, so a body is passed over, not read.
pub fn repaired_structure(bytes: &[u8]) -> Cow<'_, [u8]> {
    repair(bytes, Bodies::PassOver)
}

/// Whether the repairs inside parts' bodies are made.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Bodies {
    #[default]
    Read,
    PassOver,
}

fn repair(bytes: &[u8], bodies: Bodies) -> Cow<'_, [u8]> {
    let mut out = Cow::Borrowed(bytes);
    if let Some(fixed) = crlf_for_bare_cr(&out) {
        out = Cow::Owned(fixed);
    }
    // The MIME tree is walked once; again only when a header repair changed the bytes
    // (a boundary folded after its `=`), since its places are offsets into them.
    let mut tree = multipart::Tree::of(&out);
    if let Some(fixed) = header_blocks(&out, &tree, bodies) {
        out = Cow::Owned(fixed);
        tree = multipart::Tree::of(&out);
    }
    if let Some(fixed) = closing_delimiters(&out, tree) {
        out = Cow::Owned(fixed);
    }
    if let Some(fixed) = last_line_ended(&out) {
        out = Cow::Owned(fixed);
    }
    out
}

/// RFC 5322 2.2: a header field ends with CRLF. A message of headers only whose last
/// line has none (a file cut at its end) loses that header in mail-parser: it gets one.
fn last_line_ended(bytes: &[u8]) -> Option<Vec<u8>> {
    let headers_only = memchr::memmem::find(bytes, b"\n\n").is_none()
        && memchr::memmem::find(bytes, b"\n\r\n").is_none();
    let unended = !bytes.is_empty() && !bytes.ends_with(b"\n");
    (headers_only && unended).then(|| [bytes, b"\r\n"].concat())
}

/// RFC 5322 2.1: lines end in CRLF. Old Mac mail and some bounces end them in a bare
/// CR, which mail-parser reads as one endless header line: each bare CR becomes CRLF.
fn crlf_for_bare_cr(bytes: &[u8]) -> Option<Vec<u8>> {
    let bare = |i: usize| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n');
    let first = memchr::memchr_iter(b'\r', bytes).find(|&i| bare(i))?;
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 32);
    out.extend_from_slice(&bytes[..first]);
    for (i, &b) in bytes.iter().enumerate().skip(first) {
        out.push(b);
        if bare(i) {
            out.push(b'\n');
        }
    }
    Some(out)
}

/// The repairs inside header blocks (the message's own, and each part's after a
/// boundary line): a white-space-only separator line, a parameter folded right after
/// its `=`, a `Date:` in the zone `UT` or `Z`, a `Content-Type:` without a subtype; and
/// in a base64 body, its missing `=` padding.
fn header_blocks(bytes: &[u8], tree: &multipart::Tree, bodies: Bodies) -> Option<Vec<u8>> {
    let mut r = Blocks {
        src: bytes,
        tree: Some(tree),
        in_headers: true,
        top: true,
        bodies,
        ..Blocks::default()
    };
    let (dashes, mut at) = (DashLines::default(), 0);
    while at < bytes.len() {
        // A body that no repair reads is passed over up to its next delimiter line.
        let start = match r.in_headers || r.reads_body_lines() {
            true => at,
            false => dashes
                .next(bytes, at)
                .map_or(bytes.len(), |(start, _)| start),
        };
        if start > at {
            r.emit(at, start, &bytes[at..start]);
        }
        if start == bytes.len() {
            break;
        }
        let range = start..start + line_at(bytes, start).len();
        at = range.end;
        match r.in_headers {
            true => r.header_line(range),
            false => r.body_line(range),
        }
    }
    r.flush();
    r.end_body();
    r.out
}

/// The state of [`header_blocks`] as it goes through the lines. Nothing is copied until
/// a repair is needed: until then the output is the input up to `done`.
#[derive(Default)]
struct Blocks<'a> {
    src: &'a [u8],
    /// The multiparts, whose delimiter lines start header blocks.
    tree: Option<&'a multipart::Tree>,
    /// The repaired message, once a repair was made.
    out: Option<Vec<u8>>,
    /// How much of `src` the output holds (while `out` is None).
    done: usize,
    in_headers: bool,
    /// The header line being built with its folded lines, the part of `src` it stands
    /// for, and its text: owned once repaired (a value cut at `=` joined to its fold, a
    /// fixed header).
    current: Option<(usize, usize, Cow<'a, [u8]>)>,
    /// The block being read says `Content-Transfer-Encoding: base64`.
    base64_block: bool,
    /// The block being read has `charset=utf-7`; and the body being read is UTF-7.
    utf7_block: bool,
    utf7: bool,
    /// Still in the message's own header section.
    top: bool,
    /// In a base64 body: the base64 characters so far, and where its last one is.
    base64: Option<(usize, usize)>,
    bodies: Bodies,
}

impl<'a> Blocks<'a> {
    /// Appends `bytes`, which stand for `src[from..to]` in the output.
    fn emit(&mut self, from: usize, to: usize, bytes: &[u8]) {
        // Unchanged text is a slice of `src` itself: the same place, the same length.
        let unchanged =
            std::ptr::eq(bytes.as_ptr(), self.src[from..].as_ptr()) && bytes.len() == to - from;
        let same = self.out.is_none() && from == self.done && unchanged;
        match self.out.as_mut() {
            None if same => self.done = to,
            None => {
                let mut out = Vec::with_capacity(self.src.len() + 64);
                out.extend_from_slice(&self.src[..self.done]);
                out.extend_from_slice(bytes);
                self.out = Some(out);
            }
            Some(out) => out.extend_from_slice(bytes),
        }
    }

    /// Whether the body being read has lines a repair reads (base64, UTF-7).
    fn reads_body_lines(&self) -> bool {
        self.utf7 || self.base64.is_some()
    }

    /// The length of the output so far.
    fn len(&self) -> usize {
        self.out.as_ref().map_or(self.done, Vec::len)
    }

    fn header_line(&mut self, range: std::ops::Range<usize>) {
        let src = self.src;
        let line = &src[range.clone()];
        let text = trim_eol(line);
        let folded = text.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        let blank = text.iter().all(|b| *b == b' ' || *b == b'\t');
        if let Some((start, end, c)) = self.current.as_mut().filter(|_| folded && !blank) {
            *end = range.end;
            if cut_at_equals(c) {
                // RFC 2045 5.1: `name=value`, the fold being white space between tokens.
                let kept = trim_eol(c).len();
                let c = c.to_mut();
                c.truncate(kept);
                c.extend_from_slice(line.trim_ascii_start());
            } else if let Cow::Borrowed(_) = c {
                *c = Cow::Borrowed(&src[*start..range.end]);
            } else {
                c.to_mut().extend_from_slice(line);
            }
            return;
        }
        self.flush();
        if blank {
            // RFC 5322 2.1: the header section ends at an empty line; one holding only
            // white space is taken as one.
            self.emit(range.start, range.end, &line[text.len()..]);
            self.in_headers = false;
            let end = self.len();
            let read = self.bodies == Bodies::Read;
            self.utf7 = std::mem::take(&mut self.utf7_block) && !self.base64_block && read;
            self.base64 = (std::mem::take(&mut self.base64_block) && read).then_some((0, end));
            self.top = false;
            return;
        }
        if !folded && !looks_like_header(text) {
            let mbox_from = range.start == 0 && text.starts_with(b"From ");
            if self.top && !mbox_from {
                // RFC 5322 2.1: the body follows an empty line. Where a sender left it
                // out, the first line that is no header field starts the body.
                self.emit(range.start, range.start, b"\r\n");
            }
            self.in_headers = false;
            self.top = false;
            self.base64_block = false;
            self.utf7_block = false;
            self.emit(range.start, range.end, line);
            return;
        }
        let name = b"content-transfer-encoding:";
        if text.len() > name.len() && text[..name.len()].eq_ignore_ascii_case(name) {
            let value = text[name.len()..].trim_ascii();
            self.base64_block = value.eq_ignore_ascii_case(b"base64");
        }
        let line = match fixed_header(line) {
            Some(fixed) => Cow::Owned(fixed),
            None => Cow::Borrowed(line),
        };
        self.current = Some((range.start, range.end, line));
    }

    fn body_line(&mut self, range: std::ops::Range<usize>) {
        let line = &self.src[range.clone()];
        let text = trim_eol(line);
        if let Some(closing) = self.tree.and_then(|t| t.delimiter(text)) {
            self.end_body();
            // A closing delimiter is followed by its multipart's epilogue, still body
            // text; any other, by a part's header section.
            self.in_headers = !closing;
            self.utf7 = false;
            let padded = text.trim_ascii_end().len();
            if padded < text.len() {
                // RFC 2046 5.1.1 allows white space after a delimiter (transport
                // padding); mail-parser misses such a line after a closing one.
                let mut bare = text[..padded].to_vec();
                bare.extend_from_slice(&line[text.len()..]);
                self.emit(range.start, range.end, &bare);
                return;
            }
        } else if self.utf7
            && let Some(fixed) = utf7_runs_ended(line)
        {
            self.emit(range.start, range.end, &fixed);
            return;
        } else if self.base64.is_some() {
            let n = text.iter().filter(|b| BASE64[usize::from(**b)]).count();
            let end = self.len() + text.trim_ascii_end().len();
            if let Some((chars, last)) = self.base64.as_mut().filter(|_| n > 0) {
                *chars += n;
                *last = end;
            }
        }
        self.emit(range.start, range.end, line);
    }

    /// Writes out the header line being built, with its encoded words repaired.
    fn flush(&mut self) {
        let Some((start, end, mut c)) = self.current.take() else {
            return;
        };
        if let Some(glued) = text_glued_to_words(&c) {
            c = Cow::Owned(glued);
        }
        if let Some(joined) = joined_words(&c) {
            c = Cow::Owned(joined);
        }
        if let Some(listed) = addresses::with_commas(&c) {
            c = Cow::Owned(listed);
        }
        if let Some(joined) = words_in_parameters(&c) {
            c = Cow::Owned(joined);
        }
        let content_type = b"content-type:";
        if c.len() > content_type.len()
            && c[..content_type.len()].eq_ignore_ascii_case(content_type)
        {
            let lower = c.to_ascii_lowercase();
            self.utf7_block = memchr::memmem::find(&lower, b"utf-7").is_some();
        }
        self.emit(start, end, &c);
    }

    /// RFC 2045 6.8: base64 comes in groups of four characters, `=` filling the last.
    /// Without them mail-parser drops the last one or two bytes: they are put back.
    fn end_body(&mut self) {
        let Some((chars, end)) = self.base64.take() else {
            return;
        };
        let padding: &[u8] = match chars % 4 {
            2 => b"==",
            3 => b"=",
            _ => return,
        };
        if self.out.is_none() {
            let done = self.done;
            self.out = Some(self.src[..done].to_vec());
        }
        if let Some(out) = self.out.as_mut() {
            out.splice(end..end, padding.iter().copied());
        }
    }
}

/// Which bytes are base64's characters (RFC 2045 6.8), `=` included: a table, so that
/// counting them in a large attachment is one load a byte.
const BASE64: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'=';
        b += 1;
    }
    table
};

/// An encoded word (RFC 2047): where it is, its charset, its encoding and its text.
struct Word {
    start: usize,
    end: usize,
    charset: String,
    encoding: u8,
    text: Vec<u8>,
}

/// The encoded words of a header line, in order (at most 64).
fn words(line: &[u8]) -> Vec<Word> {
    let mut out = Vec::new();
    let mut at = 0;
    while out.len() < 64 {
        let Some(start) = memchr::memmem::find(&line[at..], b"=?").map(|i| i + at) else {
            break;
        };
        let inner = &line[start + 2..];
        let mut parts = inner.splitn(3, |b| *b == b'?');
        let (Some(charset), Some(encoding), Some(rest)) =
            (parts.next(), parts.next(), parts.next())
        else {
            break;
        };
        let Some(len) = memchr::memmem::find(rest, b"?=") else {
            break;
        };
        let end = start + 2 + charset.len() + 1 + encoding.len() + 1 + len + 2;
        if encoding.len() == 1 && !charset.is_empty() && !charset.contains(&b' ') {
            out.push(Word {
                start,
                end,
                charset: String::from_utf8_lossy(charset).to_ascii_lowercase(),
                encoding: encoding[0].to_ascii_uppercase(),
                text: rest[..len].to_vec(),
            });
        }
        at = end;
    }
    out
}

/// What a B or Q word's text decodes to (Q's `_` and `=XX`), as far as it can.
fn decoded(word: &Word) -> Option<Vec<u8>> {
    use base64::Engine;
    if word.encoding == b'B' {
        let text: Vec<u8> = word.text.iter().copied().filter(|b| *b != b'=').collect();
        return base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(text)
            .ok();
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < word.text.len() {
        match word.text[i] {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = std::str::from_utf8(word.text.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Some(out)
}

/// RFC 2047 6.2: adjacent encoded words are decoded as one, so a UTF-8 character may
/// be split between two; mail-parser decodes each alone and shows U+FFFD. Where a
/// UTF-8 word ends inside a character and the next (after white space only) goes on
/// in the same charset, both become one B word.
fn joined_words(line: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    let words = words(line);
    let mut out = Vec::new();
    let mut copied = 0;
    let mut i = 0;
    while i + 1 < words.len() {
        let (a, b) = (&words[i], &words[i + 1]);
        let between = &line[a.end..b.start];
        let utf8 = a.charset == "utf-8" && b.charset == "utf-8";
        let adjacent = between.iter().all(u8::is_ascii_whitespace);
        let bytes = (utf8 && adjacent)
            .then(|| decoded(a).zip(decoded(b)))
            .flatten();
        let split = bytes
            .as_ref()
            .is_some_and(|(x, _)| std::str::from_utf8(x).is_err_and(|e| e.error_len().is_none()));
        if !split {
            i += 1;
            continue;
        }
        let (x, y) = bytes.unwrap_or_default();
        let whole = base64::engine::general_purpose::STANDARD.encode([x, y].concat());
        out.extend_from_slice(&line[copied..a.start]);
        out.extend_from_slice(format!("=?utf-8?B?{whole}?=").as_bytes());
        copied = b.end;
        i += 2;
    }
    if copied == 0 {
        return None;
    }
    out.extend_from_slice(&line[copied..]);
    Some(out)
}

/// In a Subject, text right after an encoded word (`=?utf-8?Q?hello?=.`) belongs to
/// it: mail-parser puts a space between them (`hello .`). The text, up to the next
/// white space, goes into the word, for charsets where ASCII stays ASCII.
fn text_glued_to_words(line: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    let subject = b"subject:";
    if line.len() < subject.len() || !line[..subject.len()].eq_ignore_ascii_case(subject) {
        return None;
    }
    let mut out = Vec::new();
    let mut copied = 0;
    for word in words(line) {
        let glued = line[word.end..]
            .iter()
            .take_while(|b| !b.is_ascii_whitespace() && **b != b'=')
            .count();
        let stateful = ["iso-2022", "utf-16", "utf-32", "utf-7"]
            .iter()
            .any(|c| word.charset.starts_with(c));
        if glued == 0 || stateful || word.start < copied {
            continue;
        }
        let Some(mut bytes) = decoded(&word) else {
            continue;
        };
        bytes.extend_from_slice(&line[word.end..word.end + glued]);
        let text = base64::engine::general_purpose::STANDARD.encode(bytes);
        out.extend_from_slice(&line[copied..word.start]);
        out.extend_from_slice(format!("=?{}?B?{text}?=", word.charset).as_bytes());
        copied = word.end + glued;
    }
    if copied == 0 {
        return None;
    }
    out.extend_from_slice(&line[copied..]);
    Some(out)
}

/// RFC 2152: a base64 run of UTF-7 ends at the first character outside base64, and
/// only a `-` there is absorbed; mail-parser absorbs any (`+AD4 On` loses its space).
/// A `-` is put where a run ends otherwise, which means the same to any reader.
fn utf7_runs_ended(line: &[u8]) -> Option<Vec<u8>> {
    let base64 = |b: u8| b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
    let mut out = Vec::new();
    let mut i = 0;
    let mut changed = false;
    while i < line.len() {
        out.push(line[i]);
        if line[i] != b'+' {
            i += 1;
            continue;
        }
        let run = line[i + 1..].iter().take_while(|b| base64(**b)).count();
        out.extend_from_slice(&line[i + 1..i + 1 + run]);
        i += 1 + run;
        if run > 0 && line.get(i) != Some(&b'-') {
            out.push(b'-');
            changed = true;
        }
    }
    changed.then_some(out)
}

/// RFC 2047 6.2: white space between adjacent encoded words is not part of the text.
/// mail-parser keeps a space there inside a parameter (`name="=?UTF-8?Q?a?=
/// =?UTF-8?Q?b?="`, a file name folded over lines), so it is taken out there.
fn words_in_parameters(line: &[u8]) -> Option<Vec<u8>> {
    let names: [&[u8]; 2] = [b"content-type:", b"content-disposition:"];
    let named = |n: &[u8]| line.len() > n.len() && line[..n.len()].eq_ignore_ascii_case(n);
    if !names.iter().any(|n| named(n)) || memchr::memmem::find(line, b"?=").is_none() {
        return None;
    }
    let mut out = Vec::with_capacity(line.len());
    let mut changed = false;
    let mut i = 0;
    while i < line.len() {
        out.push(line[i]);
        if line[i..].starts_with(b"?=") {
            out.push(b'=');
            i += 2;
            let gap = line[i..]
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
            if gap > 0 && line[i + gap..].starts_with(b"=?") {
                i += gap;
                changed = true;
            }
            continue;
        }
        i += 1;
    }
    changed.then_some(out)
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// `Name:` at the start of the line (RFC 5322 2.2: printable ASCII but the colon).
fn looks_like_header(text: &[u8]) -> bool {
    let name = text.iter().take_while(|b| **b != b':').count();
    name > 0 && name < text.len() && text[..name].iter().all(|b| (33..=126).contains(b))
}

/// A line cut right after a parameter's `=` (`filename=`, `boundary=`), as Exchange
/// folds them; not the `?=` that ends an encoded word.
fn cut_at_equals(line: &[u8]) -> bool {
    let text = trim_eol(line);
    text.ends_with(b"=") && text.len() >= 2 && {
        let before = text[text.len() - 2];
        before.is_ascii_alphanumeric() || b"*_-".contains(&before)
    }
}

/// The header line with its repair, when it needs one.
fn fixed_header(line: &[u8]) -> Option<Vec<u8>> {
    let text = trim_eol(line);
    let eol = &line[text.len()..];
    let (name, value) = text.split_at(text.iter().position(|b| *b == b':')? + 1);
    let fixed = if name.eq_ignore_ascii_case(b"date:") {
        universal_zone(value)?
    } else if name.eq_ignore_ascii_case(b"content-type:") {
        with_subtype(value)?
    } else {
        return None;
    };
    Some([name, &fixed, eol].concat())
}

/// RFC 5322 4.3: the obsolete zones `UT` and `Z` (which mail-parser reads past, into
/// the next header) are +0000.
fn universal_zone(value: &[u8]) -> Option<Vec<u8>> {
    let trimmed = value.trim_ascii_end();
    let zone = trimmed.rsplit(|b| *b == b' ' || *b == b'\t').next()?;
    let universal = zone.eq_ignore_ascii_case(b"UT") || zone.eq_ignore_ascii_case(b"Z");
    if !universal || zone.len() == trimmed.len() {
        return None;
    }
    let kept = &trimmed[..trimmed.len() - zone.len()];
    Some([kept, b"+0000"].concat())
}

/// RFC 2045 5.2: a type without its subtype (`text; charset=...`) is taken as
/// text/plain, any other malformed one as application/octet-stream.
fn with_subtype(value: &[u8]) -> Option<Vec<u8>> {
    let end = value.iter().position(|b| *b == b';').unwrap_or(value.len());
    let kind = value[..end].trim_ascii();
    if kind.is_empty() || kind.contains(&b'/') {
        return None;
    }
    let whole = match kind.eq_ignore_ascii_case(b"text") {
        true => &b" text/plain"[..],
        false => b" application/octet-stream",
    };
    Some([whole, &value[end..]].concat())
}

/// Each multipart not closed where its part of the message ends (a truncated
/// message, or an inner multipart whose part an outer delimiter line ends) gets its
/// closing delimiter there, innermost first; see [`multipart`]. Without it mail-parser
/// decodes none of the parts, or reads the outer delimiters as text.
fn closing_delimiters(bytes: &[u8], tree: multipart::Tree) -> Option<Vec<u8>> {
    let mut missing = tree.unclosed;
    if missing.is_empty() {
        return None;
    }
    // Outer multiparts come first in the walk: at one place, the inner closes first.
    missing.reverse();
    missing.sort_by_key(|(at, _)| *at);
    let mut out = Vec::with_capacity(bytes.len() + 128);
    let mut copied = 0;
    for (at, boundary) in missing {
        out.extend_from_slice(&bytes[copied..at]);
        copied = at;
        if !out.ends_with(b"\n") {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"--");
        out.extend_from_slice(&boundary);
        out.extend_from_slice(b"--\r\n");
    }
    out.extend_from_slice(&bytes[copied..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(text: &str) -> String {
        String::from_utf8(repaired(text.as_bytes()).into_owned()).unwrap()
    }

    #[test]
    fn well_formed_mail_is_left_as_it_is() {
        let msg = b"Date: Mon, 30 Nov 2026 09:15:00 +0800\r\nSubject: =?utf-8?b?5ZGo5oql?=\r\n =?utf-8?b?5ZGo?=\r\nContent-Type: text/plain\r\n\r\n--\r\nbody\r\n";
        assert!(matches!(repaired(msg), Cow::Borrowed(_)));
        let multipart = b"Content-Type: multipart/mixed;\r\n boundary=\"b\"\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\naGk=\r\n--b--\r\n";
        assert!(matches!(repaired(multipart), Cow::Borrowed(_)));
    }

    #[test]
    fn each_repair_restores_its_rule() {
        assert_eq!(
            fixed("A: 1\rB: 2\r\rbody\r"),
            "A: 1\r\nB: 2\r\n\r\nbody\r\n"
        );
        assert_eq!(
            fixed("Date: Wed, 1 Jan 2020 10:00:00 UT\r\nSubject: s\r\n\r\n"),
            "Date: Wed, 1 Jan 2020 10:00:00 +0000\r\nSubject: s\r\n\r\n"
        );
        assert_eq!(
            fixed("Content-Type: text; charset=koi8-r\n\nx\n"),
            "Content-Type: text/plain; charset=koi8-r\n\nx\n"
        );
        assert_eq!(
            fixed("Content-Type: multipart/mixed; boundary=\r\n\t\"b1\"\r\n\r\n"),
            "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
        );
        assert_eq!(
            fixed("Content-Type: text/plain; name=\"=?UTF-8?Q?a?=\r\n =?UTF-8?Q?.pdf?=\"\r\n\r\n"),
            "Content-Type: text/plain; name=\"=?UTF-8?Q?a?==?UTF-8?Q?.pdf?=\"\r\n\r\n"
        );
        assert_eq!(
            fixed("Content-Type: text/plain; charset=utf-7\r\n\r\n+AD4 On +AD4-x +-\r\n+AD4\r\n"),
            "Content-Type: text/plain; charset=utf-7\r\n\r\n+AD4- On +AD4-x +-\r\n+AD4-\r\n"
        );
        assert_eq!(
            fixed("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b \t\r\n\r\nx\r\n--b--\r\n"),
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n"
        );
        assert_eq!(
            fixed("Subject: s\r\nno header here\r\nbody\r\n"),
            "Subject: s\r\n\r\nno header here\r\nbody\r\n"
        );
        assert_eq!(
            fixed("Subject: s\r\n \t\r\nbody\r\n"),
            "Subject: s\r\n\r\nbody\r\n"
        );
        assert_eq!(
            fixed("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n"),
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n"
        );
    }
}
