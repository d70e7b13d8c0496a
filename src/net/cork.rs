//! TCP_CORK (Linux): small writes held back until uncorked, then sent as one segment.
//! SMTP's QUIT and TLS's close go out together this way, so that the server's reply to
//! QUIT, which nobody waits for, cannot come in between.

use tokio::net::TcpStream;

/// A handle on a connection's socket (a duplicate of its descriptor), kept beside a
/// stream that hides the socket, such as `mailer check`'s OpenSSL stream.
#[derive(Debug)]
pub struct Cork {
    #[cfg(target_os = "linux")]
    socket: Option<socket2::Socket>,
}

impl Cork {
    pub fn of(tcp: &TcpStream) -> Cork {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsFd;
            let socket = tcp
                .as_fd()
                .try_clone_to_owned()
                .ok()
                .map(socket2::Socket::from);
            Cork { socket }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = tcp;
            Cork {}
        }
    }

    /// Holds writes back (`true`), or sends what is held (`false`). A failure only
    /// costs a segment.
    pub fn set(&self, on: bool) {
        #[cfg(target_os = "linux")]
        if let Some(socket) = &self.socket {
            let _ = socket.set_tcp_cork(on);
        }
        #[cfg(not(target_os = "linux"))]
        let _ = on;
    }
}
