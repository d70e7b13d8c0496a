//! The test harness: a private Postfix + Dovecot started by `tests/mailstack.sh` on free
//! loopback ports, once per test binary, and stopped when the binary exits. [`Account`]
//! writes a config file into a [`Setup`], and [`Setup::mailer`] runs the real `mailer`
//! binary the way a user would. [`cyrus::cyrus()`] is a second IMAP/POP3 server, Cyrus
//! IMAP, started by `tests/cyrus.sh` the same way; [`oauth::auth_server()`] a real
//! OAuth2 authorization server (oidc-provider), started by `tests/oauth-server.sh`.

#![allow(dead_code)]

pub mod account;
pub mod cyrus;
pub mod dns;
pub mod exim;
pub mod fault;
pub mod https;
pub mod keyring;
pub mod oauth;
pub mod roundtrips;
pub mod rusage;

pub use account::Account;

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
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
        let env = parse_env(&text);
        Stack { dir, env }
    })
}

/// Where a set of test servers listens and the CA that verifies them: the stack's, or
/// Cyrus's. [`Account`] takes either.
pub trait Servers {
    /// The port of a key of its env file (`"IMAPS_PORT"`).
    fn port(&self, key: &str) -> u16;
    fn ca_file(&self) -> &str;
}

impl Servers for Stack {
    fn port(&self, key: &str) -> u16 {
        Stack::port(self, key)
    }
    fn ca_file(&self) -> &str {
        Stack::ca_file(self)
    }
}

/// A private server started by a script of tests/ (`cyrus.sh`, `exim.sh`): its
/// directory and the env file the script wrote there. Stopped, its directory removed,
/// when the test binary exits.
pub struct ScriptServer {
    pub dir: PathBuf,
    env: HashMap<String, String>,
    env_file: &'static str,
}

/// The scripts and directories of the servers started, for the exit handler.
static STARTED: Mutex<Vec<(PathBuf, PathBuf)>> = Mutex::new(Vec::new());

extern "C" fn stop_started() {
    let started = STARTED.lock().map(|s| s.clone()).unwrap_or_default();
    for (script, dir) in started {
        let _ = Command::new(script)
            .arg("stop")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&dir);
    }
}

