//! A real Secret Service for a test: a private D-Bus session bus and GNOME Keyring's
//! daemon on it, unlocked, with its files in a temporary home. Both are children of the
//! test and end with it. mailer reaches them through `DBUS_SESSION_BUS_ADDRESS`, which
//! the harness otherwise takes away.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Keyring {
    pub address: String,
    bus: Child,
    daemon: Child,
    _home: tempfile::TempDir,
}

impl Drop for Keyring {
    fn drop(&mut self) {
        for child in [&mut self.daemon, &mut self.bus] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts the bus and the keyring daemon, and waits (bounded) until the Secret Service
/// answers on the bus. Fails the test, with the reason, when they cannot run.
pub fn keyring() -> Keyring {
    let home = tempfile::tempdir().expect("a home for the keyring");
    let mut bus = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
        .arg(format!(
            "--address=unix:path={}",
            home.path().join("bus").display()
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting dbus-daemon (Debian's dbus-daemon package)");
    let mut line = String::new();
    BufReader::new(bus.stdout.take().expect("dbus-daemon's stdout"))
        .read_line(&mut line)
        .expect("reading the bus address");
    let address = line.trim().to_string();
    assert!(!address.is_empty(), "dbus-daemon printed no address");
    let mut daemon = Command::new("gnome-keyring-daemon")
        .args(["--foreground", "--unlock", "--components=secrets"])
        .env("DBUS_SESSION_BUS_ADDRESS", &address)
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_RUNTIME_DIR", home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting gnome-keyring-daemon (Debian's gnome-keyring package)");
    // The password that unlocks (and creates) the login keyring.
    let mut stdin = daemon.stdin.take().expect("the daemon's stdin");
    stdin
        .write_all(b"keyring-unlock")
        .expect("unlocking the keyring");
    drop(stdin);
    wait_for_secret_service(&address);
    Keyring {
        address,
        bus,
        daemon,
        _home: home,
    }
}

fn wait_for_secret_service(address: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let out = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", address)
            .output()
            .expect("running dbus-send");
        if String::from_utf8_lossy(&out.stdout).contains("boolean true") && has_login(address) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the Secret Service and its unlocked login keyring did not appear on the test bus within 15 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether the daemon has made the login keyring the default collection yet: it does
/// so shortly after it owns its name, and a store before then waits for a prompt that
/// never comes.
fn has_login(address: &str) -> bool {
    let out = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.ReadAlias",
            "string:default",
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", address)
        .output()
        .expect("running dbus-send");
    String::from_utf8_lossy(&out.stdout).contains("/collection/")
}

impl Keyring {
    /// Where the daemon keeps its keyrings (to show that something was written there).
    pub fn files(&self) -> PathBuf {
        self._home.path().join("data/keyrings")
    }
}
