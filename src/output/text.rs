//! The two ways anything reaches the terminal: text made safe to show, and JSON.

use std::borrow::Cow;
use std::io::Write;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

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

/// Every command's JSON has one layout (docs/json.md): one document; an object on one
/// line; an array with one element a line, as `fetch` streams it.
pub(super) fn print_json(value: &impl serde::Serialize) {
    let _ = writeln!(std::io::stdout().lock(), "{}", json_text(value));
}

pub(super) fn json_text(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Array(items)) if !items.is_empty() => {
            let lines: Vec<String> = items.iter().map(|i| i.to_string()).collect();
            format!("[\n{}\n]", lines.join(",\n"))
        }
        Ok(other) => other.to_string(),
        Err(_) => "null".to_string(),
    }
}
/// `text` cut or padded to exactly `width` display columns.
pub fn fit(text: &str, width: usize) -> String {
    let text = printable(text, false);
    let mut out = String::new();
    let mut used = 0;
    let full = UnicodeWidthStr::width(text.as_ref()) <= width;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        let room = if full { width } else { width.saturating_sub(1) };
        if used + w > room {
            break;
        }
        out.push(c);
        used += w;
    }
    if !full && width > 0 {
        out.push('…');
        used += 1;
    }
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    out
}

/// 1234567 -> "1.2M".
pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b}B"),
        b if b < 1024 * 1024 => format!("{:.1}K", b as f64 / 1024.0),
        b => format!("{:.1}M", b as f64 / (1024.0 * 1024.0)),
    }
}
