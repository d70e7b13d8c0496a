//! The SMTP dialogue, one bounded step at a time.

use std::future::Future;
use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Severity;

use super::error::{Error, Step, connect_error, step_error, timed_out, tls_text};
use super::stream::{Heard, Stream, tls_parameters};
use crate::config::{Security, Server, Token};
use crate::message::Outgoing;
use crate::{net, oauth, sasl};

/// An open, authenticated SMTP session.
pub struct Session {
    conn: AsyncSmtpConnection,
    addr: String,
    timeout: Duration,
    /// Implicit TLS or STARTTLS succeeded (lettre cannot tell for a stream it was given).
    encrypted: bool,
}

impl Session {
    /// Connects, secures and authenticates. The password is read only if the server
    /// offers AUTH and the connection is protected (or insecure auth is allowed).
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
        let (stream, heard) = connect(server, opened).await?;
        let hello = ClientId::default();
        let connecting = AsyncSmtpConnection::connect_with_transport(stream, &hello);
        let mut conn = match tokio::time::timeout(server.timeout, connecting).await {
            Ok(Err(e)) if !timed_out(&e) => return Err(connect_error(&addr, e)),
            // A port that expects implicit TLS stays silent until the client's hello.
            Err(_) | Ok(Err(_)) => {
                let hint = match server.security {
                    Security::Tls => "",
                    _ => " (if the port expects implicit TLS, set security = \"tls\")",
                };
                return Err(timeout(&addr, Step::Greeting, server.timeout, hint));
            }
            Ok(Ok(c)) => c,
        };
        let heard = heard.map(|h| h.take()).unwrap_or_default();
        net::progress::reached("greeting", || match ehlo_keywords(&heard) {
            Some((name, keywords)) => format!("{name} offers {}", keywords.join(", ")),
            None => offered(conn.server_info()),
        });
        if server.security == Security::Starttls {
            starttls(&mut conn, server, &hello).await?;
            net::progress::reached("starttls", || {
                let certificate = match conn.peer_certificate() {
                    Ok(der) => crate::tls::describe_certificate(&der, &server.host),
                    Err(_) => format!("verified for {}", server.host),
                };
                format!("{certificate}; then {}", offered(conn.server_info()))
            });
        }
        let mut session = Session {
            conn,
            addr,
            timeout: server.timeout,
            encrypted: server.security != Security::None,
        };
        match session.authenticate(server, token).await {
            Ok(how) => {
                tracing::info!("{}: {how}", session.addr);
                net::progress::reached("auth", || how);
            }
            Err(e) => {
                // A refused login still ends the session properly: QUIT, then the TLS close.
                session.quit().await;
                return Err(e);
            }
        }
        Ok(session)
    }

    /// Logs in when the account and the server allow it; says how it went.
    async fn authenticate(
        &mut self,
        server: &Server,
        token: Option<&Token>,
    ) -> Result<String, Error> {
        let user = &server.user;
        if let Some((mechanism, token)) = sasl::Mechanism::of(server.auth).zip(token) {
            self.bearer(server, mechanism, token).await?;
            return Ok(format!("logged in as {user} with {}", mechanism.name()));
        }
        let info = self.conn.server_info();
        let offers_auth = [Mechanism::Plain, Mechanism::Login]
            .iter()
            .any(|m| info.supports_auth_mechanism(*m));
        let any_auth = offers_auth || info.supports_auth_mechanism(Mechanism::Xoauth2);
        if !any_auth {
            tracing::info!(
                "{} offers no AUTH; submitting without logging in",
                self.addr
            );
            return Ok("no login: the server offers no AUTH".into());
        }
        if !self.encrypted && !server.allow_insecure_auth {
            tracing::warn!(
                "{}: not sending a password over an unencrypted connection (set allow_insecure_auth = true to allow it)",
                self.addr
            );
            return Ok("no login: not over an unencrypted connection".into());
        }
        let Some(password) = server.password().await? else {
            tracing::info!(
                "{}: no password configured; submitting without logging in",
                self.addr
            );
            return Ok("no login: no password configured".into());
        };
        if !offers_auth {
            let addr = self.addr.clone();
            return Err(Error::NoMechanism { addr });
        }
        let credentials = Credentials::new(server.user.clone(), password.expose().to_string());
        let mechanisms = [Mechanism::Plain, Mechanism::Login];
        let auth = self.conn.auth(&mechanisms, &credentials);
        match bounded(&self.addr, self.timeout, Step::Auth, auth).await {
            Ok(_) => Ok(format!("logged in as {user}")),
            Err(Error::Rejected { code, text, .. })
                if code.severity == Severity::PermanentNegativeCompletion =>
            {
                Err(Error::AuthRefused(net::LoginRefused {
                    addr: self.addr.clone(),
                    user: server.user.clone(),
                    reply: format!("{code} {text}"),
                }))
            }
            Err(e) => Err(e),
        }
    }

    /// Logs in with a bearer token (XOAUTH2 or OAUTHBEARER). lettre has no OAUTHBEARER
    /// and does not answer the error challenge, so the dialogue is written out here: a
    /// refused token gets a 334 with a JSON reason, the client answers it, and the
    /// server sends its final refusal.
    async fn bearer(
        &mut self,
        server: &Server,
        mechanism: sasl::Mechanism,
        token: &Token,
    ) -> Result<(), Error> {
        if !self.encrypted && !server.allow_insecure_auth {
            let addr = self.addr.clone();
            return Err(Error::InsecureToken { addr });
        }
        let first = mechanism.first_message(server, token);
        let line = Line(format!(
            "AUTH {} {}",
            mechanism.name(),
            sasl::encode(&first)
        ));
        let (addr, t) = (self.addr.clone(), self.timeout);
        let reply = bounded(&addr, t, Step::Auth, self.conn.command(line)).await;
        let refusal = match reply {
            Ok(r) if r.has_code(334) => {
                let reason = sasl::refusal_reason(r.message().next().unwrap_or(""));
                let answer = Line(sasl::encode(mechanism.failure_answer()));
                let last = bounded(&addr, t, Step::Auth, self.conn.command(answer)).await;
                let reply = match last {
                    Err(Error::Rejected { code, text, .. }) => format!("{code} {text}"),
                    Err(e) => return Err(e),
                    Ok(r) => format!("{} {}", r.code(), r.message().collect::<Vec<_>>().join(" ")),
                };
                match reason.is_empty() {
                    true => reply,
                    false => format!("{reply} ({reason})"),
                }
            }
            Ok(_) => return Ok(()),
            Err(Error::Rejected { code, text, .. })
                if code.severity == Severity::PermanentNegativeCompletion =>
            {
                format!("{code} {text}")
            }
            Err(e) => return Err(e),
        };
        Err(Error::AuthRefused(net::LoginRefused {
            addr,
            user: server.user.clone(),
            reply: refusal,
        }))
    }

    /// Submits one message. A refused recipient aborts the whole transaction (RSET), so a
    /// message is never delivered to only some of its recipients.
    pub async fn send(&mut self, message: &Outgoing) -> Result<(), Error> {
        let params = self.mail_parameters(message)?;
        let result = self.transaction(message, params).await;
        if let Err(Error::Rejected { .. }) = &result {
            let rset = self.conn.command(Rset);
            let _ = bounded(&self.addr, self.timeout, Step::Rset, rset).await;
        }
        result
    }

    /// Whether the server takes `sender` in MAIL FROM, then RSET: a transaction that
    /// sends nothing, for `mailer check`.
    pub async fn try_sender(&mut self, sender: &lettre::Address) -> Result<(), Error> {
        let (addr, timeout) = (self.addr.clone(), self.timeout);
        let mail = Mail::new(Some(sender.clone()), vec![]);
        let accepted = bounded(&addr, timeout, Step::MailFrom, self.conn.command(mail)).await;
        let rset = self.conn.command(Rset);
        let _ = bounded(&addr, timeout, Step::Rset, rset).await;
        accepted.map(|_| ())
    }

    /// The MAIL FROM parameters the message needs, or why the server cannot take it.
    fn mail_parameters(&self, message: &Outgoing) -> Result<Vec<MailParameter>, Error> {
        let info = self.conn.server_info();
        let lacks = |what| Error::Lacks {
            addr: self.addr.clone(),
            what,
        };
        let mut params = Vec::new();
        let non_ascii_address = message
            .recipients
            .iter()
            .chain([&message.sender])
            .any(|a| !AsRef::<str>::as_ref(a).is_ascii());
        if non_ascii_address {
            if !info.supports_feature(Extension::SmtpUtfEight) {
                return Err(lacks(
                    "an address is not ASCII and the server does not offer SMTPUTF8",
                ));
            }
            params.push(MailParameter::SmtpUtfEight);
        }
        if !message.bytes.is_ascii() {
            if !info.supports_feature(Extension::EightBitMime) {
                return Err(lacks(
                    "the message has 8-bit content and the server does not offer 8BITMIME",
                ));
            }
            params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        Ok(params)
    }

    async fn transaction(
        &mut self,
        message: &Outgoing,
        params: Vec<MailParameter>,
    ) -> Result<(), Error> {
        let (addr, timeout) = (self.addr.clone(), self.timeout);
        let mail = Mail::new(Some(message.sender.clone()), params);
        bounded(&addr, timeout, Step::MailFrom, self.conn.command(mail)).await?;
        for rcpt in &message.recipients {
            let step = Step::RcptTo(rcpt.clone());
            let command = self.conn.command(Rcpt::new(rcpt.clone(), vec![]));
            bounded(&addr, timeout, step, command).await?;
        }
        bounded(&addr, timeout, Step::Data, self.conn.command(Data)).await?;
        // Large messages take longer than one reply: allow for a slow 16 KiB/s link.
        let budget = timeout + Duration::from_secs(message.bytes.len() as u64 / 16_384);
        // lettre ends DATA with CRLF "." CRLF itself; a message's own final CRLF would
        // otherwise become an extra blank line at the recipient.
        let bytes = message
            .bytes
            .strip_suffix(b"\r\n")
            .unwrap_or(&message.bytes);
        bounded(&addr, budget, Step::Data, self.conn.message(bytes)).await?;
        Ok(())
    }

    /// Ends the session politely (QUIT, then closing the connection, TLS's close_notify
    /// included); errors here cannot lose anything, so they are ignored.
    pub async fn quit(mut self) {
        let _ = tokio::time::timeout(self.timeout, self.conn.abort()).await;
    }
}

