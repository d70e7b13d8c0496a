//! A loopback proxy that counts round trips: every time the server answers what the
//! client sent since the server last spoke, the client had one flight out and back.
//! TLS records, several writes in a row and the server's own pace do not change the
//! count, so a test can assert it exactly. The client's last flight is its goodbye (a
//! TLS close), whether or not the server's own close happens to come after it: it is
//! no round trip. Each connection is counted on its own.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Client,
    Server,
}

/// The proxy: listens on a free loopback port and forwards to `target`.
pub struct RoundTrips {
    port: u16,
    done: Arc<Mutex<Vec<usize>>>,
}

impl RoundTrips {
    pub fn to(target: u16) -> RoundTrips {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the proxy");
        let port = listener.local_addr().expect("the proxy's port").port();
        let done = Arc::new(Mutex::new(Vec::new()));
        let record = done.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let record = record.clone();
                thread::spawn(move || {
                    if let Some(flights) = relay(client, target) {
                        record.lock().unwrap().push(flights);
                    }
                });
            }
        });
        RoundTrips { port, done }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The round trips of each of the first `n` connections, in the order they
    /// closed; waits (10 s at most) for them to close.
    pub fn of_connections(&self, n: usize) -> Vec<usize> {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let done = self.done.lock().unwrap().clone();
            if done.len() >= n || Instant::now() > until {
                assert_eq!(done.len(), n, "connections through the proxy: {done:?}");
                return done;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Forwards both ways until both are closed; the round trips.
fn relay(client: TcpStream, target: u16) -> Option<usize> {
    let server = TcpStream::connect(("127.0.0.1", target)).ok()?;
    let _ = (client.set_nodelay(true), server.set_nodelay(true));
    let state = Arc::new(Mutex::new(Vec::new()));
    let up = {
        let (from, to, state) = (
            client.try_clone().ok()?,
            server.try_clone().ok()?,
            state.clone(),
        );
        thread::spawn(move || pump(from, to, Side::Client, &state))
    };
    pump(server, client, Side::Server, &state);
    let _ = up.join();
    let turns = state.lock().unwrap().clone();
    Some(round_trips(&turns))
}

/// The client's turns that the server answered, but for the client's last.
fn round_trips(turns: &[Side]) -> usize {
    let last = turns.iter().rposition(|s| *s == Side::Client).unwrap_or(0);
    turns
        .windows(2)
        .enumerate()
        .filter(|(i, w)| *i < last && w[0] == Side::Client && w[1] == Side::Server)
        .count()
}

/// Copies `from` to `to`; the side's turn is noted before its bytes go on, so that the
/// other side can only answer after it.
fn pump(mut from: TcpStream, mut to: TcpStream, side: Side, turns: &Mutex<Vec<Side>>) {
    let mut buf = [0u8; 16384];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        {
            let mut turns = turns.lock().unwrap();
            if turns.last() != Some(&side) {
                turns.push(side);
            }
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
