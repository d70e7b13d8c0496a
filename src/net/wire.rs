//! `-vv`: the protocol conversation, line by line, as msmtp's `--debug` shows it, with
//! every secret replaced by `***`: the arguments of LOGIN, AUTHENTICATE, AUTH, PASS and
//! APOP, and every line the client sends until the server ends the login (SASL
//! responses, IMAP literals). Kept bounded: a line is cut at 200 characters, and a
//! connection logs at most 2,000 lines.

use tracing::Level;

/// Where the conversation is logged (`MAILER_LOG=wire=debug` shows it alone).
const TARGET: &str = "wire";
const MAX_LINE: usize = 200;
const MAX_LINES: usize = 2000;

/// One connection's conversation.
#[derive(Debug)]
pub struct Transcript {
    protocol: &'static str,
    /// Bytes of an unfinished line, per side (client, server); at most MAX_LINE kept.
    partial: [Vec<u8>; 2],
    /// The client is in a login: what it sends is secret until the server ends it.
    in_login: bool,
    /// A login sent whole with its initial response: a challenge to it (334, `+`) puts
    /// the client in a login again.
    may_be_asked: bool,
    lines: usize,
    /// Nothing more is logged (the limit was reached).
    stopped: bool,
}

#[derive(Debug, Clone, Copy)]
enum Side {
    Client = 0,
    Server = 1,
}

impl Transcript {
    /// A transcript, when `-vv` (or MAILER_LOG) asks for the conversation.
    pub fn new(protocol: &'static str) -> Option<Transcript> {
        tracing::enabled!(target: TARGET, Level::DEBUG).then(|| Transcript {
            protocol,
            partial: [Vec::new(), Vec::new()],
            in_login: false,
            may_be_asked: false,
            lines: 0,
            stopped: false,
        })
    }

    /// What the client wrote.
    pub fn client(&mut self, bytes: &[u8]) {
        self.feed(Side::Client, bytes);
    }

    /// What the server sent.
    pub fn server(&mut self, bytes: &[u8]) {
        self.feed(Side::Server, bytes);
    }

    /// Stops here, saying why.
    pub fn stop(&mut self, why: &str) {
        if !self.stopped {
            tracing::debug!(target: TARGET, "{} (not shown from here: {why})", self.protocol);
            self.stopped = true;
        }
    }

    fn feed(&mut self, side: Side, bytes: &[u8]) {
        if self.stopped {
            return;
        }
        for chunk in bytes.split_inclusive(|&b| b == b'\n') {
            let partial = &mut self.partial[side as usize];
            let room = (MAX_LINE + 1).saturating_sub(partial.len());
            partial.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if chunk.ends_with(b"\n") {
                let line = std::mem::take(partial);
                self.line(side, &line);
            }
        }
    }

    fn line(&mut self, side: Side, raw: &[u8]) {
        let text = String::from_utf8_lossy(raw);
        let text = text.trim_end_matches(['\r', '\n']);
        let shown = match side {
            Side::Client => self.client_line(text),
            Side::Server => {
                self.server_line(text);
                text.to_string()
            }
        };
        self.lines += 1;
        if self.lines > MAX_LINES {
            return self.stop("2,000 lines shown");
        }
        let arrow = match side {
            Side::Client => ">",
            Side::Server => "<",
        };
        let mut shown: String = shown
            .chars()
            .map(|c| match c {
                '\t' => ' ',
                c if c.is_control() => '.',
                c => c,
            })
            .take(MAX_LINE)
            .collect();
        if raw.len() > MAX_LINE {
            shown.push('…');
        }
        tracing::debug!(target: TARGET, "{} {arrow} {shown}", self.protocol);
    }

    /// The client's line as shown: a login's secret replaced.
    fn client_line(&mut self, text: &str) -> String {
        if self.in_login {
            return "***".to_string();
        }
        let words: Vec<&str> = text.split(' ').collect();
        // IMAP commands start with their tag.
        let at = usize::from(self.protocol == "imap");
        let command = words.get(at).map(|w| w.to_ascii_uppercase());
        let keep = match command.as_deref() {
            Some("LOGIN" | "PASS" | "APOP") => at + 1,
            Some("AUTHENTICATE" | "AUTH") => at + 2,
            _ => return text.to_string(),
        };
        // A login of one line hides only its own words, so that commands pipelined
        // after it show (LOGIN, PASS, or AUTH with its initial response, as `send`
        // pipelines it); one whose answers follow on lines of their own (SASL without
        // an initial response, a LOGIN's literal, an answer to a challenge) hides those
        // too, up to the server's reply.
        let answered = keep == at + 2 && words.len() > keep;
        let one_line = (keep == at + 1 && !text.ends_with('}')) || answered;
        self.in_login = !one_line;
        self.may_be_asked = answered;
        let mut shown = words[..keep.min(words.len())].join(" ");
        if words.len() > keep {
            shown.push_str(" ***");
        }
        shown
    }

