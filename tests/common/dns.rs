//! A DNS server for one test: Debian's dnsmasq on a free loopback port, answering only
//! the records the test gives it and nothing else (no upstream, no hosts file), so that
//! no lookup of the test ever leaves the machine. A child of the test; ends with it.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Dns {
    pub port: u16,
    child: Child,
}

impl Drop for Dns {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Dns {
    /// The `--dns-server` value for mailer.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

/// Starts dnsmasq with `srv` records (name, target, port) and waits (bounded) until
/// it accepts connections.
pub fn dns_server(srv: &[(&str, &str, u16)]) -> Dns {
    dns_server_with(srv, &[])
}

/// [`dns_server`] that also answers `hosts` (name, IPv4 address) with A records.
pub fn dns_server_with(srv: &[(&str, &str, u16)], hosts: &[(&str, &str)]) -> Dns {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = Command::new("/usr/sbin/dnsmasq");
    command.args([
        "--keep-in-foreground",
        "--conf-file=/dev/null",
        "--no-resolv",
        "--no-hosts",
        "--bind-interfaces",
        "--listen-address=127.0.0.1",
        "--pid-file=",
        "--user=root",
        "--log-facility=-",
    ]);
    command.arg(format!("--port={port}"));
    for (name, target, target_port) in srv {
        command.arg(format!("--srv-host={name},{target},{target_port},0,1"));
    }
    for (name, ip) in hosts {
        command.arg(format!("--address=/{name}/{ip}"));
    }
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting dnsmasq (Debian's dnsmasq-base package)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "dnsmasq did not listen on port {port} within 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Dns { port, child }
}
