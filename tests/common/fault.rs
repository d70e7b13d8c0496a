//! A fault-injection server: plays a script of replies on a loopback port, for what a
//! real server cannot be made to do (garbage, a stall, a connection cut mid-response).
//! And two proxies in front of a real server: `cut_proxy` cuts a session when the client
//! sends a trigger; [`CutProxy`] counts the bytes of whole sessions and cuts one after
//! exactly N bytes in either direction.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// One step of the conversation.
#[derive(Clone)]
pub enum Step {
    /// Send these bytes.
    Send(&'static [u8]),
    /// Read one line from the client (and ignore it).
    ReadLine,
    /// Read a tagged IMAP command; answer with `untagged` lines, then `TAG done`.
    Answer(&'static [u8], &'static str),
    /// Read one line; when it starts with the first bytes, send the second, else say
    /// `* BYE` with what came and end: a server that takes only one form of a command.
    Expect(&'static [u8], &'static [u8]),
    /// Say nothing for this long (longer than the client's timeout).
    Stall(Duration),
    /// Send these bytes a few at a time with pauses: a slow link, never silent for long.
    Dribble(&'static [u8], usize, Duration),
    /// Close the connection.
    Close,
}

/// Serves `script` to one client on a free loopback port, in a background thread.
/// Returns the port.
pub fn serve(script: Vec<Step>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            play(stream, script);
        }
    });
    port
}

fn play(stream: std::net::TcpStream, script: Vec<Step>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    for step in script {
        match step {
            Step::Send(bytes) => {
                if writer.write_all(bytes).is_err() {
                    return;
                }
            }
            Step::ReadLine => {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
            }
            Step::Answer(untagged, done) => {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let tag = line.split_whitespace().next().unwrap_or("*").to_string();
                let reply = format!("{tag} {done}\r\n");
                if writer.write_all(untagged).is_err()
                    || writer.write_all(reply.as_bytes()).is_err()
                {
                    return;
                }
            }
            Step::Expect(start, reply) => {
                let mut line = Vec::new();
                if reader.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
                    return;
                }
                if !line.starts_with(start) {
                    let _ = writer.write_all(b"* BYE unexpected: ");
                    let _ = writer.write_all(&line);
                    return;
                }
                if writer.write_all(reply).is_err() {
                    return;
                }
            }
            Step::Stall(d) => std::thread::sleep(d),
            Step::Dribble(bytes, chunk, pause) => {
                for piece in bytes.chunks(chunk) {
                    if writer.write_all(piece).is_err() {
                        return;
                    }
                    std::thread::sleep(pause);
                }
            }
            Step::Close => return,
        }
    }
}

/// A loopback proxy to `target_port` that cuts both connections, without forwarding it,
/// as soon as the client sends `trigger` (e.g. `QUIT`). Serves one client. Returns the port.
pub fn cut_proxy(target_port: u16, trigger: &'static [u8]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((client, _)) = listener.accept() {
            relay_until(client, target_port, Some(trigger));
        }
    });
    port
}

/// A loopback proxy to `target_port` whose first connection is cut, without forwarding
/// it, when the client sends `trigger` (e.g. `IDLE`); every later connection passes
/// uncut, so a client that reconnects gets through. Returns the port.
pub fn cut_first_on(target_port: u16, trigger: &'static [u8]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for (n, client) in listener.incoming().enumerate() {
            let Ok(client) = client else { continue };
            let trigger = (n == 0).then_some(trigger);
            std::thread::spawn(move || relay_until(client, target_port, trigger));
        }
    });
    port
}

/// Relays `client` to `target_port` both ways until either side closes, or until the
/// client sends `trigger`, which is not forwarded: then both connections are cut.
fn relay_until(client: TcpStream, target_port: u16, trigger: Option<&[u8]>) {
    use std::io::Read;
    use std::net::Shutdown;
    let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)) else {
        return;
    };
    let (mut from_server, mut to_client) =
        (server.try_clone().unwrap(), client.try_clone().unwrap());
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_server, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Both);
    });
    let (mut from_client, mut to_server) = (client, server);
    let mut buf = [0u8; 16384];
    loop {
        let n = match from_client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if trigger.is_some_and(|t| buf[..n].windows(t.len()).any(|w| w == t)) {
            break;
        }
        if to_server.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = from_client.shutdown(Shutdown::Both);
    let _ = to_server.shutdown(Shutdown::Both);
}

/// A direction through a [`CutProxy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// From mailer to the server.
    ToServer,
    /// From the server to mailer.
    ToClient,
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Direction::ToServer => "client->server",
            Direction::ToClient => "server->client",
        })
    }
}

