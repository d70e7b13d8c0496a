//! The test harness: a private Postfix + Dovecot started by `tests/mailstack.sh` on free
//! loopback ports, once per test binary, and stopped when the binary exits. Helpers here
//! write account configs and run the real `mailer` binary, the way a user would.

#![allow(dead_code)]

pub mod fault;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub struct Stack {
    pub dir: PathBuf,
    env: HashMap<String, String>,
}

static STACK: OnceLock<Stack> = OnceLock::new();

unsafe extern "C" {
    fn atexit(callback: extern "C" fn()) -> i32;
}

extern "C" fn stop_stack() {
    if let Some(stack) = STACK.get() {
        let _ = Command::new(script())
            .arg("stop")
            .arg(&stack.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&stack.dir);
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mailstack.sh")
}

/// The stack of this test binary, started on first use. A stack that cannot start fails
/// the test with the harness's explanation; it never skips.
pub fn stack() -> &'static Stack {
    STACK.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("mailer-stack-")
            .tempdir()
            .expect("creating a temporary directory for the mail stack")
            .keep();
        let output = Command::new(script())
            .arg("start")
            .arg(&dir)
            .output()
            .expect("running tests/mailstack.sh");
        if !output.status.success() {
            let _ = Command::new(script()).arg("stop").arg(&dir).output();
            panic!(
                "the test mail stack (Postfix + Dovecot) did not start; these tests need it.\n\
                 Install it with `sudo tests/mailstack.sh install`.\n--- mailstack.sh said:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        // SAFETY: registering a plain function pointer with the C library.
        unsafe {
            atexit(stop_stack);
        }
        let text = std::fs::read_to_string(dir.join("stack.env")).expect("reading stack.env");
        let env = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
            .collect();
        Stack { dir, env }
    })
}

impl Stack {
    pub fn var(&self, key: &str) -> &str {
        self.env
            .get(key)
            .unwrap_or_else(|| panic!("stack.env has no {key}"))
    }

    pub fn port(&self, key: &str) -> u16 {
        self.var(key).parse().expect("a port number")
    }

    pub fn ca_file(&self) -> &str {
        self.var("CA_FILE")
    }

    /// The INBOX Maildir of `user` (a local part of example.test).
    pub fn maildir(&self, user: &str) -> PathBuf {
        self.dir
            .join("mail/example.test")
            .join(user)
            .join("Maildir")
    }

    /// Waits (bounded) until a message with `message_id` is in `user`'s INBOX and returns
    /// its bytes.
    pub fn wait_for_message(&self, user: &str, message_id: &str) -> Vec<u8> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let needle = format!("Message-ID: {message_id}");
        loop {
            for sub in ["new", "cur"] {
                let Ok(entries) = std::fs::read_dir(self.maildir(user).join(sub)) else {
                    continue;
                };
                for entry in entries.flatten() {
                    if let Ok(bytes) = std::fs::read(entry.path())
                        && contains(&bytes, needle.as_bytes())
                    {
                        return bytes;
                    }
                }
            }
            if Instant::now() > deadline {
                panic!("{message_id} did not arrive in {user}'s Maildir within 20 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether any message in `user`'s INBOX contains `needle`.
    pub fn has_message_containing(&self, user: &str, needle: &str) -> bool {
        ["new", "cur"].iter().any(|sub| {
            std::fs::read_dir(self.maildir(user).join(sub))
                .into_iter()
                .flatten()
                .flatten()
                .any(|e| {
                    std::fs::read(e.path())
                        .map(|b| contains(&b, needle.as_bytes()))
                        .unwrap_or(false)
                })
        })
    }
}

pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A scratch directory with a config file in it, removed when dropped.
pub struct Setup {
    pub dir: tempfile::TempDir,
}

impl Setup {
    /// A config file with `toml` as its content, readable by its owner only.
    pub fn new(toml: &str) -> Setup {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, toml).expect("writing config");
        set_mode(&path, 0o600);
        Setup { dir }
    }

    /// alice's account on the stack's `port_key` with `security`, password from a command.
    pub fn alice(stack: &Stack, port_key: &str, security: &str) -> Setup {
        Setup::new(&format!(
            r#"[accounts.alice]
email = "alice@example.test"
name = "Alice 测试"
password_command = "echo alicepw"

[accounts.alice.smtp]
host = "localhost"
port = {}
security = "{security}"
ca_file = "{}"
timeout_secs = 10
"#,
            stack.port(port_key),
            stack.ca_file()
        ))
    }

    /// Rewrites the config file, replacing `from` with `to` (which must be there).
    pub fn edit(&self, from: &str, to: &str) {
        let text = std::fs::read_to_string(self.config()).expect("reading the config");
        assert!(text.contains(from), "the config has no {from:?}");
        std::fs::write(self.config(), text.replace(from, to)).expect("writing the config");
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).expect("writing a test file");
        p
    }

    /// Runs `mailer -c CONFIG ARGS...` with nothing on standard input.
    pub fn mailer(&self, args: &[&str]) -> Run {
        self.mailer_with_stdin(args, None)
    }

    /// Runs mailer with `stdin` piped in.
    pub fn mailer_with_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mailer"));
        cmd.arg("-c")
            .arg(self.config())
            .args(args)
            .env("XDG_STATE_HOME", self.path("state"))
            .env_remove("MAILER_CONFIG")
            .env_remove("MAILER_LOG")
            .current_dir(self.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        let mut child = cmd.spawn().expect("running mailer");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("stdin pipe");
            pipe.write_all(input).expect("writing stdin");
        }
        Run(child.wait_with_output().expect("waiting for mailer"))
    }
}

pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A finished mailer run.
pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    /// Asserts success and returns stdout's first line (the Message-ID for `send`).
    pub fn ok(&self) -> String {
        assert_eq!(
            self.code(),
            0,
            "mailer failed: {}{}",
            self.stdout(),
            self.stderr()
        );
        self.stdout().lines().next().unwrap_or("").to_string()
    }
    /// Asserts the exit code and returns stderr.
    pub fn fails_with(&self, code: i32) -> String {
        assert_eq!(
            self.code(),
            code,
            "expected exit {code}; stdout: {} stderr: {}",
            self.stdout(),
            self.stderr()
        );
        self.stderr()
    }
}

impl Stack {
    fn script(&self, args: &[&str]) -> Output {
        let out = Command::new(script())
            .args(args)
            .output()
            .expect("running tests/mailstack.sh");
        assert!(
            out.status.success(),
            "mailstack.sh {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Adds `n` generated messages to `user`'s `mailbox` (created if needed).
    pub fn seed(&self, user: &str, n: usize, mailbox: &str) {
        let dir = self.dir.to_string_lossy().into_owned();
        let n = n.to_string();
        if mailbox == "INBOX" {
            self.script(&["seed", &dir, user, &n]);
        } else {
            self.script(&["seed", &dir, user, &n, mailbox]);
        }
    }

    /// The Maildir++ folder of `mailbox` on the server side.
    pub fn server_folder(&self, user: &str, mailbox: &str) -> PathBuf {
        if mailbox == "INBOX" {
            self.maildir(user)
        } else {
            self.maildir(user).join(format!(".{mailbox}"))
        }
    }

    /// Puts `messages` into `user`'s `mailbox` as if delivered, and lets Dovecot see them.
    pub fn deliver(&self, user: &str, mailbox: &str, messages: &[&[u8]]) {
        let folder = self.server_folder(user, mailbox);
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(folder.join(sub)).unwrap();
        }
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        for (i, m) in messages.iter().enumerate() {
            // Stored with LF line ends, as Dovecot's own delivery does.
            let lf = lf_bytes(m);
            std::fs::write(folder.join("new").join(format!("{stamp}.T{i}.test")), lf).unwrap();
        }
        self.resync(user, mailbox);
    }

    /// Hands the folder back to Dovecot's user and makes Dovecot rescan it.
    pub fn resync(&self, user: &str, mailbox: &str) {
        let folder = self.server_folder(user, mailbox);
        let ok = Command::new("chown")
            .args(["-R", "mail:mail"])
            .arg(self.maildir(user))
            .status()
            .unwrap()
            .success();
        assert!(ok, "chown of {} failed", folder.display());
        self.doveadm(&[
            "force-resync",
            "-u",
            &format!("{user}@example.test"),
            mailbox,
        ]);
    }

    /// Runs doveadm against this stack's Dovecot.
    pub fn doveadm(&self, args: &[&str]) {
        let out = Command::new("doveadm")
            .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")
            .arg("-c")
            .arg(self.dir.join("dovecot/dovecot.conf"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "doveadm {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The contents of every message file Dovecot holds in `mailbox`.
    pub fn server_messages(&self, user: &str, mailbox: &str) -> Vec<Vec<u8>> {
        message_files(&self.server_folder(user, mailbox))
    }
}

fn lf_bytes(m: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(m.len());
    for (i, &b) in m.iter().enumerate() {
        if b == b'\r' && m.get(i + 1) == Some(&b'\n') {
            continue;
        }
        out.push(b);
    }
    out
}

/// The contents of every message file in a Maildir folder (`new/` and `cur/`), sorted.
pub fn message_files(folder: &Path) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = ["new", "cur"]
        .iter()
        .flat_map(|sub| {
            std::fs::read_dir(folder.join(sub))
                .into_iter()
                .flatten()
                .flatten()
        })
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    out.sort();
    out
}

impl Setup {
    /// carol's account with IMAP over implicit TLS, a Maildir and a state directory in
    /// this setup's scratch directory.
    pub fn carol_imap(stack: &Stack) -> Setup {
        let setup = Setup::new("");
        let text = format!(
            r#"[accounts.carol]
email = "carol@example.test"
password_command = "echo carolpw"
maildir = "{}"

[accounts.carol.imap]
host = "localhost"
port = {}
security = "tls"
ca_file = "{}"
timeout_secs = 10
"#,
            setup.path("Mail").display(),
            stack.port("IMAPS_PORT"),
            stack.ca_file()
        );
        std::fs::write(setup.config(), text).unwrap();
        setup
    }

    /// The account's local Maildir folder for `mailbox`.
    pub fn local_folder(&self, mailbox: &str) -> PathBuf {
        if mailbox == "INBOX" {
            self.path("Mail")
        } else {
            self.path("Mail").join(format!(".{mailbox}"))
        }
    }
}

impl Setup {
    /// Starts mailer without waiting for it (to kill it mid-run).
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        Command::new(env!("CARGO_BIN_EXE_mailer"))
            .arg("-c")
            .arg(self.config())
            .args(args)
            .env("XDG_STATE_HOME", self.path("state"))
            .env_remove("MAILER_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting mailer")
    }
}

impl Setup {
    /// `user`'s POP3 account: `port_key` of the stack with `security`.
    pub fn pop3(stack: &Stack, user: &str, port: u16, security: &str) -> Setup {
        let setup = Setup::new("");
        let text = format!(
            r#"[accounts.{user}]
email = "{user}@example.test"
password_command = "echo {user}pw"
maildir = "{}"

[accounts.{user}.pop3]
host = "localhost"
port = {port}
security = "{security}"
ca_file = "{}"
allow_insecure_auth = {}
timeout_secs = 10
"#,
            setup.path("Mail").display(),
            stack.ca_file(),
            security == "none"
        );
        std::fs::write(setup.config(), text).unwrap();
        setup
    }
}

impl Stack {
    /// Stops or starts only Postfix ("stop" / "start").
    pub fn postfix(&self, action: &str) {
        let dir = self.dir.to_string_lossy().into_owned();
        self.script(&["postfix", &dir, action]);
    }

    /// How many messages in `user`'s INBOX contain `needle`.
    pub fn count_containing(&self, user: &str, needle: &str) -> usize {
        ["new", "cur"]
            .iter()
            .flat_map(|sub| {
                std::fs::read_dir(self.maildir(user).join(sub))
                    .into_iter()
                    .flatten()
                    .flatten()
            })
            .filter(|e| std::fs::read(e.path()).is_ok_and(|b| contains(&b, needle.as_bytes())))
            .count()
    }

    /// Waits (bounded) until exactly `n` messages in `user`'s INBOX contain `needle`, and
    /// a little longer to be sure no more arrive.
    pub fn wait_for_count(&self, user: &str, needle: &str, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.count_containing(user, needle) < n {
            assert!(
                Instant::now() < deadline,
                "fewer than {n} messages with {needle:?} reached {user}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // Postfix hands mail to Dovecot in well under a second; a duplicate would be here.
        let settle = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < settle {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(
            self.count_containing(user, needle),
            n,
            "{needle:?} reached {user} more than {n} time(s)"
        );
    }
}

impl Setup {
    /// `user`'s account with both IMAP (IMAPS) and SMTP (implicit TLS submission).
    pub fn imap_smtp(stack: &Stack, user: &str) -> Setup {
        let setup = Setup::new("");
        let text = format!(
            r#"[accounts.{user}]
email = "{user}@example.test"
password_command = "echo {user}pw"
maildir = "{}"

[accounts.{user}.imap]
host = "localhost"
port = {}
ca_file = "{}"
timeout_secs = 10

[accounts.{user}.smtp]
host = "localhost"
port = {}
ca_file = "{}"
timeout_secs = 10
"#,
            setup.path("Mail").display(),
            stack.port("IMAPS_PORT"),
            stack.ca_file(),
            stack.port("SUBMISSIONS_PORT"),
            stack.ca_file()
        );
        std::fs::write(setup.config(), text).unwrap();
        setup
    }
}

impl Setup {
    /// `user`'s account with POP3 (POP3S) for reading and SMTP (implicit TLS) for sending.
    pub fn pop3_smtp(stack: &Stack, user: &str) -> Setup {
        let setup = Setup::pop3(stack, user, stack.port("POP3S_PORT"), "tls");
        let mut text = std::fs::read_to_string(setup.config()).unwrap();
        text.push_str(&format!(
            "\n[accounts.{user}.smtp]\nhost = \"localhost\"\nport = {}\nca_file = \"{}\"\n",
            stack.port("SUBMISSIONS_PORT"),
            stack.ca_file()
        ));
        std::fs::write(setup.config(), text).unwrap();
        setup
    }
}

/// An RFC 5322 date for the current time.
pub fn now_rfc5322() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    mail_parser::DateTime::from_timestamp(secs).to_rfc822()
}
