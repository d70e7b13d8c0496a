//! The SMTP dialogue, one bounded step at a time, in as few round trips as the server
//! allows: with PIPELINING, MAIL FROM, every RCPT TO and (for one recipient) the data
//! leave in one write; with CHUNKING the data go as one `BDAT n LAST`; QUIT is not
//! waited for.

use std::future::Future;
use std::time::Duration;

use super::error::{Code, Error, Step, greeting_error, io_error};
use super::stream::Stream;
use super::wire::{Offers, Reply, Wire, dot_stuffed};
use crate::config::{Password, Security, Server, Token};
use crate::message::Outgoing;
use crate::{net, oauth, sasl};

mod batch;
mod deferred;

/// How the session stands with the login.
enum Login {
    /// Logged in, or no login is wanted.
    Done,
    /// `AUTH PLAIN` with its credentials, for the first transaction's write
    /// (`deferred.rs`).
    Deferred { command: Password, user: String },
    /// The server refused it: every later transaction is refused the same way, unsent.
    Refused(net::LoginRefused),
    /// The server answered it otherwise (a 4xx): later transactions get that answer.
    Failed { code: Code, text: String },
}

/// An open SMTP session, logged in or with its login kept for the first transaction.
pub struct Session {
    wire: Wire,
    addr: String,
    timeout: Duration,
    /// Implicit TLS or STARTTLS succeeded.
    encrypted: bool,
    /// What the last EHLO offered.
    offers: Offers,
    /// The connection can no longer be trusted to be in step with the server.
    broken: bool,
    /// Logged in, or the login still to go with the first transaction.
    login: Login,
}

impl Session {
    /// Connects, secures and authenticates. The password is read only if the server
    /// offers AUTH and the connection is protected (or insecure auth is allowed).
    pub async fn open(server: &Server) -> Result<Session, Error> {
        Self::open_over(server, None).await
    }

    /// [`Session::open`] over a connection made beforehand (`mailer check`), if any.
    pub async fn open_over(server: &Server, opened: Option<net::Opened>) -> Result<Session, Error> {
        Self::open_how(server, opened, false).await
    }

    /// [`Session::open`] for a session that submits at once (`send`, `sendmail`,
    /// `digest`: what goes through `commands::deliver`): where the server
    /// offers PIPELINING and AUTH PLAIN, the login leaves with the first transaction
    /// instead of on its own, one round trip fewer (RFC 4954 section 4 lets AUTH with
    /// the whole of a one-step mechanism lead a pipelined group). A refused login is
    /// then told by that transaction's [`Session::send`].
    pub async fn open_submitting(server: &Server) -> Result<Session, Error> {
        Self::open_how(server, None, true).await
    }

    async fn open_how(
        server: &Server,
        opened: Option<net::Opened>,
        defer: bool,
    ) -> Result<Session, Error> {
        let refused = |e: &Error| matches!(e, Error::AuthRefused(_));
        oauth::with_token(server, opened, refused, async |token, opened| {
            Self::open_with(server, token, opened, defer).await
        })
        .await
    }

    /// One connection and its login (or the login kept, where `defer` allows it), with
    /// `token` when the server takes a bearer token.
    async fn open_with(
        server: &Server,
        token: Option<&Token>,
        opened: Option<net::Opened>,
        defer: bool,
    ) -> Result<Session, Error> {
        let mut session = Session {
            wire: Wire::new(connect(server, opened).await?),
            addr: server.address(),
            timeout: server.timeout,
            encrypted: server.security != Security::None,
            offers: Offers::default(),
            broken: false,
            login: Login::Done,
        };
        session.greeting(server).await?;
        session.ehlo().await?;
        net::progress::reached("greeting", || session.offered());
        if server.security == Security::Starttls {
            session.starttls(server).await?;
            net::progress::reached("starttls", || {
                let certificate = session.wire.stream().certificate_shown(&server.host);
                format!("{certificate}; then {}", session.offered())
            });
        }
        match session.authenticate(server, token, defer).await {
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

    /// The server's 220. A port that expects implicit TLS stays silent until the
    /// client's hello, so a silent plain connection hints at it.
    async fn greeting(&mut self, server: &Server) -> Result<(), Error> {
        let reply = match tokio::time::timeout(self.timeout, self.wire.reply()).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(e)) => return Err(greeting_error(&self.addr, e)),
            Err(_) => {
                let hint = match server.security {
                    Security::Tls => "",
                    _ => " (if the port expects implicit TLS, set security = \"tls\")",
                };
                return Err(timeout(&self.addr, Step::Greeting, self.timeout, hint));
            }
        };
        self.expect(Step::Greeting, &reply, 220)
    }

