//! The accept loop: a cap on concurrent connections, a header-read timeout, an idle keep-alive
//! timeout, and a graceful shutdown.
//!
//! - At most [`ConnectionLimits::max_connections`] connections are served at once. A connection
//!   past the cap is answered `503 {"code": "too_many_connections", …}` with `Connection: close`
//!   and closed, without reading its request.
//! - A request's header must arrive within [`ConnectionLimits::header_read_timeout`] of its first
//!   byte (of the accept, for a connection's first request); otherwise the connection is closed.
//! - A connection with no request in flight and no byte sent either way for
//!   [`ConnectionLimits::idle_timeout`] is closed.
//! - The errors the HTTP parser answers by itself (400 for an unreadable request, 414 for a URI
//!   too long, 431 for headers too large) get the same JSON error body as every other error.
//! - On shutdown the listener closes at once, idle connections close, and requests in flight are
//!   answered before [`serve`] returns.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

use crate::error::ApiError;

/// The bounds on connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// The longest a request's header may take to arrive, from its first byte.
    pub header_read_timeout: Duration,
    /// The longest a connection may stay open with nothing to do.
    pub idle_timeout: Duration,
    /// The most connections served at once.
    pub max_connections: usize,
}

/// The default of [`ConnectionLimits::header_read_timeout`].
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The default of [`ConnectionLimits::idle_timeout`].
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(75);
/// The default of [`ConnectionLimits::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// The most connections past the cap that are being answered at once; beyond it they are
/// closed without an answer.
const MAX_REFUSALS: usize = 256;
/// How long a refused connection is given to take its answer.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);
/// The pause after an accept error (e.g. out of file descriptors) before accepting again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `router` on `listener` within `limits` until `signal` completes, then stops accepting,
/// closes idle connections and returns once the requests in flight are answered.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    signal: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let max = limits.max_connections.clamp(1, u32::MAX as usize);
    let permits = Arc::new(Semaphore::new(max));
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut signal = pin!(signal);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut signal => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Errors of one connection (reset before it was accepted) do not concern
                    // the listener; others (out of file descriptors) get a short pause.
                    if !is_connection_error(&e) {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                    continue;
                }
            },
        };
        match Arc::clone(&permits).try_acquire_owned() {
            Ok(permit) => {
                let router = router.clone();
                let stop = stop_rx.clone();
                tokio::spawn(async move {
                    serve_connection(stream, peer, router, limits, stop).await;
                    drop(permit);
                });
            }
            Err(_) => {
                tracing::debug!("connection refused: too many connections");
                if let Ok(slot) = Arc::clone(&refusals).try_acquire_owned() {
                    tokio::spawn(async move {
                        refuse(stream).await;
                        drop(slot);
                    });
                }
            }
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a permit until it ends.
    let _ = permits.acquire_many(max as u32).await;
    Ok(())
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    )
}

/// The full answer sent to a connection past the cap.
fn refusal() -> Vec<u8> {
    raw_error_response(&ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "too_many_connections",
        "the server has too many connections open, try again shortly",
    ))
}

/// An error answer as HTTP/1.1 bytes, closing the connection.
fn raw_error_response(err: &ApiError) -> Vec<u8> {
    let body = serde_json::to_string(&err.body()).unwrap_or_default();
    let status = err.status();
    let retry = err
        .retry_after()
        .map(|s| format!("retry-after: {s}\r\n"))
        .unwrap_or_default();
    format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{retry}connection: close\r\n\r\n{body}",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len(),
    )
    .into_bytes()
}

