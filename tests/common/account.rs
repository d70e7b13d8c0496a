//! The one way tests write a config file, in the manner of cargo's testsuite
//! (`project().file(..).build()`): `Account::new("carol").maildir().imap(stack,
//! "IMAPS_PORT").build()`. The defaults are the stack's test users, so a test states
//! only what differs from them. The servers are the stack's, or Cyrus's (`cyrus()`),
//! whose users are the same.

use std::path::{Path, PathBuf};

use super::{Servers, Setup};

/// A value as a TOML config file spells it.
pub trait Toml {
    fn toml(&self) -> String;
}

impl Toml for &str {
    fn toml(&self) -> String {
        let mut out = String::with_capacity(self.len() + 2);
        out.push('"');
        for c in self.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
}

impl Toml for String {
    fn toml(&self) -> String {
        self.as_str().toml()
    }
}

impl Toml for &Path {
    fn toml(&self) -> String {
        self.to_str().expect("a UTF-8 path").toml()
    }
}

impl Toml for PathBuf {
    fn toml(&self) -> String {
        self.as_path().toml()
    }
}

macro_rules! toml_as_displayed {
    ($($t:ty),*) => {
        $(impl Toml for $t {
            fn toml(&self) -> String {
                self.to_string()
            }
        })*
    };
}

toml_as_displayed!(bool, i32, u16, u64);

/// The keys of an `[accounts.ID.oauth2]` table.
pub struct OAuth2Table(Keys);

impl OAuth2Table {
    pub fn set(&mut self, key: &str, value: impl Toml) {
        self.0.set(key, value.toml());
    }

    /// A value already spelled as TOML (an array).
    pub fn set_raw(&mut self, key: &str, toml: &str) {
        self.0.set(key, toml.to_string());
    }
}

/// Where a stack server listens: a port key of stack.env or cyrus.env (`"IMAPS_PORT"`)
/// or a port number (a proxy in front of the stack).
pub trait Port {
    fn on(&self, servers: &dyn Servers) -> u16;
}

impl Port for &str {
    fn on(&self, servers: &dyn Servers) -> u16 {
        servers.port(self)
    }
}

impl Port for u16 {
    fn on(&self, _: &dyn Servers) -> u16 {
        *self
    }
}

/// Keys of one TOML table in the order they were first set; setting a key again
/// replaces its value.
#[derive(Clone, Default)]
struct Keys(Vec<(String, String)>);

impl Keys {
    fn set(&mut self, key: &str, value: String) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key.to_string(), value)),
        }
    }

    /// Whether there was such a key.
    fn unset(&mut self, key: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|(k, _)| k != key);
        before != self.0.len()
    }

    fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    fn write(&self, out: &mut String) {
        for (k, v) in &self.0 {
            out.push_str(&format!("{k} = {v}\n"));
        }
    }
}

/// One account of a config file: `[accounts.ID]` and its server sections.
#[derive(Clone)]
pub struct Account {
    id: String,
    keys: Keys,
    maildir: bool,
    servers: Vec<(String, Keys)>,
    more: Vec<Account>,
}

impl Account {
    /// `ID@example.test` with the password `echo IDpw` prints: the stack's test user `id`.
    pub fn new(id: &str) -> Account {
        let mut keys = Keys::default();
        keys.set("email", format!("{id}@example.test").toml());
        keys.set("password_command", format!("echo {id}pw").toml());
        Account {
            id: id.to_string(),
            keys,
            maildir: false,
            servers: Vec::new(),
            more: Vec::new(),
        }
    }

    /// The account of a fake server this test runs on loopback (`common::fault`): user
    /// `x`, password `pw`, a Maildir, and a plain connection the password may cross.
    pub fn fake(protocol: &str, port: u16) -> Account {
        Account::new("x")
            .password("pw")
            .maildir()
            .server(protocol, "127.0.0.1", port)
            .security("none")
            .server_key("allow_insecure_auth", true)
    }

    /// The display name (`name = ...`).
    pub fn name(self, name: &str) -> Account {
        self.set("name", name)
    }

    /// Another password command instead of `echo IDpw`.
    pub fn password_command(self, command: &str) -> Account {
        self.set("password_command", command)
    }

    /// The password from the OS keyring (`password_keyring = true`) instead of the command.
    pub fn password_keyring(mut self) -> Account {
        self.keys.unset("password_command");
        self.set("password_keyring", true)
    }

    /// A plain-text password in the file instead of the command.
    pub fn password(mut self, password: &str) -> Account {
        self.keys.unset("password_command");
        self.set("password", password)
    }