/// Where a [`CutProxy`] cuts: once exactly `after` bytes have passed in `direction`,
/// both connections are closed (FIN both ways) and nothing more is forwarded.
#[derive(Clone, Copy, Debug)]
pub struct Cut {
    pub direction: Direction,
    pub after: u64,
    /// Cut every connection the proxy accepts; otherwise only the first, and later ones
    /// pass uncut.
    pub every_connection: bool,
}

impl Cut {
    /// Cuts the first connection after `after` bytes in `direction`; later ones pass.
    pub fn first(direction: Direction, after: u64) -> Cut {
        Cut {
            direction,
            after,
            every_connection: false,
        }
    }
}

/// What passed through one connection of a [`CutProxy`]. Bytes are counted when they
/// are handed on; after a cut nothing more is, though the other direction may still
/// have had one chunk on its way.
#[derive(Clone, Debug, Default)]
pub struct Traffic {
    pub to_server: u64,
    pub to_client: u64,
    /// Whether the proxy cut this connection (else it ended by itself).
    pub cut: bool,
    /// The bytes forwarded as turns, in order: chunks in one direction with nothing in
    /// the other between them make one turn.
    pub turns: Vec<(Direction, u64)>,
    /// Both sides have closed: the server is done with the session.
    pub finished: bool,
}

impl Traffic {
    pub fn bytes(&self, direction: Direction) -> u64 {
        match direction {
            Direction::ToServer => self.to_server,
            Direction::ToClient => self.to_client,
        }
    }

    /// The byte counts in `direction` at which each of its turns ends.
    pub fn turn_ends(&self, direction: Direction) -> Vec<u64> {
        let mut total = 0;
        let mut ends = Vec::new();
        for &(d, n) in &self.turns {
            if d == direction {
                total += n;
                ends.push(total);
            }
        }
        ends
    }

    /// Records `n` bytes forwarded in `direction`.
    fn forwarded(&mut self, direction: Direction, n: u64) {
        match direction {
            Direction::ToServer => self.to_server += n,
            Direction::ToClient => self.to_client += n,
        }
        match self.turns.last_mut() {
            Some((d, total)) if *d == direction => *total += n,
            _ => self.turns.push((direction, n)),
        }
    }
}

#[derive(Default)]
struct ProxyState {
    sessions: std::sync::Mutex<Vec<Traffic>>,
    changed: std::sync::Condvar,
    stop: std::sync::atomic::AtomicBool,
}

impl ProxyState {
    fn update<T>(&self, index: usize, f: impl FnOnce(&mut Traffic) -> T) -> T {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let out = f(&mut sessions[index]);
        self.changed.notify_all();
        out
    }
}

/// A loopback proxy to a real server port that counts the bytes passing each way, and
/// can cut the session after exactly N of them in one direction. TLS stays end to end:
/// the proxy sees ciphertext. It serves any number of connections until dropped.
///
/// ```ignore
/// let measure = CutProxy::pass(stack.port("IMAPS_PORT"));   // count a whole session
/// let cutting = CutProxy::cutting(stack.port("IMAPS_PORT"), Cut::first(Direction::ToClient, 4242));
/// ... run mailer against cutting.port() ...
/// let traffic = cutting.wait_finished();                    // per connection
/// ```
pub struct CutProxy {
    port: u16,
    state: std::sync::Arc<ProxyState>,
}

impl CutProxy {
    /// Forwards every connection uncut, counting: to measure a whole session.
    pub fn pass(target_port: u16) -> CutProxy {
        CutProxy::start(target_port, None)
    }

    /// Cuts as `cut` says.
    pub fn cutting(target_port: u16, cut: Cut) -> CutProxy {
        CutProxy::start(target_port, Some(cut))
    }

