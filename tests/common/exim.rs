//! A second SMTP server beside the stack's Postfix: Exim 4.96 from Debian's packages,
//! run by `tests/exim.sh` in a private mount namespace on free loopback ports. One per
//! test binary, started on first use and stopped when the binary exits. Its users are
//! the stack's (alice@example.test with alicepw, ...); what they send stays in Exim's
//! queue, where [`Exim::queued_containing`] finds it.

use std::ops::Deref;
use std::path::Path;
use std::sync::OnceLock;

use super::{ScriptServer, Servers};

/// Exim, as tests/exim.sh started it.
pub struct Exim(ScriptServer);

static EXIM: OnceLock<Exim> = OnceLock::new();

/// The Exim of this test binary, started on first use; one that cannot start fails the
/// test, it never skips.
pub fn exim() -> &'static Exim {
    EXIM.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/exim.sh");
        Exim(ScriptServer::start(&script, "Exim", "exim.env"))
    })
}

impl Deref for Exim {
    type Target = ScriptServer;
    fn deref(&self) -> &ScriptServer {
        &self.0
    }
}

impl Servers for Exim {
    fn port(&self, key: &str) -> u16 {
        self.0.port(key)
    }
    fn ca_file(&self) -> &str {
        self.0.ca_file()
    }
}

impl Exim {
    /// How many queued messages hold `token` in their headers (the spool's `-H` files,
    /// which also name the envelope's sender and recipients).
    pub fn queued_containing(&self, token: &str) -> usize {
        let Ok(entries) = std::fs::read_dir(self.dir.join("spool/input")) else {
            return 0;
        };
        entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with("-H"))
            .filter(|e| std::fs::read_to_string(e.path()).is_ok_and(|text| text.contains(token)))
            .count()
    }
}
