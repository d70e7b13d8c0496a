//! `mailer config check`: every problem of the file at once. Loading stops at the first
//! problem; here, after each one, the account it is in is blanked out (its lines made
//! empty, so that every later line keeps its number) and the file read again.

use std::path::Path;

use super::file;

/// Each problem, worded as loading words it (file:line:col, key, fix), in file order of
/// discovery; empty when the file loads.
pub fn problems(path: &Path, text: &str, private: bool) -> Vec<String> {
    let mut text = text.to_string();
    let mut found = Vec::new();
    let mut blanked: Vec<String> = Vec::new();
    // Each round removes an account, so the rounds are bounded by the file's size.
    for _ in 0..text.lines().count() + 1 {
        let Err(e) = file::parse(path, &text, private) else {
            break;
        };
        let message = e.to_string();
        // An account blanked out for its own problem is not also a missing default.
        let about_blanked = message.contains("default_account")
            && blanked.iter().any(|b| message.contains(&format!("{b:?}")));
        if !about_blanked {
            found.push(message.clone());
        }
        match account_of(&message) {
            Some(name) if blank_account(&mut text, &name) => blanked.push(name),
            _ => break,
        }
    }
    found
}

/// The account a message is about: `NAME` in `: accounts.NAME.key: ...`.
fn account_of(message: &str) -> Option<String> {
    let (_, rest) = message.split_once(": accounts.")?;
    let name: String = rest
        .chars()
        .take_while(|c| !matches!(c, '.' | ':' | ' '))
        .collect();
    (!name.is_empty()).then(|| name.trim_matches('"').to_string())
}

/// Empties every line of the sections of account `name`; false when there were none.
fn blank_account(text: &mut String, name: &str) -> bool {
    let heads = [
        format!("[accounts.{name}]"),
        format!("[accounts.{name}."),
        format!("[accounts.\"{name}\"]"),
        format!("[accounts.\"{name}\"."),
    ];
    let mut inside = false;
    let mut changed = false;
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            let compact: String = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
            inside = heads.iter().any(|h| compact.starts_with(h.as_str()));
        }
        if inside {
            changed = true;
            out.push_str(if line.ends_with('\n') { "\n" } else { "" });
        } else {
            out.push_str(line);
        }
    }
    *text = out;
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_reported_with_its_own_line() {
        let text = "\
[accounts.a]
email = \"not an address\"
[accounts.a.imap]
host = \"imap.example.org\"

[accounts.b]
email = \"b@example.org\"
[accounts.b.smtp]
host = \"\"

[accounts.c]
email = \"c@example.org\"
[accounts.c.imap]
hots = \"typo\"
";
        let found = problems(Path::new("config.toml"), text, true);
        assert_eq!(found.len(), 3, "{found:#?}");
        for start in [
            "config.toml:2:9: accounts.a.email:",
            "config.toml:9:8: accounts.b.smtp.host: is empty",
            "config.toml:14:1: accounts.c.imap.hots: unknown field",
        ] {
            assert!(
                found.iter().any(|f| f.starts_with(start)),
                "{start}: {found:#?}"
            );
        }
    }

    #[test]
    fn a_good_file_has_no_problems() {
        let text = "[accounts.a]\nemail = \"a@example.org\"\n";
        assert!(problems(Path::new("c.toml"), text, true).is_empty());
    }
}
