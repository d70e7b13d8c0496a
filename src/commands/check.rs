//! `mailer check`: walks the path to each server of an account one step at a time
//! (resolve, connect, TLS, greeting, STARTTLS, auth, a harmless operation), timing
//! each, so that "it does not connect" turns into the step that failed and what fixes
//! it.

use std::time::Instant;

use tokio::net::TcpStream;

use crate::dns::Dns;
use crate::net::progress::{self, Milestone};
use crate::net::{Idle, Opened};

use crate::config::{Account, Retrieval, Security, Server};
use crate::error::{Exit, Failure};
use crate::{imap, pop3, smtp};

/// One step of the walk.
#[derive(Debug, serde::Serialize)]
pub struct Step {
    /// `smtp`, `imap` or `pop3`.
    pub server: &'static str,
    pub step: &'static str,
    pub ok: bool,
    pub ms: u128,
    /// What was seen: the addresses, the certificate, the capabilities, the counts; or
    /// the error.
    pub detail: String,
    /// What to change, when the step failed.
    pub hint: Option<String>,
    #[serde(skip)]
    pub exit: Option<Exit>,
}

/// Every step for every server of the account; the walk of a server stops at its first
/// failed step.
pub async fn check(account: &Account) -> Result<Vec<Step>, Failure> {
    check_with(account, None).await
}

/// [`check`], looking the host names up with `dns` (`account add --dns-server`'s) when
/// given, instead of the system's resolver.
pub async fn check_with(account: &Account, dns: Option<&Dns>) -> Result<Vec<Step>, Failure> {
    let mut steps = Vec::new();
    if let Some(smtp) = &account.smtp {
        walk(account, "smtp", smtp, dns, &mut steps).await;
    }
    match &account.retrieval {
        Some(Retrieval::Imap(s)) => walk(account, "imap", s, dns, &mut steps).await,
        Some(Retrieval::Pop3(s)) => walk(account, "pop3", s, dns, &mut steps).await,
        None => {}
    }
    if steps.is_empty() {
        return Err(Failure::new(
            Exit::Config,
            format!(
                "{}: account {:?} has no servers to check: add [accounts.{1}.smtp] and [accounts.{1}.imap]",
                account.config_path.display(),
                account.name
            ),
        ));
    }
    Ok(steps)
}

/// The exit code of the first failed step, if any.
pub fn exit_of(steps: &[Step]) -> Option<Exit> {
    steps.iter().find(|s| !s.ok).and_then(|s| s.exit)
}

/// The steps of one server, as they are taken.
struct Walk<'a> {
    kind: &'static str,
    steps: &'a mut Vec<Step>,
}

impl Walk<'_> {
    /// Records a step begun at `started`; true when it worked.
    fn add(
        &mut self,
        step: &'static str,
        started: Instant,
        result: Result<String, Failure>,
        hint: impl FnOnce(&Failure) -> String,
    ) -> bool {
        self.add_timed(step, started.elapsed().as_millis(), result, hint)
    }

    fn add_timed(
        &mut self,
        step: &'static str,
        ms: u128,
        result: Result<String, Failure>,
        hint: impl FnOnce(&Failure) -> String,
    ) -> bool {
        let ok = result.is_ok();
        let (detail, hint, exit) = match result {
            Ok(detail) => (detail, None, None),
            Err(f) => (f.to_string(), Some(hint(&f)), Some(f.exit())),
        };
        let server = self.kind;
        self.steps.push(Step {
            server,
            step,
            ok,
            ms,
            detail,
            hint,
            exit,
        });
        ok
    }
}

async fn walk(
    account: &Account,
    kind: &'static str,
    server: &Server,
    dns: Option<&Dns>,
    steps: &mut Vec<Step>,
) {
    let mut walk = Walk { kind, steps };
    let key = &server.key;
    let started = Instant::now();
    let addrs = resolve(server, dns).await;
    let shown = addrs.as_ref().map(|a| {
        a.iter()
            .map(|a| a.ip().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    });
    let shown = shown.map_err(|f| Failure::new(f.exit(), f.to_string()));
    let host_hint = |_: &Failure| {
        format!("check host in [{key}]: is the name right, and does this machine's DNS answer?")
    };
    if !walk.add("resolve", started, shown, host_hint) {
        return;
    }
    let addrs = addrs.unwrap_or_default();
    let started = Instant::now();
    let (connected, tcp) = split(connect(server, &addrs).await);
    if !walk.add("connect", started, connected, |f| connect_hint(server, f)) {
        return;
    }
    let Some(tcp) = tcp else { return };
    let opened = if server.security != Security::Tls {
        Opened::Plain(tcp)
    } else {
        let started = Instant::now();
        let tls_hint = |_: &Failure| {
            format!(
                "the certificate must be valid for {} and signed by a CA this machine trusts (or set ca_file in [{key}])",
                server.host
            )
        };
        let (done, tls) = split(tls(server, tcp).await);
        if !walk.add("tls", started, done, tls_hint) {
            return;
        }
        let Some(opened) = tls else { return };
        opened
    };
    // The session goes on over the connection the steps above made; its own steps are
    // the milestones it reports on the way.
    let started = Instant::now();
    let (done, seen) = progress::recording(login_and_operate(account, kind, server, opened)).await;
    session_steps(&mut walk, account, server, started, seen, done);
}

/// The steps a session takes after the connection, in order.
fn session_plan(kind: &str, server: &Server) -> Vec<&'static str> {
    let mut plan = vec!["greeting"];
    if server.security == Security::Starttls {
        plan.push("starttls");
    }
    plan.push("auth");
    plan.push(match kind {
        "smtp" => "sender",
        "imap" => "inbox",
        _ => "stat",
    });
    plan
}