    /// A login ends with the server's first line that is not a continuation (IMAP's
    /// and POP3's `+`, SMTP's 334).
    fn server_line(&mut self, text: &str) {
        let challenge =
            text.starts_with('+') && !text.starts_with("+OK") || text.starts_with("334");
        if challenge && self.may_be_asked {
            self.in_login = true;
        }
        let continues = challenge || (self.protocol == "imap" && text.starts_with('*'));
        if !continues {
            self.in_login = false;
            self.may_be_asked = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcript(protocol: &'static str) -> Transcript {
        Transcript {
            protocol,
            partial: [Vec::new(), Vec::new()],
            in_login: false,
            may_be_asked: false,
            lines: 0,
            stopped: false,
        }
    }

    #[test]
    fn logins_show_no_secret() {
        let mut t = transcript("imap");
        assert_eq!(t.client_line("A0001 LOGIN carol \"pw\""), "A0001 LOGIN ***");
        // Commands pipelined after a one-line LOGIN show; a literal's line does not.
        assert_eq!(
            t.client_line("E1 EXAMINE \"INBOX\""),
            "E1 EXAMINE \"INBOX\""
        );
        t.server_line("A0001 OK Logged in");
        assert_eq!(t.client_line("A0009 LOGIN carol {2}"), "A0009 LOGIN ***");
        assert_eq!(t.client_line("pw"), "***");
        t.server_line("A0009 OK Logged in");
        assert_eq!(t.client_line("A0002 SELECT INBOX"), "A0002 SELECT INBOX");
        assert_eq!(
            t.client_line("A0003 AUTHENTICATE PLAIN AGNhcm9s"),
            "A0003 AUTHENTICATE PLAIN ***"
        );
        let mut t = transcript("smtp");
        assert_eq!(t.client_line("AUTH LOGIN"), "AUTH LOGIN");
        t.server_line("334 VXNlcm5hbWU6");
        assert_eq!(t.client_line("Y2Fyb2w="), "***");
        t.server_line("334 UGFzc3dvcmQ6");
        assert_eq!(t.client_line("cHc="), "***");
        t.server_line("235 2.7.0 Authentication successful");
        assert_eq!(
            t.client_line("MAIL FROM:<a@example.org>"),
            "MAIL FROM:<a@example.org>"
        );
        // AUTH with its initial response, the transaction pipelined behind it: the
        // commands show; a challenge to it hides the answer that follows.
        let mut t = transcript("smtp");
        assert_eq!(t.client_line("AUTH PLAIN AGNhcm9s"), "AUTH PLAIN ***");
        assert_eq!(
            t.client_line("RCPT TO:<b@example.org>"),
            "RCPT TO:<b@example.org>"
        );
        t.server_line("334 ");
        assert_eq!(t.client_line("AGNhcm9sAHB3"), "***");
        t.server_line("235 2.7.0 Authentication successful");
        assert_eq!(t.client_line("QUIT"), "QUIT");
        let mut t = transcript("imap");
        assert_eq!(
            t.client_line("A1 AUTHENTICATE PLAIN AGNhcm9s"),
            "A1 AUTHENTICATE PLAIN ***"
        );
        t.server_line("* CAPABILITY IMAP4rev1");
        assert_eq!(t.client_line("E1 EXAMINE INBOX"), "E1 EXAMINE INBOX");
        t.server_line("+ ");
        assert_eq!(t.client_line("AGNhcm9sAHB3"), "***");
        t.server_line("A1 OK Logged in");
        let mut t = transcript("pop3");
        assert_eq!(t.client_line("USER bob"), "USER bob");
        assert_eq!(t.client_line("PASS bobpw"), "PASS ***");
        t.server_line("+OK Logged in.");
        assert_eq!(t.client_line("STAT"), "STAT");
    }
}
