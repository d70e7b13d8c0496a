//! The TLS handshake's writes held back until the client next waits for the server, so
//! that the client's last flight (its Finished) leaves together with the first command
//! after the handshake: one segment, and no moment when the server has the Finished
//! but not the command. A server that speaks on its own after the handshake (TLS 1.3
//! session tickets) then answers both at once, which is what a count of round trips
//! needs to be exact.

use std::fmt::Debug;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::unsent::Unsent;

/// A stream under TLS whose writes, from the handshake's start to the first flush after
/// it, are kept in memory and written out before the next read, at that flush, or at
/// shutdown. Only handshake records are ever held (a few KiB).
pub struct Held<S> {
    inner: S,
    held: Unsent,
    state: State,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum State {
    /// During the handshake: OpenSSL's flushes are not acted on, its reads are.
    Handshake,
    /// The handshake is done; the next flush (the first command's) sends all.
    LastFlight,
    /// Writes go straight through.
    Through,
}

impl<S> Held<S> {
    pub fn new(inner: S) -> Self {
        Held {
            inner,
            held: Unsent::default(),
            state: State::Handshake,
        }
    }

    /// The handshake finished: what it left held goes with the next flush.
    pub fn handshake_done(&mut self) {
        if self.state == State::Handshake {
            self.state = State::LastFlight;
        }
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }
}

impl<S: AsyncWrite + Unpin> Held<S> {
    /// Writes out what is held; ready once all of it is with the stream beneath.
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.held.poll_send(&mut self.inner, cx)
    }
}

impl<S> Debug for Held<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Held({:?}, {} bytes)", self.state, self.held.len())
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Held<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        // The server can only answer what it has.
        match this.poll_send(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_read(cx, buf),
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Held<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        match this.state {
            State::Through if this.held.is_empty() => Pin::new(&mut this.inner).poll_write(cx, buf),
            State::Through => match this.poll_send(cx) {
                Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_write(cx, buf),
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            },
            State::Handshake | State::LastFlight => {
                this.held.push(buf);
                Poll::Ready(Ok(buf.len()))
            }
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        if this.state == State::Handshake {
            return Poll::Ready(Ok(()));
        }
        this.state = State::Through;
        match this.poll_send(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        this.state = State::Through;
        match this.poll_send(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_shutdown(cx),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A handshake's flights leave when the client reads; its last one leaves with the
    /// first command, in one write.
    #[tokio::test]
    async fn the_last_flight_goes_with_the_first_command() {
        let (client, mut server) = tokio::io::duplex(4096);
        let mut held = Held::new(client);
        held.write_all(b"hello").await.unwrap();
        held.flush().await.unwrap();
        server.write_all(b"hi").await.unwrap();
        let mut two = [0u8; 2];
        held.read_exact(&mut two).await.unwrap();
        let mut five = [0u8; 5];
        server.read_exact(&mut five).await.unwrap();
        assert_eq!(&five, b"hello");

        held.write_all(b"finished").await.unwrap();
        held.handshake_done();
        held.write_all(b"EHLO\r\n").await.unwrap();
        held.flush().await.unwrap();
        let mut rest = [0u8; 14];
        server.read_exact(&mut rest).await.unwrap();
        assert_eq!(&rest, b"finishedEHLO\r\n");

        held.write_all(b"QUIT\r\n").await.unwrap();
        held.shutdown().await.unwrap();
        let mut tail = Vec::new();
        server.read_to_end(&mut tail).await.unwrap();
        assert_eq!(tail, b"QUIT\r\n");
    }
}
