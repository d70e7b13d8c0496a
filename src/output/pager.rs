//! Long output for a person goes through their pager, as git does: `$PAGER`, else
//! `less -FRX`, which exits at once when the text fits the screen and leaves it there.

use std::io::Write;
use std::process::{Command, Stdio};

/// Shows `text` through the pager; straight to stdout when none can be started.
pub fn page(text: &[u8]) {
    let pager = std::env::var("PAGER")
        .ok()
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| "less -FRX".to_string());
    let child = match pager.trim() {
        "cat" => None,
        _ => Command::new("sh")
            .args(["-c", &pager])
            .stdin(Stdio::piped())
            .spawn()
            .ok(),
    };
    let Some(mut child) = child else {
        let _ = std::io::stdout().lock().write_all(text);
        return;
    };
    if let Some(mut stdin) = child.stdin.take() {
        // A pager quit early (q in less) closes the pipe: the rest is not wanted.
        let _ = stdin.write_all(text);
    }
    let _ = child.wait();
}