    fn start(target_port: u16, cut: Option<Cut>) -> CutProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
        let port = listener.local_addr().unwrap().port();
        let state = std::sync::Arc::new(ProxyState::default());
        let shared = state.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if shared.stop.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                let index = {
                    let mut sessions = shared.sessions.lock().unwrap_or_else(|e| e.into_inner());
                    sessions.push(Traffic::default());
                    sessions.len() - 1
                };
                let cut = cut.filter(|c| c.every_connection || index == 0);
                let state = shared.clone();
                std::thread::spawn(move || relay(client, target_port, cut, &state, index));
            }
        });
        CutProxy { port, state }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// What passed so far, one entry per connection in the order they were accepted.
    pub fn traffic(&self) -> Vec<Traffic> {
        self.state
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits (up to 30 s) until every connection has ended on both sides, so the
    /// server is done with it (a POP3 maildrop lock released, an SMTP transaction
    /// settled), and returns what passed.
    pub fn wait_finished(&self) -> Vec<Traffic> {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut sessions = self
            .state
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        while sessions.iter().any(|s| !s.finished) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            assert!(!left.is_zero(), "a proxied session did not end within 30 s");
            sessions = self
                .state
                .changed
                .wait_timeout(sessions, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        sessions.clone()
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.state
            .stop
            .store(true, std::sync::atomic::Ordering::SeqCst);
        // Wakes the accepting thread so that it sees the flag and ends.
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// One proxied connection: a thread per direction.
fn relay(
    client: std::net::TcpStream,
    target_port: u16,
    cut: Option<Cut>,
    state: &std::sync::Arc<ProxyState>,
    index: usize,
) {
    use std::net::{Shutdown, TcpStream};
    let finish = || state.update(index, |t| t.finished = true);
    let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)) else {
        let _ = client.shutdown(Shutdown::Both);
        finish();
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let ends = Ends {
        client: client.try_clone().unwrap(),
        server: server.try_clone().unwrap(),
    };
    if cut.is_some_and(|c| c.after == 0) {
        state.update(index, |t| t.cut = true);
        ends.close();
    }
    let limit = |d: Direction| cut.filter(|c| c.direction == d).map(|c| c.after);
    let to_server = {
        let (state, ends) = (state.clone(), ends.clone());
        let (src, dst) = (client.try_clone().unwrap(), server.try_clone().unwrap());
        let limit = limit(Direction::ToServer);
        std::thread::spawn(move || pump(src, dst, Direction::ToServer, limit, &state, index, &ends))
    };
    pump(
        server,
        client,
        Direction::ToClient,
        limit(Direction::ToClient),
        state,
        index,
        &ends,
    );
    let _ = to_server.join();
    finish();
}

/// Both sockets of a proxied connection.
struct Ends {
    client: std::net::TcpStream,
    server: std::net::TcpStream,
}

impl Clone for Ends {
    fn clone(&self) -> Ends {
        Ends {
            client: self.client.try_clone().unwrap(),
            server: self.server.try_clone().unwrap(),
        }
    }
}

impl Ends {
    /// The cut: each side reads the end of the stream after what was forwarded. Reading
    /// goes on (and is thrown away) until each side closes, so no reset destroys bytes
    /// already forwarded.
    fn close(&self) {
        let _ = self.client.shutdown(std::net::Shutdown::Write);
        let _ = self.server.shutdown(std::net::Shutdown::Write);
    }
}

/// Copies `src` to `dst`, counting; cuts the connection once `limit` bytes have passed.
fn pump(
    mut src: std::net::TcpStream,
    mut dst: std::net::TcpStream,
    direction: Direction,
    limit: Option<u64>,
    state: &ProxyState,
    index: usize,
    ends: &Ends,
) {
    use std::io::Read;
    let mut buf = [0u8; 16384];
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        // Decided and recorded before the bytes go on, so that the order of turns is the
        // order of the conversation, and nothing passes once the connection is cut.
        let (take, cut_now) = state.update(index, |t| {
            if t.cut {
                return (0, false);
            }
            let room = limit.map_or(u64::MAX, |l| l - t.bytes(direction));
            let take = (n as u64).min(room);
            if take > 0 {
                t.forwarded(direction, take);
            }
            let cut_now = take == room;
            t.cut |= cut_now;
            (take as usize, cut_now)
        });
        if take > 0 && dst.write_all(&buf[..take]).is_err() && !cut_now {
            break;
        }
        if cut_now {
            ends.close();
        }
    }
    // The source has closed: pass the end of the stream on (after a cut, already done).
    let _ = dst.shutdown(std::net::Shutdown::Write);
}

/// A proxy that passes what the client sends at once but holds back what the server
/// says until `open()` is true (asked every 5 ms, for 10 s at most): a server that
/// answers only once something else has happened, to test that a client does that
/// other thing without waiting for this server.
pub struct Held {
    port: u16,
    timed_out: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Held {
    pub fn until(target_port: u16, open: impl Fn() -> bool + Send + Sync + 'static) -> Held {
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
        let port = listener.local_addr().unwrap().port();
        let timed_out = std::sync::Arc::new(AtomicBool::new(false));
        let (open, late) = (std::sync::Arc::new(open), timed_out.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)) else {
                    continue;
                };
                let (open, late) = (open.clone(), late.clone());
                let (mut up_from, mut up_to) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut up_from, &mut up_to);
                    let _ = up_to.shutdown(std::net::Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let until = std::time::Instant::now() + Duration::from_secs(10);
                    while !open() {
                        if std::time::Instant::now() > until {
                            late.store(true, Ordering::SeqCst);
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    let (mut from, mut to) = (server, client);
                    let _ = std::io::copy(&mut from, &mut to);
                    let _ = to.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        Held { port, timed_out }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether a connection's server waited the whole 10 s for `open()`.
    pub fn held_too_long(&self) -> bool {
        self.timed_out.load(std::sync::atomic::Ordering::SeqCst)
    }
}