/// Answers a connection past the cap and closes it. What the client sent is read and dropped
/// for a moment, so that closing does not reset the connection before the answer is read.
async fn refuse(mut stream: TcpStream) {
    let _ = tokio::time::timeout(REFUSAL_LINGER, async {
        stream.write_all(&refusal()).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 1024];
        let mut total = 0usize;
        while total < 64 * 1024 {
            let n = stream.read(&mut sink).await?;
            if n == 0 {
                break;
            }
            total += n;
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
}

/// What a connection is doing, as its reads, writes and requests report it.
#[derive(Debug)]
struct Activity {
    /// Requests whose header has arrived and whose answer is not complete.
    in_flight: usize,
    /// When the first byte of a header still incomplete arrived.
    header_since: Option<Instant>,
    /// The last read, write or answer.
    last: Instant,
}

type SharedActivity = Arc<Mutex<Activity>>;

fn lock(a: &SharedActivity) -> std::sync::MutexGuard<'_, Activity> {
    a.lock().unwrap_or_else(PoisonError::into_inner)
}

/// When to look at the connection next, or `None` when it is to be closed now.
fn next_check(a: &SharedActivity, limits: &ConnectionLimits, now: Instant) -> Option<Instant> {
    // A deadline can come nearer as the connection moves between waiting for a header and
    // idling, so it is looked at again at least this often.
    let recheck = now + limits.header_read_timeout.min(limits.idle_timeout);
    let a = lock(a);
    if a.in_flight > 0 {
        return Some(recheck);
    }
    let deadline = match a.header_since {
        Some(since) => since + limits.header_read_timeout,
        None => a.last + limits.idle_timeout,
    };
    (deadline > now).then_some(deadline.min(recheck))
}

/// Counts a request as in flight until dropped.
struct InFlight(SharedActivity);

impl InFlight {
    fn start(a: &SharedActivity) -> Self {
        let mut g = lock(a);
        g.in_flight += 1;
        g.header_since = None;
        drop(g);
        InFlight(Arc::clone(a))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut g = lock(&self.0);
        g.in_flight = g.in_flight.saturating_sub(1);
        g.last = Instant::now();
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
) {
    let now = Instant::now();
    let activity = Arc::new(Mutex::new(Activity {
        in_flight: 0,
        header_since: Some(now),
        last: now,
    }));
    let io = TokioIo::new(TrackedIo {
        inner: stream,
        activity: Arc::clone(&activity),
        replacing: None,
    });
    let service_activity = Arc::clone(&activity);
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let guard = InFlight::start(&service_activity);
        let mut req = req.map(Body::new);
        req.extensions_mut().insert(ConnectInfo(peer));
        let router = router.clone();
        async move {
            let res = router.oneshot(req).await;
            drop(guard);
            res
        }
    });
    let builder = Builder::new(TokioExecutor::new());
    let mut conn = pin!(builder.serve_connection_with_upgrades(io, service));
    let mut stopping = *stop.borrow();
    if stopping {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        let Some(check) = next_check(&activity, &limits, Instant::now()) else {
            tracing::debug!("connection closed: header or idle timeout");
            return;
        };
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            changed = stop.changed(), if !stopping => {
                let _ = changed;
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep_until(check) => {}
        }
    }
}

/// The connection's socket, reporting reads and writes to its [`Activity`], and giving the
/// parser's own error answers a JSON body.
struct TrackedIo {
    inner: TcpStream,
    activity: SharedActivity,
    replacing: Option<Replacement>,
}

/// An answer written in place of the one the HTTP parser wrote.
struct Replacement {
    bytes: Vec<u8>,
    written: usize,
    /// The length of the parser's answer, reported as written once ours is.
    replaces: usize,
}

impl AsyncRead for TrackedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            let now = Instant::now();
            let mut a = lock(&self.activity);
            a.last = now;
            if a.in_flight == 0 && a.header_since.is_none() {
                a.header_since = Some(now);
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for TrackedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.replacing.is_none()
            && let Some(err) = parser_error(buf)
        {
            self.replacing = Some(Replacement {
                bytes: raw_error_response(&err),
                written: 0,
                replaces: buf.len(),
            });
        }
        let this = &mut *self;
        if let Some(r) = &mut this.replacing {
            while r.written < r.bytes.len() {
                let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &r.bytes[r.written..]))?;
                if n == 0 {
                    return Poll::Ready(Ok(0));
                }
                r.written += n;
            }
            let replaces = r.replaces;
            this.replacing = None;
            lock(&this.activity).last = Instant::now();
            return Poll::Ready(Ok(replaces));
        }
        let n = ready!(Pin::new(&mut this.inner).poll_write(cx, buf))?;
        lock(&this.activity).last = Instant::now();
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The error the HTTP parser answers when `buf` is its bodiless answer to a request it could not
/// read (400, 414 or 431; every answer of the service itself has a `content-type`).
fn parser_error(buf: &[u8]) -> Option<ApiError> {
    let rest = buf.strip_prefix(b"HTTP/1.")?;
    let status = rest.get(2..5)?;
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = buf.get(..head_end)?.to_ascii_lowercase();
    if head.windows(13).any(|w| w == b"content-type:") {
        return None;
    }
    let err = match status {
        b"400" => ApiError::bad_request("the request could not be read as HTTP"),
        b"414" => ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            "the request URI is too long",
        ),
        b"431" => ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            "the request headers are too large",
        ),
        _ => return None,
    };
    Some(err)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_parsers_bare_errors_are_recognised_and_answers_with_a_type_are_not() {
        let bare =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let err = parser_error(bare).unwrap();
        assert_eq!(err.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        assert!(parser_error(ours).is_none());
        assert!(parser_error(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
        let raw = String::from_utf8(raw_error_response(&err)).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 "));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["code"], "headers_too_large");
    }
}
