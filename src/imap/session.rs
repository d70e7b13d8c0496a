//! Connecting, securing, logging in and identifying; logging out.

use std::time::Duration;

use std::sync::{Arc, Mutex};

use futures::FutureExt;
use tokio::net::TcpStream;

use super::ahead::{Expected, Pending};
use super::error::{Error, imap_error, refusal};
use super::mailbox_state::Access;
use super::tap::{Seen, Shared, Tap};
use crate::config::{Password, Security, Server, Token};
use crate::mailbox::MailboxName;
use crate::net::{self, Conn, Idle, bounded, broken};
use crate::{oauth, sasl};

/// A logged-in IMAP session.
pub struct Session {
    pub(super) inner: async_imap::Session<Conn>,
    pub(super) addr: String,
    pub(super) timeout: Duration,
    /// The server's last refusal, as it came over the wire.
    pub(super) seen: Shared,
    /// What the server said it can do once logged in (for `mailer check`).
    pub capabilities: Vec<String>,
    /// The mailbox opened in the login's write, its replies not read yet.
    pub(super) pending: Option<Pending>,
    /// Where the FETCH of envelopes sent with the login started, its replies not read.
    pub(super) speculated: Option<u32>,
    /// The criteria of the UID SEARCH sent with the login, its replies not read.
    pub(super) searched: Option<String>,
    /// Where the UID FETCH of bodies sent with the login started, its replies not
    /// read to the end.
    pub(super) bodies_ahead: Option<u32>,
    /// What came of it, and of the SEARCH sent with it, so far.
    pub(super) interleaved: super::ahead::Interleaved,
    /// ID was written after the login and no command has been answered since: its
    /// replies come first, where APPEND (in async-imap) wants its continuation.
    pub(super) id_unread: bool,
}

type Client = async_imap::Client<Conn>;

impl Session {
    /// Connects, secures, logs in, and identifies itself when the server supports ID
    /// (some providers, 163.com among them, refuse SELECT without it).
    pub async fn open(server: &Server) -> Result<Session, Error> {
        Self::open_over(server, None).await
    }

    /// [`Session::open`] over a connection made beforehand (`mailer check`), if any.
    pub async fn open_over(server: &Server, opened: Option<net::Opened>) -> Result<Session, Error> {
        Self::open_signed_in(server, opened, None, None).await
    }

    /// [`Session::open`] where an earlier session said what the server offers
    /// (`expected`): over implicit TLS with LOGIN, the greeting is not waited for.
    pub async fn open_expecting(server: &Server, expected: &Expected) -> Result<Session, Error> {
        Self::open_signed_in(server, None, None, Some(expected)).await
    }

    /// [`Session::open`] for work in `mailbox`: where the server allows, the mailbox is
    /// opened in the login's own write (see `pipelined`), and [`Session::select`] of
    /// it then only reads its replies. `select` must be the first command.
    pub async fn open_in(
        server: &Server,
        mailbox: &MailboxName,
        access: Access,
        expected: &Expected,
    ) -> Result<Session, Error> {
        Self::open_signed_in(server, None, Some((mailbox, access)), Some(expected)).await
    }

    /// [`Session::open_with`] with the account's bearer token, where it takes one, once
    /// more with a new token when the first is refused.
    async fn open_signed_in(
        server: &Server,
        opened: Option<net::Opened>,
        first: Option<(&MailboxName, Access)>,
        expected: Option<&Expected>,
    ) -> Result<Session, Error> {
        let refused = |e: &Error| matches!(e, Error::AuthRefused(_));
        oauth::with_token(server, opened, refused, async |token, opened| {
            Self::open_with(server, token, opened, first, expected).await
        })
        .await
    }

