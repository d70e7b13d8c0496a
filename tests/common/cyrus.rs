//! A second IMAP/POP3 server beside the stack's Dovecot: Cyrus IMAP 3.6 from Debian's
//! packages, run by `tests/cyrus.sh` in a private mount namespace on free loopback
//! ports. One per test binary, started on first use and stopped when the binary exits.
//! Its users are the stack's (carol@example.test with carolpw, ...); its hierarchy
//! separator is `.`, so a user's folders are `INBOX.Archive` and the like.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use super::{ScriptServer, Servers, lf_bytes};

/// Cyrus, as tests/cyrus.sh started it.
pub struct Cyrus(ScriptServer);

static CYRUS: OnceLock<Cyrus> = OnceLock::new();

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cyrus.sh")
}

/// The Cyrus of this test binary, started on first use; one that cannot start fails
/// the test, it never skips.
pub fn cyrus() -> &'static Cyrus {
    CYRUS.get_or_init(|| Cyrus(ScriptServer::start(&script(), "Cyrus IMAP", "cyrus.env")))
}

impl Deref for Cyrus {
    type Target = ScriptServer;
    fn deref(&self) -> &ScriptServer {
        &self.0
    }
}

impl Servers for Cyrus {
    fn port(&self, key: &str) -> u16 {
        self.0.port(key)
    }
    fn ca_file(&self) -> &str {
        self.0.ca_file()
    }
}

impl Cyrus {
    fn script(&self, args: &[&str]) -> Output {
        let out = Command::new(script())
            .arg(args[0])
            .arg(&self.dir)
            .args(&args[1..])
            .output()
            .expect("running tests/cyrus.sh");
        assert!(
            out.status.success(),
            "cyrus.sh {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// APPENDs the `n` generated messages of `mailstack.sh seed` to `user`'s `mailbox`
    /// (`INBOX`, or a folder such as `INBOX.Archive`, created if needed).
    pub fn seed(&self, user: &str, n: usize, mailbox: &str) {
        self.script(&["seed", user, &n.to_string(), mailbox]);
    }

    /// APPENDs `messages` to `user`'s `mailbox` as they are, line ends made CRLF.
    pub fn append(&self, user: &str, mailbox: &str, messages: &[&[u8]]) {
        let tmp = tempfile::tempdir().expect("temp dir");
        let files: Vec<String> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let path = tmp.path().join(format!("{i}.eml"));
                std::fs::write(&path, m).expect("writing a message");
                path.to_string_lossy().into_owned()
            })
            .collect();
        let mut args = vec!["append", user, mailbox];
        args.extend(files.iter().map(String::as_str));
        self.script(&args);
    }

    /// Every message of `user`'s `mailbox` as Cyrus serves it (`UID FETCH BODY.PEEK[]`
    /// from Python's imaplib), with LF line ends as mailer stores them; sorted, as
    /// [`super::message_files`] returns a Maildir's.
    pub fn messages(&self, user: &str, mailbox: &str) -> Vec<Vec<u8>> {
        let tmp = tempfile::tempdir().expect("temp dir");
        let out = tmp.path().join("messages");
        self.script(&[
            "messages",
            user,
            mailbox,
            out.to_str().expect("a UTF-8 path"),
        ]);
        let mut messages: Vec<Vec<u8>> = std::fs::read_dir(&out)
            .expect("the messages directory")
            .map(|e| lf_bytes(&std::fs::read(e.expect("an entry").path()).expect("a message")))
            .collect();
        messages.sort();
        messages
    }
}