/// Each milestone the session reached as a step that worked, then `done` as the step
/// after the last one reached: the operation when the session opened, else the step it
/// failed at.
fn session_steps(
    walk: &mut Walk,
    account: &Account,
    server: &Server,
    started: Instant,
    seen: Vec<Milestone>,
    done: Result<String, Failure>,
) {
    let plan = session_plan(walk.kind, server);
    let mut last = started;
    let mut next = 0;
    for m in seen {
        let ms = m.at.duration_since(last).as_millis();
        walk.add_timed(m.step, ms, Ok(m.detail), |_| String::new());
        last = m.at;
        next = plan
            .iter()
            .position(|s| *s == m.step)
            .map_or(next, |i| i + 1);
    }
    let step = plan[next.min(plan.len() - 1)];
    let hint = |f: &Failure| step_hint(step, account, server, f);
    walk.add(step, last, done, hint);
}

async fn resolve(server: &Server, dns: Option<&Dns>) -> Result<Vec<std::net::SocketAddr>, Failure> {
    if let Some(dns) = dns {
        let addrs: Vec<std::net::SocketAddr> = dns
            .addresses(&server.host)
            .await
            .into_iter()
            .map(|ip| std::net::SocketAddr::new(ip, server.port))
            .collect();
        return match addrs.is_empty() {
            false => Ok(addrs),
            true => Err(Failure::new(
                Exit::TempFail,
                format!(
                    "resolving {}: the DNS server knows no address for it",
                    server.host
                ),
            )),
        };
    }
    let lookup = tokio::net::lookup_host((server.host.as_str(), server.port));
    match tokio::time::timeout(server.timeout, lookup).await {
        Err(_) => Err(Failure::new(
            Exit::TempFail,
            format!(
                "resolving {}: no answer within {} s",
                server.host,
                server.timeout.as_secs()
            ),
        )),
        Ok(Err(e)) => Err(Failure::new(
            Exit::TempFail,
            format!("resolving {}: {e}", server.host),
        )),
        Ok(Ok(addrs)) => Ok(addrs.collect()),
    }
}

/// A step's line, and what it made for the next step.
fn split<T>(result: Result<(String, T), Failure>) -> (Result<String, Failure>, Option<T>) {
    match result {
        Ok((detail, value)) => (Ok(detail), Some(value)),
        Err(f) => (Err(f), None),
    }
}

/// Connects to each address in turn; says which one answered, and keeps the connection.
async fn connect(
    server: &Server,
    addrs: &[std::net::SocketAddr],
) -> Result<(String, Idle<TcpStream>), Failure> {
    let mut last = String::new();
    for addr in addrs {
        let started = Instant::now();
        match tokio::time::timeout(server.timeout, TcpStream::connect(addr)).await {
            Ok(Ok(tcp)) => {
                let _ = tcp.set_nodelay(true);
                let detail = format!("{addr} answered in {} ms", started.elapsed().as_millis());
                return Ok((detail, Idle::new(tcp, server.timeout)));
            }
            Ok(Err(e)) => last = format!("{addr}: {e}"),
            Err(_) => last = format!("{addr}: no answer within {} s", server.timeout.as_secs()),
        }
    }
    Err(Failure::new(
        Exit::TempFail,
        format!("connecting to {}: {last}", server.address()),
    ))
}

fn connect_hint(server: &Server, f: &Failure) -> String {
    let text = f.to_string();
    if text.contains("refused") {
        format!(
            "nothing listens on port {} of {}: check port and security in [{}] (implicit TLS: 465, 993, 995; STARTTLS: 587, 143, 110)",
            server.port, server.host, server.key
        )
    } else {
        format!(
            "{} did not answer: a firewall may drop the connection, or the port in [{}] is wrong",
            server.host, server.key
        )
    }
}