    /// One connection and login, with `token` when the server takes a bearer token;
    /// `first`, the mailbox to open in the login's write, and `expected`, what an
    /// earlier session said of the server.
    async fn open_with(
        server: &Server,
        token: Option<&Token>,
        opened: Option<net::Opened>,
        first: Option<(&MailboxName, Access)>,
        expected: Option<&Expected>,
    ) -> Result<Session, Error> {
        let seen = Shared::default();
        let addr = server.address();
        let bearer = sasl::Mechanism::of(server.auth).zip(token);
        let password = password_before_connecting(server, bearer.is_some()).await?;
        let ascii = password
            .as_ref()
            .is_some_and(|p| server.user.is_ascii() && p.expose().is_ascii());
        let (client, greeting) = connect_for(server, &seen, opened, ascii, expected).await?;
        let offers_ir = greeting.sasl_ir;
        if server.security == Security::None && !server.allow_insecure_auth {
            return Err(Error::InsecureAuth { addr });
        }
        let reason = Arc::new(Mutex::new(String::new()));
        let mut pending = None;
        let used;
        let login = match (bearer, password) {
            (Some((mechanism, token)), _) => {
                used = mechanism.name();
                let (command, bearer) = Bearer::login(server, mechanism, token, offers_ir, &reason);
                client.authenticate(command, bearer).boxed()
            }
            (None, None) => return Err(Error::NoPassword(addr)),
            (None, Some(password)) => {
                used = if ascii { "LOGIN" } else { "PLAIN" };
                if let (true, Some(caps), Some((mailbox, access)), Some(expected)) =
                    (ascii, &greeting.caps, first, expected)
                {
                    pending = Pending::send_after_login(&seen, caps, mailbox, access, expected);
                }
                log_in(client, server.user.clone(), password.expose().to_string()).boxed()
            }
        };
        let before_login = Seen::completions(&seen);
        let inner = match tokio::time::timeout(server.timeout, login).await {
            Err(_) => return Err(timeout(&addr, "LOGIN", server.timeout)),
            Ok(Err((async_imap::error::Error::No(reply), _))) => {
                let mut reply = refusal(&seen, &reply);
                let reason = reason.lock().unwrap_or_else(|e| e.into_inner()).clone();
                if !reason.is_empty() {
                    reply = format!("{reply} ({reason})");
                }
                return Err(Error::AuthRefused(net::LoginRefused {
                    user: server.user.clone(),
                    reply,
                    addr,
                }));
            }
            Ok(Err((e, _))) => return Err(imap_error(&addr, "LOGIN", e, &seen)),
            Ok(Ok(s)) => s,
        };
        tracing::info!("logged in as {}", server.user);
        let mut session = Session {
            inner,
            addr,
            timeout: server.timeout,
            seen,
            capabilities: Vec::new(),
            pending,
            speculated: None,
            searched: None,
            bodies_ahead: None,
            interleaved: Default::default(),
            id_unread: false,
        };
        session.identify(before_login).await?;
        net::progress::reached("auth", || {
            let caps = session.capabilities.join(" ");
            format!("logged in as {} with {used}; offers {caps}", server.user)
        });
        tracing::debug!("session ready");
        Ok(session)
    }

    /// Learns what the server offers after login, from the login's own OK where the
    /// server put it there (no CAPABILITY round trip), and sends ID when offered,
    /// without waiting for its reply.
    async fn identify(&mut self, before_login: u64) -> Result<(), Error> {
        let (addr, t) = (self.addr.clone(), self.timeout);
        self.capabilities = match Seen::take_capabilities(&self.seen, before_login) {
            Some(announced) => announced,
            None => bounded(&addr, t, "CAPABILITY", self.inner.capabilities())
                .await?
                .map_err(|e| self.error("CAPABILITY", e))?
                .iter()
                .map(|c| match c {
                    async_imap::types::Capability::Imap4rev1 => "IMAP4rev1".to_string(),
                    async_imap::types::Capability::Auth(m) => format!("AUTH={m}"),
                    async_imap::types::Capability::Atom(a) => a.to_string(),
                })
                .collect(),
        };
        // In a stable order (async-imap keeps them in a set), for people and tests.
        self.capabilities.sort();
        let id_sent = self.pending.as_ref().is_some_and(|p| p.id_sent);
        if !id_sent
            && self
                .capabilities
                .iter()
                .any(|c| c.eq_ignore_ascii_case("ID"))
        {
            // RFC 3501 5.5: the next command may follow without waiting. ID is written
            // unflushed, under a tag of its own, so it leaves with that command; their
            // reading passes over ID's replies (async-imap takes another tag's OK, and
            // `* ID`, as unsolicited). Some servers (NetEase's) want ID before SELECT;
            // none needs its answer.
            let id = super::ahead::id_command();
            let write = tokio::io::AsyncWriteExt::write_all(self.inner.get_mut(), id.as_bytes());
            bounded(&addr, t, "ID", write)
                .await?
                .map_err(|e| self.error("ID", async_imap::error::Error::Io(e)))?;
            self.id_unread = true;
        }
        Ok(())
    }

    /// An async-imap failure at `step` of this session.
    pub(super) fn error(&self, step: &str, e: async_imap::error::Error) -> Error {
        imap_error(&self.addr, step, e, &self.seen)
    }

    /// Logs out without waiting for the reply (BYE and OK change nothing), and closes
    /// the connection; nothing can be lost at this point, so failures are ignored.
    pub async fn logout(mut self) {
        let _ = tokio::time::timeout(self.timeout, self.inner.run_command("LOGOUT")).await;
    }
}