    /// Logs in with bearer tokens: `auth = AUTH` (xoauth2, oauthbearer) and an
    /// `[accounts.ID.oauth2]` table with `token_command`, instead of the password.
    pub fn oauth2(self, auth: &str, token_command: &str) -> Account {
        self.oauth2_table(auth, |table| table.set("token_command", token_command))
    }

    /// `auth = AUTH` and an `[accounts.ID.oauth2]` table that `fill` writes.
    pub fn oauth2_table(mut self, auth: &str, fill: impl FnOnce(&mut OAuth2Table)) -> Account {
        self.keys.unset("password_command");
        self.keys.unset("password");
        self.keys.set("auth", auth.toml());
        let mut table = OAuth2Table(Keys::default());
        fill(&mut table);
        // Written like a server section; first, so that server_key still means the
        // server added last.
        self.servers.insert(0, ("oauth2".to_string(), table.0));
        self
    }

    /// Fetched mail goes to `Mail` in the setup's scratch directory
    /// ([`Setup::local_folder`]).
    pub fn maildir(mut self) -> Account {
        self.maildir = true;
        self
    }

    /// Any other key of the account's own table (replacing the default, if it has one).
    pub fn set(mut self, key: &str, value: impl Toml) -> Account {
        self.keys.set(key, value.toml());
        self
    }

    /// An `[accounts.ID.smtp]` server of the stack, trusting its CA, with a 10 s timeout.
    pub fn smtp(self, stack: &dyn Servers, port: impl Port) -> Account {
        self.stack_server("smtp", stack, port.on(stack))
    }

    /// An `[accounts.ID.imap]` server of the stack, trusting its CA, with a 10 s timeout.
    pub fn imap(self, stack: &dyn Servers, port: impl Port) -> Account {
        self.stack_server("imap", stack, port.on(stack))
    }

    /// An `[accounts.ID.pop3]` server of the stack, trusting its CA, with a 10 s timeout.
    pub fn pop3(self, stack: &dyn Servers, port: impl Port) -> Account {
        self.stack_server("pop3", stack, port.on(stack))
    }

    fn stack_server(self, protocol: &str, stack: &dyn Servers, port: u16) -> Account {
        self.server(protocol, "localhost", port)
            .server_key("ca_file", stack.ca_file())
            .server_key("timeout_secs", 10)
    }

    /// A bare `[accounts.ID.PROTOCOL]` section with only `host` and `port`: a server
    /// that is not the stack (a fault server, a closed port).
    pub fn server(mut self, protocol: &str, host: &str, port: u16) -> Account {
        assert!(
            !self.servers.iter().any(|(p, _)| p == protocol),
            "account {} already has a {protocol} server",
            self.id
        );
        let mut keys = Keys::default();
        keys.set("host", host.toml());
        keys.set("port", port.toml());
        self.servers.push((protocol.to_string(), keys));
        self
    }

    /// `security = ...` of the server added last (unset, mailer's default is "tls").
    pub fn security(self, security: &str) -> Account {
        self.server_key("security", security)
    }

    /// Any key of the server added last (replacing the value it has, if any).
    pub fn server_key(mut self, key: &str, value: impl Toml) -> Account {
        self.last_server().set(key, value.toml());
        self
    }

    /// Leaves `key` out of the server added last (e.g. its `ca_file`).
    pub fn server_unset(mut self, key: &str) -> Account {
        assert!(
            self.last_server().unset(key),
            "the server has no {key} to leave out"
        );
        self
    }

    fn last_server(&mut self) -> &mut Keys {
        let id = &self.id;
        match self.servers.last_mut() {
            Some((_, keys)) => keys,
            None => panic!("account {id} has no server yet: add one first"),
        }
    }

    /// A further account in the same config file.
    pub fn account(mut self, other: Account) -> Account {
        self.more.push(other);
        self
    }

    /// A scratch directory with this config file in it.
    pub fn build(self) -> Setup {
        let setup = Setup::empty();
        setup.configure(&self);
        setup
    }

    /// The config file's text, with paths inside `setup`'s scratch directory.
    pub fn toml(&self, setup: &Setup) -> String {
        let mut out = String::new();
        self.write(setup, &mut out);
        out
    }

    fn write(&self, setup: &Setup, out: &mut String) {
        let mut keys = self.keys.clone();
        if self.maildir && !keys.has("maildir") {
            keys.set("maildir", setup.path("Mail").toml());
        }
        out.push_str(&format!("[accounts.{}]\n", self.id));
        keys.write(out);
        for (protocol, server) in &self.servers {
            out.push_str(&format!("\n[accounts.{}.{protocol}]\n", self.id));
            server.write(out);
        }
        for other in &self.more {
            out.push('\n');
            other.write(setup, out);
        }
    }
}
