//! A loopback TCP proxy that delays everything by a fixed time each way, as a network
//! with that round-trip time would: the benchmarks run clients through it.
//!
//! ```text
//! cargo build --release --example delay-proxy
//! target/release/examples/delay-proxy LISTEN_PORT TARGET_PORT ONE_WAY_MS
//! ```
//!
//! Each chunk read from one side is written to the other ONE_WAY_MS after it arrived,
//! in order, and so is the end of the stream; TCP's own handshake costs one round trip
//! before the target is connected. Bandwidth is not limited: what is in flight waits in
//! memory, as in a network's buffers. One thread, copying in large chunks, so that the
//! proxy is not what bounds a bulk download (the Python asyncio proxy it replaces did).
//! Prints "ready" once listening. Loopback only.

use std::process::ExitCode;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// What one read brought: bytes, or the end of the stream (None).
type Chunk = (Instant, Option<Vec<u8>>);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match args.as_slice() {
        [listen, target, one_way_ms] => (
            listen.parse::<u16>(),
            target.parse::<u16>(),
            one_way_ms.parse::<f64>(),
        ),
        _ => {
            eprintln!("usage: delay-proxy LISTEN_PORT TARGET_PORT ONE_WAY_MS");
            return ExitCode::from(64);
        }
    };
    let (Ok(listen), Ok(target), Ok(ms)) = parsed else {
        eprintln!("delay-proxy: ports are numbers up to 65535, ONE_WAY_MS a number of ms");
        return ExitCode::from(64);
    };
    if !(0.0..=60_000.0).contains(&ms) {
        eprintln!("delay-proxy: ONE_WAY_MS must be between 0 and 60000");
        return ExitCode::from(64);
    }
    let delay = Duration::from_secs_f64(ms / 1000.0);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("delay-proxy: {e}");
            return ExitCode::from(71);
        }
    };
    match runtime.block_on(serve(listen, target, delay)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("delay-proxy: listening on 127.0.0.1:{listen}: {e}");
            ExitCode::from(71)
        }
    }
}

async fn serve(listen: u16, target: u16, delay: Duration) -> std::io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", listen)).await?;
    println!("ready");
    loop {
        let (client, _) = listener.accept().await?;
        tokio::spawn(relay(client, target, delay));
    }
}

/// One connection: a round trip for TCP's handshake, then both directions delayed.
async fn relay(client: TcpStream, target: u16, delay: Duration) {
    tokio::time::sleep(2 * delay).await;
    let Ok(server) = TcpStream::connect(("127.0.0.1", target)).await else {
        return;
    };
    for stream in [&client, &server] {
        let _ = stream.set_nodelay(true);
    }
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::join!(
        pump(client_read, server_write, delay),
        pump(server_read, client_write, delay)
    );
}

/// Copies `from` to `to`, each chunk `delay` after it was read.
async fn pump(from: OwnedReadHalf, to: OwnedWriteHalf, delay: Duration) {
    let (sender, receiver) = mpsc::unbounded_channel::<Chunk>();
    tokio::join!(read(from, sender, delay), deliver(receiver, to));
}

async fn read(mut from: OwnedReadHalf, sender: mpsc::UnboundedSender<Chunk>, delay: Duration) {
    loop {
        // Each read gets a buffer of its own, handed on as it is: a bulk download is
        // not copied again (a short read is, to hold no more memory than it needs).
        let mut buffer = Vec::with_capacity(512 << 10);
        let data = match from.read_buf(&mut buffer).await {
            Ok(0) | Err(_) => None,
            Ok(n) if n < 64 << 10 => Some(buffer[..n].to_vec()),
            Ok(_) => Some(buffer),
        };
        let end = data.is_none();
        if sender.send((Instant::now() + delay, data)).is_err() || end {
            return;
        }
    }
}

async fn deliver(mut receiver: mpsc::UnboundedReceiver<Chunk>, mut to: OwnedWriteHalf) {
    while let Some((due, data)) = receiver.recv().await {
        // A deadline already passed is not handed to the timer, whose turn would hold
        // back every chunk of a bulk download by up to a millisecond.
        if due > Instant::now() {
            tokio::time::sleep_until(due).await;
        }
        let Some(data) = data else { break };
        if to.write_all(&data).await.is_err() {
            // The other side is gone: what is still in flight is dropped with it.
            receiver.close();
            return;
        }
    }
    let _ = to.shutdown().await;
}
