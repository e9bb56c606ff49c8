//! A listener whose connections can be broken on purpose: reset, closed without a reply, or
//! cut after half the body. The handler reaches its connection through the [`Peer`]
//! connect-info and sets a [`Trap`]; the stream applies it when hyper writes the answer.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;

use crate::tls::TlsIncoming;

/// What to do to the connection when the answer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Trap {
    #[default]
    None,
    /// Close without writing anything.
    Empty,
    /// Close with a TCP reset.
    Reset,
    /// Write the head and `body_bytes` of the body, then close.
    Truncate { body_bytes: usize },
}

#[derive(Debug, Clone, Default)]
struct TrapState {
    trap: Trap,
    /// Bytes of the `\r\n\r\n` head terminator seen so far (truncation counts body bytes
    /// only after it).
    head_matched: usize,
    head_done: bool,
    body_written: usize,
}

/// The remote end of a connection, with the handle to break it.
#[derive(Debug, Clone)]
pub struct Peer {
    pub addr: SocketAddr,
    state: Arc<Mutex<TrapState>>,
}

impl Peer {
    pub(crate) fn set(&self, trap: Trap) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        *s = TrapState {
            trap,
            ..TrapState::default()
        };
    }
}

/// A listener handing out [`TrappedStream`]s: plain TCP, or TLS (`--tls`).
#[derive(Debug)]
pub(crate) enum TrapListener {
    Plain(TcpListener),
    Tls(TlsIncoming),
}

fn trapped(inner: Conn, addr: SocketAddr) -> (TrappedStream, Peer) {
    let state = Arc::new(Mutex::new(TrapState::default()));
    (
        TrappedStream {
            inner,
            state: state.clone(),
        },
        Peer { addr, state },
    )
}

impl Listener for TrapListener {
    type Io = TrappedStream;
    type Addr = Peer;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let listener = match self {
            TrapListener::Plain(l) => l,
            TrapListener::Tls(incoming) => {
                let (tls, addr) = incoming.next().await;
                return trapped(Conn::Tls(Box::new(tls)), addr);
            }
        };
        loop {
            match TcpListener::accept(listener).await {
                Ok((stream, addr)) => {
                    // Small EWS requests and answers: don't wait for Nagle.
                    let _ = stream.set_nodelay(true);
                    return trapped(Conn::Plain(stream), addr);
                }
                Err(err) => {
                    // Out of file descriptors and the like: back off briefly, as axum does.
                    tracing::warn!("accept failed: {err}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        let addr = match self {
            TrapListener::Plain(l) => l.local_addr()?,
            TrapListener::Tls(incoming) => incoming.local,
        };
        Ok(Peer {
            addr,
            state: Arc::default(),
        })
    }
}

impl Connected<IncomingStream<'_, TrapListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TrapListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// A TCP stream that applies its connection's [`Trap`] on write (to the plain HTTP bytes, so
/// a truncation under TLS cuts the body, not a TLS record).
#[derive(Debug)]
pub(crate) struct TrappedStream {
    inner: Conn,
    state: Arc<Mutex<TrapState>>,
}

/// The connection under a [`TrappedStream`].
#[derive(Debug)]
enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Conn {
    fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(s) => s,
            Conn::Tls(s) => s.get_ref().0,
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Feeds `bytes` through the truncation counters; returns how many of them may be written.
fn advance(s: &mut TrapState, bytes: &[u8], body_budget: usize) -> usize {
    let mut allowed = 0;
    for b in bytes {
        if !s.head_done {
            let want = b"\r\n\r\n"[s.head_matched];
            s.head_matched = if *b == want {
                s.head_matched + 1
            } else if *b == b'\r' {
                1
            } else {
                0
            };
            if s.head_matched == 4 {
                s.head_done = true;
            }
        } else if s.body_written < body_budget {
            s.body_written += 1;
        } else {
            break;
        }
        allowed += 1;
    }
    allowed
}

fn broken() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "mock-ews: injected transport fault",
    )
}

impl AsyncRead for TrappedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for TrappedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let s = this.state.lock().unwrap_or_else(|e| e.into_inner());
        match s.trap {
            Trap::None => {
                drop(s);
                Pin::new(&mut this.inner).poll_write(cx, buf)
            }
            Trap::Empty => Poll::Ready(Err(broken())),
            Trap::Reset => {
                let _ = this.inner.tcp().set_zero_linger();
                Poll::Ready(Err(broken()))
            }
            Trap::Truncate { body_bytes } => {
                // Everything up to the end of the head goes out, then body bytes up to the
                // budget; count on a copy first, commit what the socket took.
                let allowed = advance(&mut s.clone(), buf, body_bytes);
                if allowed == 0 {
                    return Poll::Ready(Err(broken()));
                }
                drop(s);
                let r = Pin::new(&mut this.inner).poll_write(cx, &buf[..allowed]);
                if let Poll::Ready(Ok(n)) = r {
                    let mut s = this.state.lock().unwrap_or_else(|e| e.into_inner());
                    advance(&mut s, &buf[..n], body_bytes);
                }
                r
            }
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let trap = self.state.lock().unwrap_or_else(|e| e.into_inner()).trap;
        match trap {
            Trap::Empty | Trap::Reset => Poll::Ready(Err(broken())),
            _ => Pin::new(&mut self.inner).poll_flush(cx),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
