//! POP3 (RFC 1939) with CAPA, PIPELINING, UIDL and TOP (RFC 2449), STLS (RFC 2595) and
//! AUTH PLAIN (RFC 5034), over tokio and native-tls.
//!
//! An in-house client: the POP3 crates on crates.io are synchronous, unmaintained, or
//! lack STLS and pipelining. The protocol is small; the care goes into the reply parser
//! (`response`) and into never leaving a step unbounded.

mod ahead;
mod deferred;
pub mod response;

use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncWriteExt, BufReader};

use crate::config::{Security, Server, Token};
use crate::net::{self, Conn, SessionError, bounded, broken};
use crate::{oauth, sasl};
use response::ReadError;

/// A failed POP3 step.
pub type Error = SessionError;

/// LIST's message numbers and sizes, and UIDL's ids (None without UIDL).
pub type Listing = (Vec<(u32, u64)>, Option<Vec<(u32, String)>>);

/// At most this many TOP commands leave in one write.
const TOPS_AT_ONCE: usize = 100;

/// Callers that read many messages' header sections ask for at most this many at once,
/// so that a large inbox's are not all held together.
pub const HEADERS_AT_ONCE: usize = 500;

/// Messages to retrieve, in order, and how far the RETRs for them have gone ahead of
/// their replies (see `ahead`).
#[derive(Debug)]
pub struct Retrievals {
    wanted: Vec<(u32, u64)>,
    sent: usize,
    read: usize,
    ahead_bytes: u64,
}

/// What the server said it can do (CAPA).
#[derive(Debug, Default, Clone)]
pub struct Capabilities {
    /// Every CAPA line, as the server wrote it (for `mailer check`).
    pub lines: Vec<String>,
    pub pipelining: bool,
    pub uidl: bool,
    pub top: bool,
    pub stls: bool,
    /// USER and PASS (RFC 2449 6.1).
    pub user: bool,
    pub sasl_plain: bool,
}

impl Capabilities {
    fn parse(lines: &[String]) -> Capabilities {
        let mut caps = Capabilities {
            lines: lines
                .iter()
                .take(64)
                .map(|l| l.trim().to_string())
                .collect(),
            ..Capabilities::default()
        };
        for line in lines {
            let mut words = line.split_whitespace();
            match words.next().map(str::to_ascii_uppercase).as_deref() {
                Some("PIPELINING") => caps.pipelining = true,
                Some("UIDL") => caps.uidl = true,
                Some("TOP") => caps.top = true,
                Some("STLS") => caps.stls = true,
                Some("USER") => caps.user = true,
                Some("SASL") => caps.sasl_plain = words.any(|m| m.eq_ignore_ascii_case("PLAIN")),
                _ => {}
            }
        }
        caps
    }
}

/// A login written, or to be written, with the next command.
struct Deferred {
    /// USER and PASS, CRLF-terminated.
    lines: Vec<u8>,
    written: bool,
    user: String,
}

impl Deferred {
    fn new(user: &str, password: &str) -> Deferred {
        Deferred {
            lines: format!("USER {user}\r\nPASS {password}\r\n").into_bytes(),
            written: false,
            user: user.to_string(),
        }
    }
}

/// A logged-in POP3 session (the TRANSACTION state).
pub struct Session {
    conn: BufReader<Conn>,
    addr: String,
    timeout: Duration,
    pub caps: Capabilities,
    /// The conversation, for `-vv` (commands and status lines; message data is not
    /// shown).
    wire: Option<net::wire::Transcript>,
    /// The login, to go with the first command (PIPELINING), its replies not read yet.
    deferred: Option<Deferred>,
}

impl Session {
    /// Connects, secures, and logs in with AUTH PLAIN when offered, else USER/PASS.
    pub async fn open(server: &Server) -> Result<Session, Error> {
        Self::open_over(server, None).await
    }

