//! The test harness: a private Postfix + Dovecot started by `tests/mailstack.sh` on free
//! loopback ports, once per test binary, and stopped when the binary exits. Helpers here
//! write account configs and run the real `mailer` binary, the way a user would.

#![allow(dead_code)]

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
