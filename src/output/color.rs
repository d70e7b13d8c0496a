//! Colour for people: on a terminal unless `NO_COLOR` is set (https://no-color.org) or
//! `TERM=dumb`, always or never with `--color`. Cron mail, pipes and files get plain
//! text, so nothing a script reads ever holds an escape sequence.

use std::sync::atomic::{AtomicBool, Ordering};

/// `--color`: when to colour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum When {
    #[default]
    Auto,
    Always,
    Never,
}

/// Whether stdout is coloured; decided once, before any command prints.
static STDOUT: AtomicBool = AtomicBool::new(false);

/// Whether an output that is (or is not) a terminal gets colour.
pub fn decide(when: When, terminal: bool) -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
    match when {
        When::Always => true,
        When::Never => false,
        When::Auto => terminal && !no_color && !dumb,
    }
}

/// Decides for stdout.
pub fn set_for_stdout(when: When) {
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
    STDOUT.store(decide(when, terminal), Ordering::Relaxed);
}

/// How a word is shown.
#[derive(Debug, Clone, Copy)]
pub enum Paint {
    Good,
    Bad,
    Hint,
    Strong,
}

/// `text` in `paint` when stdout is coloured, else as it is.
pub fn paint(text: &str, paint: Paint) -> String {
    if !STDOUT.load(Ordering::Relaxed) {
        return text.to_string();
    }
    let code = match paint {
        Paint::Good => "32",
        Paint::Bad => "1;31",
        Paint::Hint => "33",
        Paint::Strong => "1",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_and_always_win_over_the_terminal() {
        assert!(!decide(When::Never, true));
        assert!(decide(When::Always, false));
        assert!(!decide(When::Auto, false));
    }
}
