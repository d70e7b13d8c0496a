//! RFC 5322 3.4: the addresses of an address list are separated by commas. Some
//! senders leave them out (`From: Bob <bob@x> Bobby <bobby@x>`, `To: a@x b@x`), and
//! mail-parser then glues the two into one address that is nobody's
//! (`bob@xbobby@x`). The missing commas are put in, as Thunderbird reads such lists.

/// The header fields that hold address lists.
const LISTS: [&[u8]; 8] = [
    b"from:",
    b"to:",
    b"cc:",
    b"bcc:",
    b"reply-to:",
    b"sender:",
    b"resent-to:",
    b"resent-cc:",
];

/// The header line (with its folds) with the missing commas put in, when it lacks any.
pub fn with_commas(line: &[u8]) -> Option<Vec<u8>> {
    let colon = line.iter().position(|b| *b == b':')? + 1;
    let name = &line[..colon];
    if !LISTS.iter().any(|l| name.eq_ignore_ascii_case(l)) {
        return None;
    }
    let gaps = missing(&line[colon..]);
    if gaps.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(line.len() + gaps.len());
    let mut copied = 0;
    for gap in gaps {
        out.extend_from_slice(&line[copied..colon + gap]);
        out.push(b',');
        copied = colon + gap;
    }
    out.extend_from_slice(&line[copied..]);
    Some(out)
}

/// Where in `value` a comma is missing: after a `>` that another address follows, and
/// between two bare addresses (`a@x b@x`). Quoted strings and comments are skipped.
fn missing(value: &[u8]) -> Vec<usize> {
    let mut gaps = Vec::new();
    let (mut quoted, mut comment, mut angle) = (false, 0usize, false);
    let mut atom_start = 0;
    let mut i = 0;
    while i < value.len() {
        let b = value[i];
        match b {
            b'\\' if quoted || comment > 0 => i += 1,
            b'"' if comment == 0 => quoted = !quoted,
            _ if quoted => {}
            b'(' => comment += 1,
            b')' => comment = comment.saturating_sub(1),
            _ if comment > 0 => {}
            b'<' => angle = true,
            b'>' if angle => {
                angle = false;
                if starts_another(&value[i + 1..]) {
                    gaps.push(i + 1);
                }
            }
            _ if angle => {}
            _ if b.is_ascii_whitespace() => {
                let atom = &value[atom_start..i];
                if atom.contains(&b'@') && next_atom(&value[i..]).contains(&b'@') {
                    gaps.push(i);
                }
                atom_start = i + 1;
            }
            b',' | b';' | b':' => atom_start = i + 1,
            _ => {}
        }
        i += 1;
    }
    gaps
}

/// Whether what follows a `>` is another address rather than the list's end, its
/// separator or a comment.
fn starts_another(rest: &[u8]) -> bool {
    rest.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| !b",;(".contains(b))
}

/// The bare atom after white space: up to the next white space or special; empty when
/// a name, quote, angle or comment comes first.
fn next_atom(rest: &[u8]) -> &[u8] {
    let start = rest
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(rest.len());
    let rest = &rest[start..];
    let len = rest
        .iter()
        .position(|b| b.is_ascii_whitespace() || b",;<>()\"".contains(b))
        .unwrap_or(rest.len());
    match rest.get(len) {
        Some(b'<') => &[],
        _ => &rest[..len],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(line: &str) -> Option<String> {
        with_commas(line.as_bytes()).map(|v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn commas_go_where_an_address_list_lacks_them() {
        assert_eq!(
            fixed("From: Bob <bob@x.example> Bobby <bobby@x.example>\r\n").as_deref(),
            Some("From: Bob <bob@x.example>, Bobby <bobby@x.example>\r\n")
        );
        assert_eq!(
            fixed("To: a@x.example\r\n b@x.example\r\n").as_deref(),
            Some("To: a@x.example,\r\n b@x.example\r\n")
        );
        for fine in [
            "From: Bob <bob@x.example>, Bobby <bobby@x.example>\r\n",
            "From: bob@x.example (Bob Smith)\r\n",
            "From: Bob <bob@x.example> (work)\r\n",
            "From: \"a@b c@d\" <e@x.example>\r\n",
            "To: group: a@x.example, b@x.example;\r\n",
            "Subject: a@x.example b@x.example\r\n",
        ] {
            assert_eq!(fixed(fine), None, "{fine}");
        }
    }
}