/// LOGIN, or, when the user name or password is not ASCII, AUTHENTICATE PLAIN: LOGIN's
/// quoted strings may carry only ASCII (RFC 3501), while SASL PLAIN carries UTF-8.
async fn log_in(
    client: Client,
    user: String,
    password: String,
) -> Result<async_imap::Session<Conn>, (async_imap::error::Error, Client)> {
    if user.is_ascii() && password.is_ascii() {
        return client.login(user, password).await;
    }
    let plain = PlainAuth(format!("\0{user}\0{password}"));
    client.authenticate("PLAIN", plain).await
}

/// A bearer-token login: the token first; to an error challenge (base64 JSON with the
/// reason), the answer that lets the server send its final NO.
struct Bearer {
    first: Option<String>,
    answer: &'static str,
    reason: Arc<Mutex<String>>,
}

impl Bearer {
    /// The AUTHENTICATE command and its authenticator. With SASL-IR the token goes on
    /// the command line; servers that offer it but refuse it (Coremail's) get
    /// `sasl_ir = false`.
    fn login(
        server: &Server,
        mechanism: sasl::Mechanism,
        token: &Token,
        offers_ir: bool,
        reason: &Arc<Mutex<String>>,
    ) -> (String, Bearer) {
        let first = mechanism.first_message(server, token);
        let (command, first) = match offers_ir && server.sasl_ir {
            true => (
                format!("{} {}", mechanism.name(), sasl::encode(&first)),
                None,
            ),
            false => (mechanism.name().to_string(), Some(first)),
        };
        let bearer = Bearer {
            first,
            answer: mechanism.failure_answer(),
            reason: reason.clone(),
        };
        (command, bearer)
    }
}

impl async_imap::Authenticator for Bearer {
    type Response = String;

    fn process(&mut self, challenge: &[u8]) -> String {
        match self.first.take() {
            Some(first) => first,
            None => {
                *self.reason.lock().unwrap_or_else(|e| e.into_inner()) =
                    sasl::refusal_reason_of_json(challenge);
                self.answer.to_string()
            }
        }
    }
}

/// SASL PLAIN's one response (async-imap encodes it in base64).
struct PlainAuth(String);

impl async_imap::Authenticator for PlainAuth {
    type Response = String;

    fn process(&mut self, _challenge: &[u8]) -> String {
        self.0.clone()
    }
}

/// What the greeting said that the login needs.
struct Greeting {
    /// SASL-IR offered (RFC 4959): a bearer token can go with AUTHENTICATE.
    sasl_ir: bool,
    /// The capabilities it listed, where they hold for the login's connection (not
    /// those of a plain-text greeting before STARTTLS).
    caps: Option<Vec<String>>,
}

/// A connection ready for LOGIN: TLS from the start, or upgraded by STARTTLS; and what
/// its greeting offered.
async fn connect(
    server: &Server,
    seen: &Shared,
    opened: Option<net::Opened>,
) -> Result<(Client, Greeting), Error> {
    let (addr, t) = (server.address(), server.timeout);
    let opened = match opened {
        Some(o) => o,
        None => {
            let tcp = net::connect(server).await?;
            Seen::keep_idle_switch(seen, tcp.switch());
            match server.security {
                Security::Tls => net::Opened::Tls(
                    bounded(&addr, t, "TLS handshake", net::tls_wrap(server, tcp)).await??,
                ),
                _ => net::Opened::Plain(tcp),
            }
        }
    };
    let mut client = match opened {
        net::Opened::Plain(tcp) if server.security == Security::Starttls => {
            return starttls(server, tcp, seen).await;
        }
        net::Opened::Tls(tls) => {
            async_imap::Client::new(Box::new(Tap::new(tls, seen.clone())) as Conn)
        }
        net::Opened::Plain(tcp) => {
            async_imap::Client::new(Box::new(Tap::new(tcp, seen.clone())) as Conn)
        }
    };
    let caps = greeting(&addr, t, &mut client).await?;
    let sasl_ir = offers(caps.as_deref(), "SASL-IR");
    Ok((client, Greeting { sasl_ir, caps }))
}

/// The password, where the login takes one (no bearer token), read before connecting:
/// whether the login is a LOGIN decides whether the greeting must be waited for.
async fn password_before_connecting(
    server: &Server,
    bearer: bool,
) -> Result<Option<Password>, Error> {
    if bearer {
        return Ok(None);
    }
    match server.password().await? {
        Some(password) => Ok(Some(password)),
        None => Err(Error::NoPassword(server.address())),
    }
}

