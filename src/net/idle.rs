//! The idle bound on a connection: a read fails when the server has sent nothing for a
//! while, however long the whole reply takes.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// A stream that fails a read when the server sends nothing for `timeout`: the bound is
/// on silence, not on the length of a reply, so a large message on a slow link is fine
/// while a stalled server is noticed. The clock restarts with every byte read and every
/// command written.
pub struct Idle<S> {
    inner: S,
    timeout: Duration,
    deadline: Pin<Box<Sleep>>,
    /// Set while silence is what is asked for (IMAP IDLE): no bound then.
    paused: Arc<AtomicBool>,
}

/// Turns a connection's idle bound off and on from outside its stream (IMAP keeps it
/// while an IDLE waits for the server, which may rightly say nothing for minutes).
#[derive(Debug, Clone, Default)]
pub struct IdleSwitch(Arc<AtomicBool>);

impl IdleSwitch {
    /// No bound while `paused`; the clock starts again with the next byte either way.
    pub fn pause(&self, paused: bool) {
        self.0.store(paused, Ordering::SeqCst);
    }
}

impl<S> Idle<S> {
    pub fn new(inner: S, timeout: Duration) -> Self {
        Idle {
            inner,
            timeout,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            paused: Arc::default(),
        }
    }

    /// The switch of this connection's bound.
    pub fn switch(&self) -> IdleSwitch {
        IdleSwitch(self.paused.clone())
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Changes the allowed silence; for SMTP, whose steps carry their own bounds.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
        self.rearm();
    }

    fn rearm(&mut self) {
        let at = tokio::time::Instant::now() + self.timeout;
        self.deadline.as_mut().reset(at);
    }
}

impl<S> Debug for Idle<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Idle({:?})", self.timeout)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Idle<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    this.rearm();
                }
                Poll::Ready(r)
            }
            Poll::Pending if this.paused.load(Ordering::SeqCst) => Poll::Pending,
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    // Worded as SessionError::Timeout is, since it is the same event.
                    format!(
                        "no reply within {} s (timeout_secs)",
                        this.timeout.as_secs()
                    ),
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Idle<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(_))) {
            this.rearm();
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