    /// [`Session::open`] over a connection made beforehand (`mailer check`), if any.
    pub async fn open_over(server: &Server, opened: Option<net::Opened>) -> Result<Session, Error> {
        let refused = |e: &Error| matches!(e, Error::AuthRefused(_));
        oauth::with_token(server, opened, refused, async |token, opened| {
            Self::open_with(server, token, opened).await
        })
        .await
    }

    /// One connection and login, with `token` when the server takes a bearer token.
    async fn open_with(
        server: &Server,
        token: Option<&Token>,
        opened: Option<net::Opened>,
    ) -> Result<Session, Error> {
        let addr = server.address();
        let timeout = server.timeout;
        let checking = opened.is_some();
        let opened = match opened {
            Some(o) => o,
            None => {
                let tcp = net::connect(server).await?;
                match server.security {
                    Security::Tls => net::Opened::Tls(
                        bounded(&addr, timeout, "TLS handshake", net::tls_wrap(server, tcp))
                            .await??,
                    ),
                    _ => net::Opened::Plain(tcp),
                }
            }
        };
        let conn: Conn = match opened {
            net::Opened::Tls(tls) => Box::new(tls),
            net::Opened::Plain(tcp) => Box::new(tcp),
        };
        let mut s = Session {
            conn: BufReader::new(conn),
            addr,
            timeout,
            caps: Capabilities::default(),
            wire: net::wire::Transcript::new("pop3"),
            deferred: None,
        };
        let greeting = s.status("greeting").await?;
        s.caps = s.capa().await?;
        net::progress::reached("greeting", || {
            format!("\"{}\"; offers {}", greeting.trim(), s.caps.lines.join(" "))
        });
        if server.security == Security::Starttls {
            s = s.stls(server).await?;
        }
        if server.security == Security::None && !server.allow_insecure_auth {
            return Err(Error::InsecureAuth { addr: s.addr });
        }
        // `mailer check` reports the login as a step of its own: not deferred there.
        s.login(server, token, !checking).await?;
        tracing::info!("logged in as {}", server.user);
        net::progress::reached("auth", || format!("logged in as {}", server.user));
        Ok(s)
    }

    /// Upgrades the connection with STLS (RFC 2595).
    async fn stls(mut self, server: &Server) -> Result<Session, Error> {
        if !self.caps.stls {
            return Err(Error::Refused {
                addr: self.addr,
                step: "STLS".into(),
                reply: "(not offered); use security = \"tls\" if the server listens for POP3S"
                    .into(),
            });
        }
        self.command("STLS", "STLS").await?;
        // Nothing may be buffered from before the handshake (RFC 2595 section 4).
        if !self.conn.buffer().is_empty() {
            let why = &"the server sent data before the TLS handshake";
            return Err(broken(&self.addr, "STLS", why));
        }
        let plain = self.conn.into_inner();
        let handshake = net::tls_wrap(server, plain);
        let tls = bounded(&self.addr, self.timeout, "TLS handshake", handshake).await??;
        net::progress::reached("starttls", || net::certificate_shown(&tls, &server.host));
        self.conn = BufReader::new(Box::new(tls) as Conn);
        // Capabilities may differ once encrypted (RFC 2595).
        self.caps = self.capa().await?;
        Ok(self)
    }

    /// AUTH XOAUTH2 or OAUTHBEARER with a bearer token (RFC 5034's initial response);
    /// to an error challenge, the answer that lets the server send its final -ERR.
    async fn bearer(
        &mut self,
        server: &Server,
        mechanism: sasl::Mechanism,
        token: &Token,
    ) -> Result<(), Error> {
        let first = mechanism.first_message(server, token);
        let line = format!("AUTH {} {}", mechanism.name(), sasl::encode(&first));
        self.send(&line, "AUTH").await?;
        let (addr, t) = (self.addr.clone(), self.timeout);
        let read = bounded(&addr, t, "AUTH", response::auth_reply(&mut self.conn)).await?;
        if let Some(wire) = self.wire.as_mut() {
            let shown = match &read {
                Ok(response::AuthReply::Ok) => "+OK".to_string(),
                Ok(response::AuthReply::Challenge(text)) => format!("+ {text}"),
                Err(_) => "-ERR".to_string(),
            };
            wire.server(format!("{shown}\n").as_bytes());
        }
        let reason = match read.map_err(|e| self.read_error("AUTH", e)) {
            Ok(response::AuthReply::Ok) => return Ok(()),
            Ok(response::AuthReply::Challenge(text)) => sasl::refusal_reason(&text),
            Err(Error::Refused { reply, .. }) => return Err(self.refused(&server.user, reply)),
            Err(e) => return Err(e),
        };
        self.send(&sasl::encode(mechanism.failure_answer()), "AUTH")
            .await?;
        let reply = match self.status("AUTH").await {
            Err(Error::Refused { reply, .. }) => reply,
            Ok(_) => return Ok(()),
            Err(e) => return Err(e),
        };
        let reply = match reason.is_empty() {
            true => reply,
            false => format!("{reply} ({reason})"),
        };
        Err(self.refused(&server.user, reply))
    }

