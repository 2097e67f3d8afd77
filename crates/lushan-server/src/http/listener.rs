//! The TCP listener the API is served on: the connection's peer address
//! for login limits ([`Peer`]), and a guard on each connection's first
//! request line. hyper refuses a request line over 64 KiB itself, with a
//! bare 414 and an empty body; the guard answers it first, in the API's
//! error shape. Longer URLs than [`super::URI_LIMIT`] but within hyper's
//! limit reach the router, which answers them the same way.

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A first request line longer than this is answered by the guard. Below
/// hyper's own limit (65,534 bytes), so hyper never answers it first.
const LINE_LIMIT: usize = 60 * 1024;

/// The client's address, as `ConnectInfo<Peer>` in a request's extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peer(pub SocketAddr);

/// `tokio::net::TcpListener` with each accepted connection guarded.
pub struct Listener {
    inner: tokio::net::TcpListener,
}

impl Listener {
    pub fn new(inner: tokio::net::TcpListener) -> Listener {
        Listener { inner }
    }
}

impl axum::serve::Listener for Listener {
    type Io = Guarded;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Guarded, SocketAddr) {
        let (io, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        (Guarded { inner: io, state: State::FirstLine { seen: 0 } }, addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl Connected<IncomingStream<'_, Listener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, Listener>) -> Peer {
        Peer(*stream.remote_addr())
    }
}

/// A connection whose first request line is watched.
pub struct Guarded {
    inner: tokio::net::TcpStream,
    state: State,
}

enum State {
    /// Reading the first request line; `seen` bytes of it so far.
    FirstLine { seen: usize },
    /// The first line ended in time: everything passes through.
    Passing,
    /// Writing the 414 from `written` on, then the connection ends.
    Refusing { written: usize },
    /// Refused: reads end, writes are dropped.
    Closed,
}

/// The whole answer to a request line that is too long.
static TOO_LONG: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let body = lushan_api::ErrorBody {
        error: lushan_api::ErrorDetail {
            code: "uri_too_long".into(),
            message: format!(
                "the request's URL is over {} KiB; the limit is {} bytes: send long lists in fewer requests",
                LINE_LIMIT / 1024,
                super::URI_LIMIT
            ),
            request_id: String::new(),
        },
    };
    let json = serde_json::to_string(&body).unwrap_or_default();
    format!(
        "HTTP/1.1 414 URI Too Long\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{json}",
        json.len()
    )
    .into_bytes()
});

impl AsyncRead for Guarded {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                State::Passing => return Pin::new(&mut this.inner).poll_read(cx, buf),
                State::FirstLine { seen } => {
                    let before = buf.filled().len();
                    ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
                    let new = buf.filled().get(before..).unwrap_or_default();
                    let line = match new.iter().position(|b| *b == b'\n') {
                        Some(end) => *seen + end,
                        None => *seen + new.len(),
                    };
                    if line > LINE_LIMIT {
                        // hyper never sees this read: it would answer the
                        // whole line itself, with an empty body.
                        buf.set_filled(before);
                        this.state = State::Refusing { written: 0 };
                        continue;
                    }
                    this.state = if new.contains(&b'\n') { State::Passing } else { State::FirstLine { seen: line } };
                    return Poll::Ready(Ok(()));
                }
                State::Refusing { written } => {
                    while let Some(rest) = TOO_LONG.get(*written..).filter(|rest| !rest.is_empty()) {
                        match ready!(Pin::new(&mut this.inner).poll_write(cx, rest)) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => *written += n,
                        }
                    }
                    let _ = ready!(Pin::new(&mut this.inner).poll_flush(cx));
                    let _ = ready!(Pin::new(&mut this.inner).poll_shutdown(cx));
                    this.state = State::Closed;
                }
                // The end of the stream: hyper drops the connection.
                State::Closed => return Poll::Ready(Ok(())),
            }
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match this.state {
            State::Refusing { .. } | State::Closed => Poll::Ready(Ok(buf.len())),
            State::FirstLine { .. } | State::Passing => Pin::new(&mut this.inner).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match this.state {
            State::Refusing { .. } | State::Closed => Poll::Ready(Ok(bufs.iter().map(|b| b.len()).sum())),
            State::FirstLine { .. } | State::Passing => Pin::new(&mut this.inner).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
