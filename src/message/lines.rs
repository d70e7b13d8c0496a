//! The lines of a message, found with memchr. `fetch` reads every message it stores
//! line by line a few times (its repairs, its MIME tree, its summary); at memchr's
//! pace that costs a fraction of what a byte-at-a-time split does.

/// The lines of `bytes`, each with its `\n` (the last without one where the text does
/// not end in one), as `slice::split_inclusive` gives them: none for no bytes.
pub fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    let mut ends = memchr::memchr_iter(b'\n', bytes);
    std::iter::from_fn(move || {
        let end = match ends.next() {
            Some(newline) => newline + 1,
            None if start < bytes.len() => bytes.len(),
            None => return None,
        };
        let line = &bytes[start..end];
        start = end;
        Some(line)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_lines_as_split_inclusive() {
        let texts: [&[u8]; 6] = [b"", b"\n", b"a", b"a\r\nb\n", b"a\n\nb", b"\n\nx\r\n\r\n"];
        for text in texts {
            let split: Vec<&[u8]> = text.split_inclusive(|b| *b == b'\n').collect();
            assert_eq!(lines(text).collect::<Vec<_>>(), split, "{text:?}");
        }
    }
}
