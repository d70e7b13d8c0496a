//! The text a person edits to compose a message in `$VISUAL` or `$EDITOR`: a few header
//! lines, a blank line, the body. Read back and checked like the flags are, before
//! anything is sent.

/// What the editor shows and gives back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Template {
    pub to: String,
    pub cc: String,
    pub bcc: String,
    pub subject: String,
    pub body: String,
}

/// The headers a template may have, as they are written in it.
const HEADERS: [&str; 4] = ["To", "Cc", "Bcc", "Subject"];

/// A template that cannot be read back: which line, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the edited message, line {line}: {reason}")]
pub struct TemplateError {
    pub line: usize,
    pub reason: String,
}

impl Template {
    /// The text to edit.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (name, value) in HEADERS.iter().zip(self.values()) {
            out.push_str(&format!("{name}: {value}\n"));
        }
        out.push('\n');
        out.push_str(&self.body);
        out
    }

    fn values(&self) -> [&String; 4] {
        [&self.to, &self.cc, &self.bcc, &self.subject]
    }

    /// Reads an edited template: header lines (a line that starts with white space
    /// continues the one before), a blank line, the body. A header it does not know, or
    /// a line that is no header, is an error naming its line.
    pub fn read(text: &str) -> Result<Template, TemplateError> {
        let text = text.replace("\r\n", "\n");
        let (head, body) = match text.split_once("\n\n") {
            Some((h, b)) => (h, b),
            None => (text.as_str(), ""),
        };
        let mut out = Template {
            body: body.to_string(),
            ..Template::default()
        };
        let mut last: Option<usize> = None;
        for (i, line) in head.lines().enumerate() {
            let error = |reason: String| TemplateError {
                line: i + 1,
                reason,
            };
            if line.starts_with([' ', '\t']) {
                let Some(k) = last else {
                    return Err(error("a continued line with no header before it".into()));
                };
                let v = out.value_mut(k);
                v.push(' ');
                v.push_str(line.trim());
                continue;
            }
            let Some((name, value)) = line.split_once(':') else {
                return Err(error(format!(
                    "{line:?} is not a header: write \"Name: value\", and a blank line before the body"
                )));
            };
            let Some(k) = HEADERS
                .iter()
                .position(|h| h.eq_ignore_ascii_case(name.trim()))
            else {
                return Err(error(format!(
                    "{:?} is not a header mailer takes here: use To, Cc, Bcc and Subject (other headers with --header)",
                    name.trim()
                )));
            };
            *out.value_mut(k) = value.trim().to_string();
            last = Some(k);
        }
        Ok(out)
    }

    fn value_mut(&mut self, k: usize) -> &mut String {
        match k {
            0 => &mut self.to,
            1 => &mut self.cc,
            2 => &mut self.bcc,
            _ => &mut self.subject,
        }
    }

    /// Whether there is nothing to send: no text in the body beyond what was there to
    /// begin with (the quote of a reply).
    pub fn says_nothing_beyond(&self, before: &Template) -> bool {
        self == before || self.body.trim().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_reads_back_as_it_was_written() {
        let t = Template {
            to: "Bob <bob@example.org>".into(),
            subject: "周报".into(),
            body: "hello\n\n> quoted\n".into(),
            ..Template::default()
        };
        let text = t.render();
        assert_eq!(
            text,
            "To: Bob <bob@example.org>\nCc: \nBcc: \nSubject: 周报\n\nhello\n\n> quoted\n"
        );
        assert_eq!(Template::read(&text).unwrap(), t);
        let folded = "to: a@x,\n  b@x\nSUBJECT: s\n\nbody";
        let read = Template::read(folded).unwrap();
        assert_eq!(read.to, "a@x, b@x");
        assert_eq!(read.subject, "s");
    }

    #[test]
    fn a_line_that_is_no_header_is_named() {
        let e = Template::read("To: a@x\nX-Evil: 1\n\nbody").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(
            e.reason.contains("\"X-Evil\" is not a header mailer takes"),
            "{e}"
        );
        let e = Template::read("To: a@x\nhello there\n\nbody").unwrap_err();
        assert_eq!(e.line, 2);
        let e = Template::read(" folded\n\nbody").unwrap_err();
        assert_eq!(e.line, 1);
    }

    #[test]
    fn an_unchanged_or_empty_template_says_nothing() {
        let t = Template {
            to: "a@x".into(),
            body: "> quote\n".into(),
            ..Template::default()
        };
        assert!(t.says_nothing_beyond(&t));
        let mut edited = t.clone();
        edited.body = "  \n".into();
        assert!(edited.says_nothing_beyond(&t));
        edited.body = "yes\n\n> quote\n".into();
        assert!(!edited.says_nothing_beyond(&t));
    }
}