/// The TLS handshake on the connection made, and the certificate it verified.
async fn tls(server: &Server, tcp: Idle<TcpStream>) -> Result<(String, Opened), Failure> {
    let handshake = crate::net::probe::handshake(server, tcp);
    let done = match tokio::time::timeout(server.timeout, handshake).await {
        Err(_) => {
            return Err(Failure::new(
                Exit::TempFail,
                format!(
                    "{}: TLS handshake: no answer within {} s",
                    server.address(),
                    server.timeout.as_secs()
                ),
            ));
        }
        Ok(Err(e)) => {
            let failure = Failure::with_cause(e.exit(), e);
            return Err(match crate::net::untrusted_certificate(server).await {
                Some(der) => failure.context(format!(
                    "the server's certificate ({})",
                    crate::tls::describe_certificate(&der, &server.host).replacen(
                        "verified for",
                        "presented as",
                        1
                    )
                )),
                None => failure,
            });
        }
        Ok(Ok(done)) => done,
    };
    let mut detail = match &done.version {
        Some(version) => format!("{version}, {}; ", done.cipher.as_deref().unwrap_or("?")),
        None => String::new(),
    };
    detail += &match &done.certificate {
        Some(der) => crate::tls::describe_certificate(der, &server.host),
        None => "verified".to_string(),
    };
    Ok((detail, done.opened))
}

/// Greeting, STARTTLS when asked for, and the login (the sessions report each), then
/// one operation that changes nothing: the INBOX's counts (IMAP), STAT (POP3), the
/// account's address in MAIL FROM then RSET (SMTP).
async fn login_and_operate(
    account: &Account,
    kind: &str,
    server: &Server,
    opened: Opened,
) -> Result<String, Failure> {
    match kind {
        "smtp" => {
            let mut session = smtp::Session::open_over(server, Some(opened)).await?;
            let tried = session.try_sender(&account.email).await;
            session.quit().await;
            tried?;
            Ok(format!("MAIL FROM:<{}> accepted, then RSET", account.email))
        }
        "imap" => {
            let mut session = imap::Session::open_over(server, Some(opened)).await?;
            let (messages, unseen) = session.inbox_counts().await?;
            // The account's first fetch or list then need not wait for the greeting.
            super::remember_capabilities(account, &session);
            session.logout().await;
            Ok(format!("INBOX: {messages} messages, {unseen} unseen"))
        }
        _ => {
            let mut session = pop3::Session::open_over(server, Some(opened)).await?;
            let (count, size) = session.stat().await?;
            session.leave().await;
            Ok(format!("STAT: {count} messages, {size} bytes"))
        }
    }
}

/// An account name as it can be typed after `-a` in a shell.
fn shell_word(name: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_.-@+".contains(c);
    match !name.is_empty() && name.chars().all(plain) {
        true => name.to_string(),
        false => format!("'{}'", name.replace('\'', "'\\''")),
    }
}

/// What to change when the session failed at `step`.
fn step_hint(step: &str, account: &Account, server: &Server, f: &Failure) -> String {
    let key = &server.key;
    let keyring = matches!(server.secret, Some(crate::config::SecretSource::Keyring(_)));
    if step == "auth" && f.exit() == Exit::Config && keyring {
        return format!(
            "store the password: mailer auth set-password -a {} (where no keyring is unlocked, as under cron, use password_command or password_env in [{key}])",
            shell_word(&account.name)
        );
    }
    if f.exit() == Exit::Config {
        return format!("fix [{key}] as the message says");
    }
    match step {
        "greeting" if server.security != Security::Tls => format!(
            "no proper greeting on port {}: if the port expects TLS from the start, set security = \"tls\" in [{key}]",
            server.port
        ),
        "greeting" => format!(
            "the server took the connection but did not greet as expected: is port {} in [{key}] the right service?",
            server.port
        ),
        "starttls" if f.to_string().contains("certificate") => format!(
            "the certificate must be valid for {} and signed by a CA this machine trusts (or set ca_file in [{key}])",
            server.host
        ),
        "starttls" => format!(
            "with security = \"{}\", the server must offer STARTTLS (or STLS) after its greeting; if the port expects TLS from the start, set security = \"tls\" in [{key}]",
            server.security
        ),
        "auth" if f.exit() == Exit::NoPerm => format!(
            "the server refused the login of {:?}: check the password (or sign in again: mailer auth login), and user in [{key}]",
            server.user
        ),
        "auth" => "the login did not complete: see the message".to_string(),
        "sender" => format!(
            "the server refused {} as the sender: is it an address this login may send as?",
            account.email
        ),
        _ => "the login worked but the mailbox could not be read: see the message".to_string(),
    }
}