impl ScriptServer {
    /// Runs `script start DIR` in a new temporary DIR and reads the `env_file` it
    /// writes there. One that cannot start fails the test with the script's
    /// explanation: these tests never skip.
    pub fn start(script: &Path, what: &str, env_file: &'static str) -> ScriptServer {
        let dir = tempfile::Builder::new()
            .prefix("mailer-server-")
            .tempdir()
            .expect("creating a temporary directory for a server")
            .keep();
        let output = Command::new(script)
            .arg("start")
            .arg(&dir)
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
        if !output.status.success() {
            let _ = Command::new(script).arg("stop").arg(&dir).output();
            let _ = std::fs::remove_dir_all(&dir);
            panic!(
                "{what} did not start; these tests need it.\n\
                 Unpack it with `{} install` (run the tests as root).\n\
                 --- it said:\n{}{}",
                script.display(),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let mut started = STARTED.lock().expect("the list of started servers");
        if started.is_empty() {
            // SAFETY: registering a plain function pointer with the C library.
            unsafe {
                atexit(stop_started);
            }
        }
        started.push((script.to_path_buf(), dir.clone()));
        let text = std::fs::read_to_string(dir.join(env_file))
            .unwrap_or_else(|e| panic!("reading {env_file}: {e}"));
        ScriptServer {
            env: parse_env(&text),
            dir,
            env_file,
        }
    }

    pub fn var(&self, key: &str) -> &str {
        self.env
            .get(key)
            .unwrap_or_else(|| panic!("{} has no {key}", self.env_file))
    }
}

impl Servers for ScriptServer {
    fn port(&self, key: &str) -> u16 {
        self.var(key).parse().expect("a port number")
    }
    fn ca_file(&self) -> &str {
        self.var("CA_FILE")
    }
}

/// The `KEY=VALUE` lines of stack.env, cyrus.env or exim.env.
fn parse_env(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
        .collect()
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
    /// A scratch directory with no config file yet (see [`Setup::configure`]).
    pub fn empty() -> Setup {
        Setup {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A config file with exactly `toml` as its content, readable by its owner only: for
    /// tests about the text of a config file. Others build theirs with [`Account`].
    pub fn new(toml: &str) -> Setup {
        let setup = Setup::empty();
        setup.write_config(toml);
        setup
    }

    /// Writes `account`'s config file here, replacing the one there is.
    pub fn configure(&self, account: &Account) {
        self.write_config(&account.toml(self));
    }

    fn write_config(&self, toml: &str) {
        std::fs::write(self.config(), toml).expect("writing config");
        set_mode(&self.config(), 0o600);
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

    /// The account's local Maildir folder for `mailbox` (see [`Account::maildir`]).
    pub fn local_folder(&self, mailbox: &str) -> PathBuf {
        if mailbox == "INBOX" {
            self.path("Mail")
        } else {
            self.path("Mail").join(format!(".{mailbox}"))
        }
    }

    /// `mailer -c CONFIG ARGS...`, run in the scratch directory with its own state
    /// directory and no MAILER_CONFIG or MAILER_LOG from the caller. Nothing on standard
    /// input unless [`Mailer::stdin`] says otherwise.
    pub fn mailer(&self, args: &[&str]) -> Mailer {
        let mut argv = vec!["-c".into(), self.config().into()];
        argv.extend(args.iter().map(OsString::from));
        self.in_scratch_dir(env!("CARGO_BIN_EXE_mailer").into(), argv)
            .env_remove("MAILER_CONFIG")
    }

    /// `sendmail ARGS...` as cron and other programs call it: mailer through a symlink
    /// named sendmail, the config named by MAILER_CONFIG instead of `-c`.
    pub fn sendmail(&self, args: &[&str]) -> Mailer {
        let link = self.path("sendmail");
        if !link.exists() {
            std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_mailer"), &link)
                .expect("linking sendmail to mailer");
        }
        self.in_scratch_dir(link, args.iter().map(OsString::from).collect())
            .env("MAILER_CONFIG", self.config())
    }

    fn in_scratch_dir(&self, program: PathBuf, args: Vec<OsString>) -> Mailer {
        Mailer {
            program,
            args,
            env: Vec::new(),
            env_clear: false,
            stdin: None,
            dir: self.dir.path().to_path_buf(),
        }
        .env("XDG_STATE_HOME", self.path("state"))
        .env_remove("MAILER_LOG")
        // Never the developer's own keyring or browser: a test that wants a keyring
        // starts its own D-Bus session and says so.
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("BROWSER")
    }
}

/// A mailer command to run: `setup.mailer(&["fetch", "--inbox"]).ok()`, or with
/// `.stdin(..)`, `.env(..)` first and `.run()` for the whole [`Run`].
pub struct Mailer {
    program: PathBuf,
    args: Vec<OsString>,
    /// Applied in order: a value sets the variable, `None` removes it.
    env: Vec<(OsString, Option<OsString>)>,
    env_clear: bool,
    stdin: Option<Vec<u8>>,
    dir: PathBuf,
}

/// Every form of the test users' passwords that must never be printed: the password,
/// its base64 (AUTH LOGIN) and AUTH PLAIN's base64.
fn secrets() -> Vec<String> {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut out = Vec::new();
    for (user, password) in [
        ("alice", "alicepw"),
        ("bob", "bobpw"),
        ("carol", "carolpw"),
        ("dora", "dörapw"),
        ("dave", "davepw"),
        // The test authorization server's confidential client.
        ("mailer-secret", "mailer-secret-pw"),
    ] {
        out.push(password.to_string());
        out.push(b64(password));
        out.push(b64(&format!("\0{user}@example.test\0{password}")));
    }
    out
}

/// stderr without the TRACE, DEBUG and INFO lines of the log.
fn without_quiet_log_lines(stderr: &[u8]) -> Vec<u8> {
    let quiet = |line: &[u8]| {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_start();
        ["TRACE ", "DEBUG ", "INFO "]
            .iter()
            .any(|l| text.starts_with(l))
    };
    stderr
        .split_inclusive(|&b| b == b'\n')
        .filter(|line| !quiet(line))
        .flatten()
        .copied()
        .collect()
}

/// Every run of every test is checked: whatever it printed holds no test password.
fn assert_no_secret(run: &Run) {
    let output = format!("{}{}", run.stdout(), run.stderr());
    for secret in secrets() {
        assert!(
            !output.contains(&secret),
            "mailer printed the secret {secret:?}:\n{output}"
        );
    }
}

impl Mailer {
    /// Pipes `bytes` to standard input.
    pub fn stdin(mut self, bytes: impl AsRef<[u8]>) -> Mailer {
        self.stdin = Some(bytes.as_ref().to_vec());
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Mailer {
        self.env
            .push((key.as_ref().into(), Some(value.as_ref().into())));
        self
    }

    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Mailer {
        self.env.push((key.as_ref().into(), None));
        self
    }

    /// Inherits nothing from the test's environment: only the harness's own variables
    /// and those of [`Mailer::env`] are set.
    pub fn env_clear(mut self) -> Mailer {
        self.env_clear = true;
        self
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args).current_dir(&self.dir);
        if self.env_clear {
            cmd.env_clear();
        }
        for (key, value) in &self.env {
            match value {
                Some(value) => cmd.env(key, value),
                None => cmd.env_remove(key),
            };
        }
        cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        cmd
    }

    fn feed(&self, child: &mut Child) {
        if let Some(input) = &self.stdin {
            let mut pipe = child.stdin.take().expect("stdin pipe");
            pipe.write_all(input).expect("writing stdin");
        }
    }

    /// Runs it to the end.
    ///
    /// Unless the test chose a log level itself (`-v`, `MAILER_LOG`), mailer runs at
    /// the highest one, `MAILER_LOG=trace`: everything it printed is searched for the
    /// test passwords, then the log lines below warn (what the default level would not
    /// have shown) are taken out of stderr, so the test sees what a user would.
    pub fn run(self) -> Run {
        self.run_answering(|_| {})
    }

    /// Runs it to the end as [`Mailer::run`] does, while `answer` sees each line of
    /// its stderr as it comes: a test plays the user who reads a prompt and acts on it.
    pub fn run_answering(mut self, mut answer: impl FnMut(&str)) -> Run {
        use std::io::{BufRead, Read};
        let traced = !self.chooses_log_level();
        if traced {
            self = self.env("MAILER_LOG", "trace");
        }
        let mut child = self
            .command()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("running mailer");
        self.feed(&mut child);
        // stdout drains on its own thread, so a long output never blocks mailer while
        // stderr is read line by line here.
        let mut stdout = child.stdout.take().expect("stdout pipe");
        let drained = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            stdout.read_to_end(&mut bytes).map(|_| bytes)
        });
        let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr pipe"));
        let mut seen = Vec::new();
        loop {
            let start = seen.len();
            let n = stderr
                .read_until(b'\n', &mut seen)
                .expect("reading mailer's stderr");
            if n == 0 {
                break;
            }
            let line = String::from_utf8_lossy(&seen[start..]);
            answer(line.trim_end_matches(['\n', '\r']));
        }
        let status = child.wait().expect("waiting for mailer");
        let stdout = drained
            .join()
            .expect("the stdout thread")
            .expect("reading mailer's stdout");
        let mut run = Run(Output {
            status,
            stdout,
            stderr: seen,
        });
        assert_no_secret(&run);
        if traced {
            run.0.stderr = without_quiet_log_lines(&run.0.stderr);
        }
        run
    }

    fn chooses_log_level(&self) -> bool {
        let verbose = self.args.iter().any(|a| {
            let a = a.to_string_lossy();
            a.len() > 1 && a.starts_with("-v") && a[1..].chars().all(|c| c == 'v')
        });
        let logs = self
            .env
            .iter()
            .rev()
            .find(|(k, _)| k == "MAILER_LOG")
            .is_some_and(|(_, v)| v.is_some());
        verbose || logs
    }

    /// Starts it without waiting (to kill it mid-run, or run two at once). Its standard
    /// output is discarded, so a long run never blocks on a full pipe; stderr is piped.
    pub fn spawn(self) -> Child {
        let mut child = self
            .command()
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting mailer");
        self.feed(&mut child);
        child
    }

    /// Runs it and asserts success: [`Run::ok`].
    pub fn ok(self) -> String {
        self.run().ok()
    }

    /// Runs it and asserts the exit code: [`Run::fails_with`].
    pub fn fails_with(self, code: i32) -> String {
        self.run().fails_with(code)
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

    /// Hands the user's Maildir back to Dovecot's user and makes Dovecot rescan the folder.
    pub fn resync(&self, user: &str, mailbox: &str) {
        let mail = |flag: &str| -> u32 {
            let out = Command::new("id").args([flag, "mail"]).output().unwrap();
            String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
        };
        hand_over(&self.maildir(user), mail("-u"), mail("-g"));
        self.doveadm(&[
            "force-resync",
            "-u",
            &format!("{user}@example.test"),
            mailbox,
        ]);
    }

    /// Runs doveadm against this stack's Dovecot.
    pub fn doveadm(&self, args: &[&str]) {
        self.doveadm_output(args);
    }

    /// Runs doveadm against this stack's Dovecot; what it printed.
    pub fn doveadm_output(&self, args: &[&str]) -> String {
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
        String::from_utf8_lossy(&out.stdout).into_owned()
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
/// A file renamed while it is read (Dovecot marking a message seen after a POP3 QUIT
/// that mailer did not wait for) starts the reading over, a bounded number of times.
pub fn message_files(folder: &Path) -> Vec<Vec<u8>> {
    for _ in 0..100 {
        let read: std::io::Result<Vec<Vec<u8>>> = ["new", "cur"]
            .iter()
            .flat_map(|sub| {
                std::fs::read_dir(folder.join(sub))
                    .into_iter()
                    .flatten()
                    .flatten()
            })
            .map(|e| std::fs::read(e.path()))
            .collect();
        match read {
            Ok(mut out) => {
                out.sort();
                return out;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("reading the messages of {}: {e}", folder.display()),
        }
    }
    panic!(
        "the messages of {} kept moving while read",
        folder.display()
    )
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

impl Stack {
    /// Waits (bounded) until Postfix's queue is empty: every message it accepted before
    /// this call has then been delivered to its Maildir.
    pub fn wait_for_empty_queue(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let out = Command::new("postqueue")
                .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")
                .arg("-c")
                .arg(self.dir.join("postfix/conf"))
                .arg("-p")
                .output()
                .expect("running postqueue");
            let listing = String::from_utf8_lossy(&out.stdout);
            if out.status.success() && listing.contains("Mail queue is empty") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "Postfix's queue did not empty within 60 s:\n{listing}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
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

/// Runs the shell `command` on a pseudo-terminal (util-linux's `script`) with `input`
/// typed in; the screen it left. The state directory is the setup's.
pub fn on_a_terminal(setup: &Setup, command: &str, env: &[(&str, &str)], input: &[u8]) -> String {
    use std::io::Write;
    // A pseudo-terminal does not end when its input does: a question the input does
    // not answer would wait for ever, so the run is bounded.
    let mut child = Command::new("timeout")
        .args(["60", "script", "-qec", command, "/dev/null"])
        .env("XDG_STATE_HOME", setup.path("state"))
        // Plain text to compare, unless a test asks for colour (NO_COLOR="").
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{screen}");
    screen
}

/// A loopback port nothing listens on (it was free a moment ago): connecting to it is
/// refused.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// `chown -R` of `dir` to `uid:gid` that lets files go while it walks: Dovecot, serving
/// the other tests on the same stack, creates and removes its index files meanwhile, and
/// `chown -R` failed on one removed between its listing and its chown.
fn hand_over(dir: &Path, uid: u32, gid: u32) {
    let gone = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
    let own = |path: &Path| match std::os::unix::fs::lchown(path, Some(uid), Some(gid)) {
        Err(e) if !gone(&e) => panic!("chown of {}: {e}", path.display()),
        _ => {}
    };
    own(dir);
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if gone(&e) => return,
        Err(e) => panic!("reading {}: {e}", dir.display()),
    };
    for entry in entries.flatten() {
        match entry.file_type() {
            Ok(t) if t.is_dir() => hand_over(&entry.path(), uid, gid),
            _ => own(&entry.path()),
        }
    }
}