/// The connection the login goes over. Its greeting need not be waited for when the
/// last session said what the server offers, and the login is a LOGIN (`ascii_login`:
/// an AUTHENTICATE would take the greeting for its go-ahead) over implicit TLS on a
/// connection of its own.
async fn connect_for(
    server: &Server,
    seen: &Shared,
    opened: Option<net::Opened>,
    ascii_login: bool,
    expected: Option<&Expected>,
) -> Result<(Client, Greeting), Error> {
    let known = expected
        .and_then(|e| e.capabilities.clone())
        .filter(|_| ascii_login && opened.is_none() && server.security == Security::Tls);
    match known {
        Some(caps) => Ok((connect_unread(server, seen).await?, Greeting::known(caps))),
        None => connect(server, seen, opened).await,
    }
}

/// An implicit-TLS connection whose greeting is left to be read with the login's reply
/// (async-imap passes over it there).
async fn connect_unread(server: &Server, seen: &Shared) -> Result<Client, Error> {
    let (addr, t) = (server.address(), server.timeout);
    let tcp = net::connect(server).await?;
    Seen::keep_idle_switch(seen, tcp.switch());
    let tls = bounded(&addr, t, "TLS handshake", net::tls_wrap(server, tcp)).await??;
    Ok(async_imap::Client::new(
        Box::new(Tap::new(tls, seen.clone())) as Conn,
    ))
}

impl Greeting {
    fn known(caps: Vec<String>) -> Greeting {
        let sasl_ir = offers(Some(&caps), "SASL-IR");
        Greeting {
            sasl_ir,
            caps: Some(caps),
        }
    }
}

fn offers(caps: Option<&[String]>, name: &str) -> bool {
    caps.is_some_and(|caps| caps.iter().any(|c| c.eq_ignore_ascii_case(name)))
}

/// Reads the greeting in plain text, asks for STARTTLS, and runs the handshake.
async fn starttls(
    server: &Server,
    tcp: Idle<TcpStream>,
    seen: &Shared,
) -> Result<(Client, Greeting), Error> {
    let (addr, t) = (server.address(), server.timeout);
    let mut plain = async_imap::Client::new(Tap::new(tcp, seen.clone()));
    let caps = greeting(&addr, t, &mut plain).await?;
    let sasl_ir = offers(caps.as_deref(), "SASL-IR");
    bounded(
        &addr,
        t,
        "STARTTLS",
        plain.run_command_and_check_ok("STARTTLS", None),
    )
    .await?
    .map_err(|e| imap_error(&addr, "STARTTLS", e, seen))?;
    let stream = plain.into_inner().into_inner();
    let tls = bounded(&addr, t, "TLS handshake", net::tls_wrap(server, stream)).await??;
    net::progress::reached("starttls", || net::certificate_shown(&tls, &server.host));
    let client = async_imap::Client::new(Box::new(Tap::new(tls, seen.clone())) as Conn);
    Ok((
        client,
        Greeting {
            sasl_ir,
            caps: None,
        },
    ))
}

/// Reads the greeting; the capabilities it lists, if it does.
async fn greeting<S>(
    addr: &str,
    t: Duration,
    client: &mut async_imap::Client<S>,
) -> Result<Option<Vec<String>>, Error>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    use async_imap::imap_proto::types::{Response, ResponseCode};
    match bounded(addr, t, "greeting", client.read_response()).await? {
        Ok(Some(greeting)) => {
            tracing::debug!("greeting received");
            let (caps, shown) = match greeting.parsed() {
                Response::Data {
                    code: Some(ResponseCode::Capabilities(caps)),
                    ..
                } => {
                    let names: Vec<String> = caps.iter().map(capability_name).collect();
                    let shown = format!("offers {}", names.join(" "));
                    (Some(names), shown)
                }
                Response::Data { information, .. } => (
                    None,
                    format!("\"{}\"", information.as_deref().unwrap_or("")),
                ),
                _ => (None, String::new()),
            };
            net::progress::reached("greeting", || shown);
            Ok(caps)
        }
        Ok(None) => Err(broken(
            addr,
            "greeting",
            &"the server closed the connection",
        )),
        Err(e) => Err(net::io_failure(addr, "greeting", &e)),
    }
}

/// A capability of the greeting as the server spelled it.
fn capability_name(c: &async_imap::imap_proto::types::Capability) -> String {
    use async_imap::imap_proto::types::Capability;
    match c {
        Capability::Imap4rev1 => "IMAP4rev1".to_string(),
        Capability::Auth(m) => format!("AUTH={m}"),
        Capability::Atom(a) => a.to_string(),
    }
}

fn timeout(addr: &str, step: &str, bound: Duration) -> Error {
    Error::Timeout {
        addr: addr.to_string(),
        step: step.to_string(),
        secs: bound.as_secs(),
    }
}
