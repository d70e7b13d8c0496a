//! A real OAuth2 authorization server beside the stack: npm's oidc-provider, run by
//! `tests/oauth-server.sh` on a free loopback port. Its access tokens are JWTs signed
//! with a key it writes into the stack's Dovecot key directory, so Dovecot (and Postfix
//! through it) accept them. One per test binary, started on first use.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use super::{Account, atexit, parse_env, stack};

pub struct AuthServer {
    pub dir: PathBuf,
    env: HashMap<String, String>,
}

static SERVER: OnceLock<AuthServer> = OnceLock::new();

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oauth-server.sh")
}

extern "C" fn stop_server() {
    if let Some(server) = SERVER.get() {
        let _ = Command::new(script())
            .arg("stop")
            .arg(&server.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&server.dir);
    }
}

/// The authorization server of this test binary, started on first use (with the mail
/// stack, whose Dovecot trusts its key). One that cannot start fails the test.
pub fn auth_server() -> &'static AuthServer {
    SERVER.get_or_init(|| {
        let keys = stack().dir.join("dovecot/keys");
        let dir = tempfile::Builder::new()
            .prefix("mailer-oauth-")
            .tempdir()
            .expect("creating a temporary directory for the authorization server")
            .keep();
        // Node sometimes takes longer than the script's bound to come up on a loaded
        // machine (twice in this project's runs so far): one more try before failing.
        let start = || {
            let output = Command::new(script())
                .arg("start")
                .arg(&dir)
                .arg(&keys)
                .output()
                .expect("running tests/oauth-server.sh");
            if !output.status.success() {
                let _ = Command::new(script()).arg("stop").arg(&dir).output();
            }
            output
        };
        let mut output = start();
        if !output.status.success() {
            output = start();
        }
        if !output.status.success() {
            panic!(
                "the OAuth2 authorization server did not start; these tests need it.\n\
                 Install it with `tests/oauth-server.sh install`.\n--- oauth-server.sh said:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        // SAFETY: registering a plain function pointer with the C library.
        unsafe {
            atexit(stop_server);
        }
        let text = std::fs::read_to_string(dir.join("oauth.env")).expect("reading oauth.env");
        AuthServer {
            env: parse_env(&text),
            dir,
        }
    })
}

impl AuthServer {
    pub fn var(&self, key: &str) -> &str {
        self.env
            .get(key)
            .unwrap_or_else(|| panic!("oauth.env has no {key}"))
    }

    fn script(&self, args: &[&str]) -> Output {
        Command::new(script())
            .arg(args[0])
            .arg(&self.dir)
            .args(&args[1..])
            .output()
            .expect("running tests/oauth-server.sh")
    }

    /// Plays the user in a browser: opens `url`, signs in as `user`, and follows the
    /// redirect back to mailer's listener. Returns what the script said, on failure.
    pub fn approve(&self, url: &str, user: &str) -> Result<(), String> {
        let out = self.script(&["approve", url, user]);
        match out.status.success() {
            true => Ok(()),
            false => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
        }
    }

    /// A command for `BROWSER` that plays the user who signs in as `user` (see
    /// [`AuthServer::approve`]), written as a script into `dir`.
    pub fn browser(&self, dir: &Path, user: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("browser.sh");
        let text = format!(
            "#!/bin/sh\nexec {} approve {} \"$1\" {user} >>{} 2>&1\n",
            script().display(),
            self.dir.display(),
            dir.join("browser.log").display()
        );
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
        path
    }

    /// Plays the user on another device: enters `code` and signs in as `user`.
    pub fn approve_device(&self, code: &str, user: &str) {
        let out = self.script(&["approve-device", code, user]);
        assert!(
            out.status.success(),
            "approving device code failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Revokes `token` at the server, as a user does from the provider's settings.
    pub fn revoke(&self, token: &str) {
        let out = self.script(&["revoke", token]);
        assert!(
            out.status.success(),
            "revoking failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Account {
    /// Logs in with mailer's own OAuth2 login against the test authorization server:
    /// `auth = AUTH` and an `[accounts.ID.oauth2]` table with its endpoints.
    pub fn own_login(self, auth: &str, server: &AuthServer) -> Account {
        self.oauth2_table(auth, |table| {
            table.set("client_id", server.var("OAUTH_CLIENT_ID"));
            table.set("auth_url", server.var("OAUTH_AUTH_URL"));
            table.set("token_url", server.var("OAUTH_TOKEN_URL"));
            table.set("device_auth_url", server.var("OAUTH_DEVICE_URL"));
            table.set("revoke_url", server.var("OAUTH_REVOKE_URL"));
            table.set_raw("scopes", "[\"mail\", \"offline_access\"]");
        })
    }
}
