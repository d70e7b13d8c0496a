//! A small HTTPS server for one file, with the stack's certificate (for localhost and
//! 127.0.0.1): a domain's autoconfig file in a private setup. It answers every GET with
//! the file, and counts the requests. And a bare TLS listener, for guessed servers.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::Stack;

pub struct Https {
    pub port: u16,
    requests: Arc<AtomicUsize>,
}

impl Https {
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Serves `body` as `content_type` on a free loopback port, in background threads.
pub fn serve_file(stack: &Stack, body: String, content_type: &'static str) -> Https {
    let cert = std::fs::read(stack.dir.join("tls/cert.pem")).expect("the stack's certificate");
    let key = std::fs::read(stack.dir.join("tls/key.pem")).expect("the stack's key");
    let identity = native_tls::Identity::from_pkcs8(&cert, &key).expect("a TLS identity");
    let acceptor = Arc::new(native_tls::TlsAcceptor::new(identity).expect("a TLS acceptor"));
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (acceptor, body, counted) = (acceptor.clone(), body.clone(), counted.clone());
            std::thread::spawn(move || {
                let Ok(mut tls) = acceptor.accept(stream) else {
                    return;
                };
                let mut head = [0u8; 4096];
                let _ = tls.read(&mut head);
                counted.fetch_add(1, Ordering::SeqCst);
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(reply.as_bytes());
                let _ = tls.shutdown();
            });
        }
    });
    Https { port, requests }
}

/// Completes TLS handshakes on 127.0.0.1:`port` with this certificate, and says nothing
/// more: a server that a guess can verify. Needs root below port 1024.
pub fn tls_listener(cert: &std::path::Path, key: &std::path::Path, port: u16) {
    let identity = native_tls::Identity::from_pkcs8(
        &std::fs::read(cert).expect("the certificate"),
        &std::fs::read(key).expect("the key"),
    )
    .expect("a TLS identity");
    let acceptor = Arc::new(native_tls::TlsAcceptor::new(identity).expect("a TLS acceptor"));
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap_or_else(|e| {
        panic!("listening on 127.0.0.1:{port} (the test needs root and the port free): {e}")
    });
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let acceptor = acceptor.clone();
            std::thread::spawn(move || {
                let _ = acceptor.accept(stream);
            });
        }
    });
}
