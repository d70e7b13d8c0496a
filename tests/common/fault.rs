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
                Step::Close => return,
            }
        }
    });
    port
}