/// Our own connection (TCP_NODELAY, an idle timeout on reads, TLS through `net`) for
/// lettre: without NODELAY, the final "." of each message waits on a delayed ACK, 40 ms
/// per message when flushing a queue.
async fn connect(
    server: &Server,
    opened: Option<net::Opened>,
) -> Result<(Box<dyn AsyncTokioStream>, Option<Heard>), Error> {
    let addr = server.address();
    let opened = match opened {
        Some(o) => o,
        None => net::Opened::Plain(net::connect(server).await?),
    };
    // Each SMTP step has its own bound, DATA's growing with the message size. The idle
    // bound must not fire first: while a large message drains from the kernel's buffer
    // over a slow link, the server is silent, and a false timeout would queue a message
    // the server is about to accept, sending it twice.
    let no_idle = Duration::from_secs(24 * 3600);
    let peer = |tcp: &net::Idle<tokio::net::TcpStream>| {
        tcp.get_ref().peer_addr().map_err(|e| net::Error::Connect {
            addr: addr.clone(),
            reason: e.to_string(),
            temporary: true,
        })
    };
    let stream = match opened {
        // Made by `mailer check`, whose steps have their own bounds.
        net::Opened::Secured(conn, peer) => Stream::secured(conn, peer),
        net::Opened::Tls(mut tls) => {
            tls.get_mut().set_timeout(no_idle);
            let peer = peer(tls.get_ref())?;
            Stream::tls(tls, peer)
        }
        net::Opened::Plain(mut tcp) if server.security == Security::Tls => {
            tcp.set_timeout(no_idle);
            let peer = peer(&tcp)?;
            let handshake = net::tls_wrap(server, tcp);
            let tls = match tokio::time::timeout(server.timeout, handshake).await {
                Err(_) => return Err(timeout(&addr, Step::Tls, server.timeout, "")),
                Ok(r) => r?,
            };
            Stream::tls(tls, peer)
        }
        net::Opened::Plain(mut tcp) => {
            tcp.set_timeout(no_idle);
            let peer = peer(&tcp)?;
            Stream::plain(tcp, peer)
        }
    };
    let heard = stream.heard();
    Ok((Box::new(stream), heard))
}