    /// EHLO, and what the server offers.
    async fn ehlo(&mut self) -> Result<(), Error> {
        let hello = format!("EHLO {}\r\n", client_name());
        let reply = self.exchange(Step::Ehlo, hello.as_bytes()).await?;
        self.expect(Step::Ehlo, &reply, 250)?;
        self.offers = Offers::of(&reply);
        Ok(())
    }

    /// RFC 3207: STARTTLS, the handshake (verified), and EHLO again over TLS.
    async fn starttls(&mut self, server: &Server) -> Result<(), Error> {
        if !self.offers.has("STARTTLS") {
            self.quit_now().await;
            return Err(Error::NoStartTls {
                addr: self.addr.clone(),
            });
        }
        let reply = self.exchange(Step::Starttls, b"STARTTLS\r\n").await?;
        self.expect(Step::Starttls, &reply, 220)?;
        if self.wire.has_unread() {
            let injected = std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the server sent more after its STARTTLS reply, before TLS",
            );
            return Err(io_error(&self.addr, Step::Starttls, injected));
        }
        let handshake = self.wire.stream_mut().starttls(server);
        match tokio::time::timeout(self.timeout, handshake).await {
            Err(_) => return Err(timeout(&self.addr, Step::Starttls, self.timeout, "")),
            Ok(r) => r?,
        }
        self.ehlo().await
    }

    /// The server's name and every EHLO keyword as it wrote it.
    fn offered(&self) -> String {
        format!(
            "{} offers {}",
            self.offers.name,
            self.offers.keywords.join(", ")
        )
    }

    /// Logs in when the account and the server allow it; says how it went.
    async fn authenticate(
        &mut self,
        server: &Server,
        token: Option<&Token>,
        defer: bool,
    ) -> Result<String, Error> {
        let user = &server.user;
        if let Some((mechanism, token)) = sasl::Mechanism::of(server.auth).zip(token) {
            self.bearer(server, mechanism, token).await?;
            return Ok(format!("logged in as {user} with {}", mechanism.name()));
        }
        let offers_auth = ["PLAIN", "LOGIN"].iter().any(|m| self.offers.auth(m));
        let any_auth = offers_auth || self.offers.has("AUTH");
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
        if defer && self.offers.auth("PLAIN") && self.offers.has("PIPELINING") {
            let command = plain_command(user, password.expose());
            self.login = Login::Deferred {
                command,
                user: user.clone(),
            };
            return Ok(format!("logging in as {user} with the first message"));
        }
        let reply = match self.offers.auth("PLAIN") {
            true => self.plain(user, password.expose()).await?,
            false => self.login(user, password.expose()).await?,
        };
        self.login_outcome(user, &reply)?;
        Ok(format!("logged in as {user}"))
    }

    /// What the server's last reply to AUTH says of the login.
    fn login_outcome(&self, user: &str, reply: &Reply) -> Result<(), Error> {
        match reply.code {
            235 => Ok(()),
            code if Code(code).is_permanent() => Err(Error::AuthRefused(net::LoginRefused {
                addr: self.addr.clone(),
                user: user.to_string(),
                reply: format!("{code} {}", reply.text()),
            })),
            _ => Err(self.rejected(Step::Auth, reply)),
        }
    }

    /// RFC 4616, the credentials with the command; a server that wants them after an
    /// empty challenge (334) gets them then.
    async fn plain(&mut self, user: &str, password: &str) -> Result<Reply, Error> {
        self.plain_with(&plain_command(user, password)).await
    }

    /// [`Session::plain`] with its command made already ([`plain_command`]).
    async fn plain_with(&mut self, command: &Password) -> Result<Reply, Error> {
        let reply = self
            .exchange(Step::Auth, command.expose().as_bytes())
            .await?;
        if reply.code != 334 {
            return Ok(reply);
        }
        let credentials = command.expose().trim_start_matches("AUTH PLAIN ");
        self.exchange(Step::Auth, credentials.as_bytes()).await
    }

    /// The LOGIN mechanism: the user name and the password, each after its 334.
    async fn login(&mut self, user: &str, password: &str) -> Result<Reply, Error> {
        let mut reply = self.exchange(Step::Auth, b"AUTH LOGIN\r\n").await?;
        for answer in [user, password] {
            if reply.code != 334 {
                return Ok(reply);
            }
            let line = format!("{}\r\n", sasl::encode(answer));
            reply = self.exchange(Step::Auth, line.as_bytes()).await?;
        }
        Ok(reply)
    }

    /// Logs in with a bearer token (XOAUTH2 or OAUTHBEARER). A refused token gets a 334
    /// with a JSON reason, the client answers it, and the server sends its final
    /// refusal.
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
        let line = format!("AUTH {} {}\r\n", mechanism.name(), sasl::encode(&first));
        let reply = self.exchange(Step::Auth, line.as_bytes()).await?;
        let refusal = match reply.code {
            235 => return Ok(()),
            334 => {
                let reason = sasl::refusal_reason(reply.lines.first().map_or("", |l| l.as_str()));
                let answer = format!("{}\r\n", sasl::encode(mechanism.failure_answer()));
                let last = self.exchange(Step::Auth, answer.as_bytes()).await?;
                let reply = format!("{} {}", last.code, last.text());
                match reason.is_empty() {
                    true => reply,
                    false => format!("{reply} ({reason})"),
                }
            }
            code if Code(code).is_permanent() => format!("{code} {}", reply.text()),
            _ => return Err(self.rejected(Step::Auth, &reply)),
        };
        Err(Error::AuthRefused(net::LoginRefused {
            addr: self.addr.clone(),
            user: server.user.clone(),
            reply: refusal,
        }))
    }

    /// Submits one message. A refused recipient aborts the whole transaction (RSET), so a
    /// message is never delivered to only some of its recipients.
    pub async fn send(&mut self, message: &Outgoing) -> Result<(), Error> {
        if let Some(failed) = self.failed_login() {
            return Err(failed);
        }
        if self.broken {
            return Err(self.out_of_step(Step::MailFrom));
        }
        let params = self.mail_parameters(message)?;
        let result = self.transaction(message, &params).await;
        if let Err(Error::Rejected { .. }) = &result
            && !self.broken
        {
            let _ = self.exchange(Step::Rset, b"RSET\r\n").await;
        }
        result
    }

    /// Whether the server takes `sender` in MAIL FROM, then RSET: a transaction that
    /// sends nothing, for `mailer check`. Both in one write where pipelining is offered.
    pub async fn try_sender(&mut self, sender: &lettre::Address) -> Result<(), Error> {
        self.log_in_now().await?;
        let mail = format!("MAIL FROM:<{sender}>\r\n");
        let accepted = match self.offers.has("PIPELINING") {
            true => {
                let both = format!("{mail}RSET\r\n");
                self.send_bytes(Step::MailFrom, both.as_bytes(), self.timeout)
                    .await?;
                let accepted = self.read(Step::MailFrom).await?;
                self.read(Step::Rset).await?;
                accepted
            }
            false => {
                let accepted = self.exchange(Step::MailFrom, mail.as_bytes()).await?;
                self.exchange(Step::Rset, b"RSET\r\n").await?;
                accepted
            }
        };
        self.expect(Step::MailFrom, &accepted, 250)
    }

    /// The MAIL FROM parameters the message needs, or why the server cannot take it.
    fn mail_parameters(&self, message: &Outgoing) -> Result<String, Error> {
        let lacks = |what| Error::Lacks {
            addr: self.addr.clone(),
            what,
        };
        let mut params = String::new();
        if !message.bytes.is_ascii() {
            if !self.offers.has("8BITMIME") {
                return Err(lacks(
                    "the message has 8-bit content and the server does not offer 8BITMIME",
                ));
            }
            params.push_str(" BODY=8BITMIME");
        }
        let non_ascii_address = message
            .recipients
            .iter()
            .chain([&message.sender])
            .any(|a| !AsRef::<str>::as_ref(a).is_ascii());
        if non_ascii_address {
            if !self.offers.has("SMTPUTF8") {
                return Err(lacks(
                    "an address is not ASCII and the server does not offer SMTPUTF8",
                ));
            }
            params.push_str(" SMTPUTF8");
        }
        Ok(params)
    }

    /// One transaction. With PIPELINING, MAIL FROM and every RCPT TO leave in one
    /// write, and so does the data when there is one recipient (a refused recipient
    /// then leaves the server none, and the data is refused too); with more, the data
    /// waits until every recipient is accepted, so none gets a message another was
    /// refused. A login kept for it ([`Session::open_submitting`]) leads the write.
    async fn transaction(&mut self, message: &Outgoing, params: &str) -> Result<(), Error> {
        let mut commands = vec![(
            format!("MAIL FROM:<{}>{params}\r\n", message.sender),
            Step::MailFrom,
        )];
        for rcpt in &message.recipients {
            commands.push((format!("RCPT TO:<{rcpt}>\r\n"), Step::RcptTo(rcpt.clone())));
        }
        if !self.offers.has("PIPELINING") {
            self.log_in_now().await?;
            for (line, step) in commands {
                let reply = self.exchange(step.clone(), line.as_bytes()).await?;
                self.expect(step, &reply, 250)?;
            }
            return self.data(message).await;
        }
        let login = self.take_deferred();
        let lead = login
            .as_ref()
            .map_or(&b""[..], |(c, _)| c.expose().as_bytes());
        let envelope: String = commands.iter().map(|(line, _)| line.as_str()).collect();
        let with_data = message.recipients.len() == 1;
        let budget = self.data_budget(message);
        let sent = match with_data {
            true => {
                let (start, body) = self.data_start(message);
                let parts = [lead, envelope.as_bytes(), start.as_bytes(), body];
                self.send_parts(Step::MailFrom, &parts, budget).await
            }
            false => {
                let parts = [lead, envelope.as_bytes()];
                self.send_parts(Step::MailFrom, &parts, self.timeout).await
            }
        };
        let pipelined = Pipelined {
            message,
            commands,
            with_data,
            budget,
        };
        match login {
            Some((_, user)) => self.after_login(&user, sent, pipelined).await,
            None => {
                sent?;
                self.envelope_replies(pipelined).await
            }
        }
    }

    /// The replies to a pipelined envelope, then the data phase's.
    async fn envelope_replies(&mut self, pipelined: Pipelined<'_>) -> Result<(), Error> {
        let Pipelined {
            message,
            commands,
            with_data,
            budget,
        } = pipelined;
        let mut first_refusal = None;
        for (_, step) in commands {
            let reply = self.read(step.clone()).await?;
            if reply.code != 250 && first_refusal.is_none() {
                first_refusal = Some(self.rejected(step, &reply));
            }
        }
        match (with_data, first_refusal) {
            (true, refused) => self.data_end(message, refused, budget).await,
            (false, Some(refused)) => Err(refused),
            (false, None) => self.data(message).await,
        }
    }

    /// The data phase after its envelope was accepted: BDAT where CHUNKING is offered,
    /// else DATA, its 354, and the dot-stuffed message.
    async fn data(&mut self, message: &Outgoing) -> Result<(), Error> {
        let (start, body) = self.data_start(message);
        let budget = self.data_budget(message);
        self.send_parts(Step::Data, &[start.as_bytes(), body], budget)
            .await?;
        self.data_end(message, None, budget).await
    }

    /// What starts the data phase: `BDAT n LAST` and the message itself, or `DATA`
    /// alone (the message follows its 354).
    fn data_start<'m>(&self, message: &'m Outgoing) -> (String, &'m [u8]) {
        match self.offers.has("CHUNKING") {
            true => (
                format!("BDAT {} LAST\r\n", message.bytes.len()),
                &message.bytes,
            ),
            false => ("DATA\r\n".to_string(), &[]),
        }
    }

    /// The time the data may take: a large message over a slow 16 KiB/s link.
    fn data_budget(&self, message: &Outgoing) -> Duration {
        self.timeout + Duration::from_secs(message.bytes.len() as u64 / 16_384)
    }

    /// Reads the data phase's replies: BDAT's one, or DATA's 354, then the message and
    /// its final reply. An envelope refused in the same write (`refused`) fails the
    /// transaction; a 354 after it cannot be taken back, so the connection is dropped
    /// before a byte of the message goes out.
    async fn data_end(
        &mut self,
        message: &Outgoing,
        refused: Option<Error>,
        budget: Duration,
    ) -> Result<(), Error> {
        let reply = self.read(Step::Data).await?;
        if self.offers.has("CHUNKING") {
            return match refused {
                Some(e) => Err(e),
                None => self.expect(Step::Data, &reply, 250),
            };
        }
        match (reply.code, refused) {
            (354, Some(e)) => {
                self.broken = true;
                self.wire.shutdown().await;
                Err(e)
            }
            (_, Some(e)) => Err(e),
            (354, None) => {
                self.send_bytes(Step::Data, &dot_stuffed(&message.bytes), budget)
                    .await?;
                let last = self.read_within(Step::Data, budget).await?;
                self.expect(Step::Data, &last, 250)
            }
            (_, None) => Err(self.rejected(Step::Data, &reply)),
        }
    }

    /// Ends the session: QUIT, not waited for (its reply changes nothing), then the
    /// connection closed, TLS's close_notify included. Errors here cannot lose anything.
    pub async fn quit(mut self) {
        self.quit_now().await;
    }

    /// QUIT and TLS's close leave together (corked), so the server's reply to QUIT
    /// cannot come in between and nothing waits for it.
    async fn quit_now(&mut self) {
        self.wire.stream_mut().cork(true);
        if !self.broken {
            let quit = self.wire.send(b"QUIT\r\n");
            let _ = tokio::time::timeout(self.timeout, quit).await;
        }
        let _ = tokio::time::timeout(self.timeout, self.wire.shutdown()).await;
        self.wire.stream_mut().cork(false);
        self.broken = true;
    }

    /// Sends one command and reads its reply, within the step's bound.
    async fn exchange(&mut self, step: Step, command: &[u8]) -> Result<Reply, Error> {
        self.send_bytes(step.clone(), command, self.timeout).await?;
        self.read(step).await
    }

    /// Writes pipelined or single commands, within `bound`.
    async fn send_bytes(&mut self, step: Step, bytes: &[u8], bound: Duration) -> Result<(), Error> {
        self.send_parts(step, &[bytes], bound).await
    }

    /// Writes `parts` in one go, within `bound`.
    async fn send_parts(
        &mut self,
        step: Step,
        parts: &[&[u8]],
        bound: Duration,
    ) -> Result<(), Error> {
        let addr = self.addr.clone();
        let sent = bounded(&addr, bound, step, self.wire.send_parts(parts)).await;
        self.broken |= sent.is_err();
        sent
    }

    /// Reads the next reply, which belongs to `step`.
    async fn read(&mut self, step: Step) -> Result<Reply, Error> {
        self.read_within(step, self.timeout).await
    }

    async fn read_within(&mut self, step: Step, bound: Duration) -> Result<Reply, Error> {
        let addr = self.addr.clone();
        let reply = bounded(&addr, bound, step, self.wire.reply()).await;
        self.broken |= reply.is_err();
        reply
    }

    /// The reply as expected, else the step's refusal.
    fn expect(&self, step: Step, reply: &Reply, code: u16) -> Result<(), Error> {
        match reply.code == code {
            true => Ok(()),
            false => Err(self.rejected(step, reply)),
        }
    }

    fn rejected(&self, step: Step, reply: &Reply) -> Error {
        Error::Rejected {
            addr: self.addr.clone(),
            step,
            code: Code(reply.code),
            text: reply.text(),
        }
    }

    fn out_of_step(&self, step: Step) -> Error {
        Error::Broken {
            addr: self.addr.clone(),
            step,
            reason: "the connection was lost earlier in this session".into(),
        }
    }
}

