//! The two ways anything reaches the terminal: text made safe to show, and JSON.

use std::borrow::Cow;
use std::io::Write;

/// `text` safe to show on a terminal: every control character (an escape sequence's
/// ESC, CR, NUL, BEL ...) from a server, a message or a helper command is shown as its
/// escape (`\u{1b}`, `\r`), so none can move the cursor, clear the screen or set the
/// window title. With `keep_lines`, line ends and tabs stay as they are (a body).
pub fn printable(text: &str, keep_lines: bool) -> Cow<'_, str> {
    let kept = |c: char| keep_lines && (c == '\n' || c == '\t');
    let unsafe_char = |c: char| (c.is_control() && !kept(c)) || is_bidi_control(c);
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            c if unsafe_char(c) => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Characters that reorder the text around them (Trojan Source): shown escaped too.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

pub(super) fn print_json(value: &impl serde::Serialize) {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}