async fn starttls(
    conn: &mut AsyncSmtpConnection,
    server: &Server,
    hello: &ClientId,
) -> Result<(), Error> {
    let addr = server.address();
    if !conn.can_starttls() {
        conn.abort().await;
        return Err(Error::NoStartTls { addr });
    }
    let params = tls_parameters(server)?;
    match tokio::time::timeout(server.timeout, conn.starttls(params, hello)).await {
        Err(_) => Err(timeout(&addr, Step::Starttls, server.timeout, "")),
        Ok(Err(e)) => match tls_text(&e) {
            Some(text) => Err(net::tls_error(addr, &text).into()),
            None => Err(step_error(&addr, Step::Starttls, e)),
        },
        Ok(Ok(())) => Ok(()),
    }
}

/// The server's name and every EHLO keyword (SIZE, PIPELINING, CHUNKING, AUTH ... as
/// it writes them), from what it said before lettre took over: the first 250 reply
/// after the 220 greeting. None when no whole EHLO reply was heard (a HELO server).
pub(super) fn ehlo_keywords(heard: &[u8]) -> Option<(String, Vec<String>)> {
    let text = String::from_utf8_lossy(heard);
    let mut lines = text
        .split("\r\n")
        .skip_while(|l| !l.starts_with("220 "))
        .skip(1);
    let first = lines.next()?;
    let name = first.strip_prefix("250-").or(first.strip_prefix("250 "))?;
    let name = shown(name.split_whitespace().next().unwrap_or(""));
    let mut keywords = Vec::new();
    let mut last = first.starts_with("250 ");
    for line in lines.take(64) {
        if last {
            break;
        }
        let keyword = line.strip_prefix("250-").or(line.strip_prefix("250 "))?;
        last = line.starts_with("250 ");
        keywords.push(shown(keyword.trim()));
    }
    last.then_some((name, keywords))
}