    fn refused(&self, user: &str, reply: String) -> Error {
        Error::AuthRefused(net::LoginRefused {
            addr: self.addr.clone(),
            user: user.to_string(),
            reply,
        })
    }

    /// AUTH PLAIN when offered (one round trip), else USER and PASS. A server that lists
    /// PLAIN but refuses it (QQ Mail does) gets USER and PASS too, before the login counts
    /// as refused. With PIPELINING and USER (and `defer`), USER and PASS go with the next
    /// command (see `deferred`).
    async fn login(
        &mut self,
        server: &Server,
        token: Option<&Token>,
        defer: bool,
    ) -> Result<(), Error> {
        if let Some((mechanism, token)) = sasl::Mechanism::of(server.auth).zip(token) {
            return self.bearer(server, mechanism, token).await;
        }
        let password = server
            .password()
            .await?
            .ok_or_else(|| Error::NoPassword(self.addr.clone()))?;
        if defer && self.caps.pipelining && self.caps.user {
            let deferred = Deferred::new(&server.user, password.expose());
            self.deferred = Some(deferred);
            return Ok(());
        }
        // When PLAIN was refused and USER/PASS is too, PLAIN's words say more.
        let mut plain_refusal = None;
        if self.caps.sasl_plain {
            let token = base64::engine::general_purpose::STANDARD.encode(format!(
                "\0{}\0{}",
                server.user,
                password.expose()
            ));
            match self.command(&format!("AUTH PLAIN {token}"), "AUTH").await {
                Ok(_) => return Ok(()),
                Err(Error::Refused { reply, .. }) => {
                    tracing::debug!("{}: AUTH PLAIN refused; trying USER and PASS", self.addr);
                    plain_refusal = Some(reply);
                }
                Err(e) => return Err(e),
            }
        }
        // Some servers refuse an unknown user at USER already.
        let steps = [
            (format!("USER {}", server.user), "USER"),
            (format!("PASS {}", password.expose()), "PASS"),
        ];
        for (line, step) in steps {
            match self.command(&line, step).await {
                Err(Error::Refused { reply, .. }) => {
                    let reply = plain_refusal.unwrap_or(reply);
                    return Err(self.refused(&server.user, reply));
                }
                other => other?,
            };
        }
        Ok(())
    }

    async fn capa(&mut self) -> Result<Capabilities, Error> {
        self.send("CAPA", "CAPA").await?;
        match self.status("CAPA").await {
            Ok(_) => Ok(Capabilities::parse(&self.lines("CAPA").await?)),
            // A server without CAPA (RFC 1939 only) can still do the basics.
            Err(Error::Refused { .. }) => Ok(Capabilities::default()),
            Err(e) => Err(e),
        }
    }

    /// Writes one command line (or several, CRLF between them), after the deferred
    /// login if it waits.
    async fn send(&mut self, line: &str, step: &str) -> Result<(), Error> {
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        let bytes = self.with_deferred(&bytes);
        self.write_line(&bytes, step).await
    }