/// A transaction written in one go, its replies still to read.
struct Pipelined<'m> {
    message: &'m Outgoing,
    /// MAIL FROM and each RCPT TO, with their steps.
    commands: Vec<(String, Step)>,
    /// The data went in the same write (one recipient).
    with_data: bool,
    /// How long the data phase may take.
    budget: Duration,
}

/// `AUTH PLAIN` with the credentials (RFC 4616), the line ended; kept as a [`Password`]
/// so that it never shows.
fn plain_command(user: &str, password: &str) -> Password {
    let credentials = sasl::encode(&format!("\0{user}\0{password}"));
    Password::from(format!("AUTH PLAIN {credentials}\r\n"))
}

/// The name mailer gives in EHLO: the host's name, else an address literal (RFC 5321
/// 4.1.4).
fn client_name() -> String {
    hostname::get()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.".contains(&b))
        })
        .unwrap_or_else(|| "[127.0.0.1]".to_string())
}

/// Our own connection (TCP_NODELAY, TLS through `net`): without NODELAY, the final "."
/// of each message waits on a delayed ACK, 40 ms per message when flushing a queue.
async fn connect(server: &Server, opened: Option<net::Opened>) -> Result<Stream, Error> {
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
    Ok(match opened {
        net::Opened::Tls(mut tls) => {
            tls.get_mut().get_mut().set_timeout(no_idle);
            Stream::tls(tls)
        }
        net::Opened::Plain(mut tcp) if server.security == Security::Tls => {
            tcp.set_timeout(no_idle);
            let handshake = net::tls_wrap(server, tcp);
            match tokio::time::timeout(server.timeout, handshake).await {
                Err(_) => return Err(timeout(&addr, Step::Tls, server.timeout, "")),
                Ok(r) => Stream::tls(r?),
            }
        }
        net::Opened::Plain(mut tcp) => {
            tcp.set_timeout(no_idle);
            Stream::plain(tcp)
        }
    })
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
    fut: impl Future<Output = std::io::Result<T>>,
) -> Result<T, Error> {
    match tokio::time::timeout(bound, fut).await {
        Err(_) => Err(timeout(addr, step, bound, "")),
        Ok(Err(e)) => Err(io_error(addr, step, e)),
        Ok(Ok(v)) => Ok(v),
    }
}