/// A server's word with its control characters as spaces: it goes to a terminal.
fn shown(word: &str) -> String {
    word.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// What lettre understood of an EHLO reply: the server's name and the extensions it
/// uses.
fn offered(info: &lettre::transport::smtp::extension::ServerInfo) -> String {
    let mut seen: Vec<String> = [
        Extension::EightBitMime,
        Extension::SmtpUtfEight,
        Extension::StartTls,
    ]
    .into_iter()
    .filter(|e| info.supports_feature(*e))
    .map(|e| e.to_string())
    .collect();
    let mechanisms: Vec<String> = [Mechanism::Plain, Mechanism::Login, Mechanism::Xoauth2]
        .into_iter()
        .filter(|m| info.supports_auth_mechanism(*m))
        .map(|m| m.to_string())
        .collect();
    if !mechanisms.is_empty() {
        seen.push(format!("AUTH {}", mechanisms.join(" ")));
    }
    format!("{} offers {}", info.name(), seen.join(", "))
}

/// A command line of our own, for what lettre has no command type for.
struct Line(String);

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\r\n", self.0)
    }
}

fn timeout(addr: &str, step: Step, bound: Duration, hint: &'static str) -> Error {
    Error::Timeout {
        addr: addr.to_string(),
        step,
        secs: bound.as_secs(),
        hint,
    }
}

/// Awaits one step of the dialogue, bounded by `bound`.
async fn bounded<T>(
    addr: &str,
    bound: Duration,
    step: Step,
    fut: impl Future<Output = Result<T, lettre::transport::smtp::Error>>,
) -> Result<T, Error> {
    match tokio::time::timeout(bound, fut).await {
        Err(_) => Err(timeout(addr, step, bound, "")),
        Ok(Err(e)) => Err(step_error(addr, step, e)),
        Ok(Ok(v)) => Ok(v),
    }
}