    /// Writes `bytes` as they are.
    async fn write_line(&mut self, bytes: &[u8], step: &str) -> Result<(), Error> {
        if let Some(wire) = self.wire.as_mut() {
            wire.client(bytes);
        }
        let w = self.conn.get_mut();
        let write = async {
            w.write_all(bytes).await?;
            w.flush().await
        };
        bounded(&self.addr, self.timeout, step, write)
            .await?
            .map_err(|e| broken(&self.addr, step, &e))
    }

    /// Reads a status line (the deferred login's first); a negative reply becomes
    /// `Refused` with the server's text.
    async fn status(&mut self, step: &str) -> Result<String, Error> {
        self.settle().await?;
        self.read_status(step).await
    }

    async fn read_status(&mut self, step: &str) -> Result<String, Error> {
        let (addr, t) = (self.addr.clone(), self.timeout);
        let read = bounded(&addr, t, step, response::status(&mut self.conn)).await?;
        if let Some(wire) = self.wire.as_mut() {
            let shown = match &read {
                Ok(text) => format!("+OK {text}\n"),
                Err(ReadError::Negative(text)) => format!("-ERR {text}\n"),
                Err(_) => String::new(),
            };
            wire.server(shown.as_bytes());
        }
        read.map_err(|e| self.read_error(step, e))
    }

    /// Reads the lines of a multi-line reply.
    async fn lines(&mut self, step: &str) -> Result<Vec<String>, Error> {
        let (addr, t) = (self.addr.clone(), self.timeout);
        let read = bounded(&addr, t, step, response::lines(&mut self.conn)).await?;
        if let (Some(wire), Ok(lines)) = (self.wire.as_mut(), &read) {
            for line in lines {
                wire.server(format!("{line}\n").as_bytes());
            }
            wire.server(b".\n");
        }
        read.map_err(|e| self.read_error(step, e))
    }

    fn read_error(&self, step: &str, e: ReadError) -> Error {
        match e {
            ReadError::Negative(reply) => Error::Refused {
                addr: self.addr.clone(),
                step: step.to_string(),
                reply: format!("-ERR {reply}"),
            },
            ReadError::Closed => broken(&self.addr, step, &"the server closed the connection"),
            ReadError::Garbage(text) => {
                broken(&self.addr, step, &format!("not a POP3 reply: {text:?}"))
            }
            ReadError::TooMuch(limit) => Error::Limit {
                addr: self.addr.clone(),
                step: step.to_string(),
                limit,
            },
            ReadError::Io(e) => broken(&self.addr, step, &e),
        }
    }

    /// Sends a command and reads its status line.
    async fn command(&mut self, line: &str, step: &str) -> Result<String, Error> {
        self.send(line, step).await?;
        self.status(step).await
    }

    /// Message numbers and their UIDLs; `None` when the server has no UIDL.
    pub async fn uidl(&mut self) -> Result<Option<Vec<(u32, String)>>, Error> {
        self.send("UIDL", "UIDL").await?;
        self.read_uidl().await
    }

    /// LIST and UIDL, in one write when the server offers PIPELINING (RFC 2449).
    pub async fn list_and_uidl(&mut self) -> Result<Listing, Error> {
        if !self.caps.pipelining {
            return Ok((self.list().await?, self.uidl().await?));
        }
        self.send("LIST\r\nUIDL", "LIST").await?;
        let list = self.read_list().await;
        // UIDL's reply comes whatever LIST's was: read it to stay in step.
        let uidl = self.read_uidl().await;
        Ok((list?, uidl?))
    }

    async fn read_uidl(&mut self) -> Result<Option<Vec<(u32, String)>>, Error> {
        match self.status("UIDL").await {
            Ok(_) => {}
            Err(Error::Refused { .. }) => return Ok(None),
            Err(e) => return Err(e),
        }
        let lines = self.lines("UIDL").await?;
        Ok(Some(
            lines
                .iter()
                .filter_map(|l| {
                    let (n, id) = l.split_once(' ')?;
                    Some((n.parse().ok()?, id.trim().to_string()))
                })
                .collect(),
        ))
    }

