//! A fault-injection server: plays a script of replies on a loopback port, for what a
//! real server cannot be made to do (garbage, a stall, a connection cut mid-response).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
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
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
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
    });
    port
}

/// A loopback proxy to `target_port` that cuts both connections, without forwarding it,
/// as soon as the client sends `trigger` (e.g. `QUIT`). Serves one client. Returns the port.
pub fn cut_proxy(target_port: u16, trigger: &'static [u8]) -> u16 {
    use std::io::Read;
    use std::net::{Shutdown, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let Ok((client, _)) = listener.accept() else {
            return;
        };
        let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)) else {
            return;
        };
        let (mut from_server, mut to_client) =
            (server.try_clone().unwrap(), client.try_clone().unwrap());
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut from_server, &mut to_client);
        });
        let (mut from_client, mut to_server) = (client, server);
        let mut buf = [0u8; 16384];
        loop {
            let n = match from_client.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if buf[..n].windows(trigger.len()).any(|w| w == trigger) {
                break;
            }
            if to_server.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = from_client.shutdown(Shutdown::Both);
        let _ = to_server.shutdown(Shutdown::Both);
    });
    port
}