    /// The number of messages and their total size (STAT).
    pub async fn stat(&mut self) -> Result<(u32, u64), Error> {
        let reply = self.command("STAT", "STAT").await?;
        let mut words = reply.split_whitespace();
        let count = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
        let size = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
        Ok((count, size))
    }

    /// Message numbers and sizes (LIST).
    pub async fn list(&mut self) -> Result<Vec<(u32, u64)>, Error> {
        self.send("LIST", "LIST").await?;
        self.read_list().await
    }

    async fn read_list(&mut self) -> Result<Vec<(u32, u64)>, Error> {
        self.status("LIST").await?;
        let lines = self.lines("LIST").await?;
        Ok(lines
            .iter()
            .filter_map(|l| {
                let (n, size) = l.split_once(' ')?;
                Some((n.parse().ok()?, size.trim().parse().ok()?))
            })
            .collect())
    }

    /// Sends `RETR n` without waiting for the reply (pipelining).
    pub async fn send_retr(&mut self, n: u32) -> Result<(), Error> {
        self.send(&format!("RETR {n}"), "RETR").await
    }

    /// Reads the reply to a RETR sent earlier into `out`: the message as the server
    /// stores it, dot-stuffing undone.
    /// A stalled server is caught by the connection's idle timeout, however long a large
    /// message takes to arrive.
    pub async fn read_retr(&mut self, out: &mut Vec<u8>) -> Result<(), Error> {
        self.status("RETR").await?;
        let r = response::body(&mut self.conn, out).await;
        r.map_err(|e| self.read_error("RETR", e))
    }

    /// The header section of message `n` (TOP n 0).
    pub async fn top(&mut self, n: u32) -> Result<Vec<u8>, Error> {
        self.send(&format!("TOP {n} 0"), "TOP").await?;
        self.read_top().await
    }

    /// The header sections of messages `ns`, in order: with PIPELINING, the TOP
    /// commands leave together (at most [`TOPS_AT_ONCE`] in one write), else one at a
    /// time.
    pub async fn tops(&mut self, ns: &[u32]) -> Result<Vec<Vec<u8>>, Error> {
        let mut out = Vec::with_capacity(ns.len());
        if !self.caps.pipelining {
            for &n in ns {
                out.push(self.top(n).await?);
            }
            return Ok(out);
        }
        for chunk in ns.chunks(TOPS_AT_ONCE) {
            self.send_each("TOP", chunk, " 0").await?;
            for _ in chunk {
                out.push(self.read_top().await?);
            }
        }
        Ok(out)
    }

    async fn read_top(&mut self) -> Result<Vec<u8>, Error> {
        self.status("TOP").await?;
        let (addr, t) = (self.addr.clone(), self.timeout);
        let mut out = Vec::new();
        let read = bounded(&addr, t, "TOP", response::body(&mut self.conn, &mut out)).await?;
        read.map_err(|e| self.read_error("TOP", e))?;
        Ok(out)
    }

    /// `VERB n` for each of `ns` (with `tail` after the number), in one write.
    async fn send_each(&mut self, verb: &str, ns: &[u32], tail: &str) -> Result<(), Error> {
        let commands: Vec<String> = ns.iter().map(|n| format!("{verb} {n}{tail}")).collect();
        self.send(&commands.join("\r\n"), verb).await
    }

    /// Ends the session. Deletions take effect only when this succeeds.
    pub async fn quit(mut self) -> Result<(), Error> {
        self.command("QUIT", "QUIT").await.map(|_| ())
    }

    /// Ends a session that marked nothing for deletion: QUIT, not waited for, since its
    /// reply changes nothing.
    pub async fn leave(mut self) {
        let _ = self.send("QUIT", "QUIT").await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities() {
        let lines: Vec<String> = [
            "TOP",
            "UIDL",
            "PIPELINING",
            "SASL PLAIN LOGIN",
            "STLS",
            "USER",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let c = Capabilities::parse(&lines);
        assert!(c.top && c.uidl && c.pipelining && c.sasl_plain && c.stls);
        assert!(!Capabilities::parse(&["SASL LOGIN".to_string()]).sasl_plain);
    }
}
