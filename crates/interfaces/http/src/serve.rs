//! Listeners: the accept loop, per-connection facts, and the one handler that
//! serves every `/v1/` path (straight on hyper: no router, since every path
//! goes to the core).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use coffer_core::Core;
use coffer_sdk::cidr::CidrBlock;
use coffer_types::Error;
use futures::FutureExt as _;
use http_body_util::{BodyExt as _, Limited};
use hyper::Method;
use hyper::body::{Body as _, Incoming};
use hyper::header::{self, HeaderValue};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use crate::cors::{self, Cors};
use crate::error::HttpError;
use crate::render::HttpResponse;
use crate::{decode, render};

/// Largest request body accepted: 32 MiB, as Vault's default.
pub const MAX_REQUEST_SIZE: usize = 32 * 1024 * 1024;

/// How long a TLS handshake may take before the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Vault's default `http_read_timeout`: the whole request, headers and
/// body, must arrive within 30 s of its first byte.
pub(crate) const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the request headers may take (and how long an idle keep-alive
/// connection is kept), hyper's header read timeout.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Facts about the connection a request arrived on.
#[derive(Clone, Debug)]
pub struct ConnInfo {
    /// The peer's address.
    pub remote: SocketAddr,
    /// The client certificate chain (DER), if the client presented one.
    pub peer_certificates: Arc<Vec<Vec<u8>>>,
    /// Peers trusted to report the client address in `X-Forwarded-For`
    /// (the listener's `x_forwarded_for_authorized_addrs`).
    pub forwarded_for_trusted: Arc<Vec<CidrBlock>>,
}

/// How a listener serves: TLS, which proxies may set `X-Forwarded-For`, and
/// how long a request may take to arrive.
#[derive(Clone, Debug)]
pub struct ListenerOptions {
    /// TLS configuration; `None` serves plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// `x_forwarded_for_authorized_addrs`: with any set, a request from one
    /// of them is attributed to the last address in its `X-Forwarded-For`,
    /// and a request carrying that header from anyone else is refused, as
    /// Vault does by default. Empty: the header is ignored.
    pub x_forwarded_for_authorized: Vec<CidrBlock>,
    /// `http_read_timeout`: the longest a whole request (headers and body)
    /// may take to arrive, counted from its first byte. A request whose
    /// body is still incomplete then is answered 408 and its connection
    /// closed; it never reaches the core. Zero: no limit (as in Vault).
    pub read_timeout: Duration,
}

impl Default for ListenerOptions {
    /// Plain HTTP, no trusted proxies, Vault's 30 s read timeout.
    fn default() -> Self {
        Self {
            tls: None,
            x_forwarded_for_authorized: Vec::new(),
            read_timeout: DEFAULT_READ_TIMEOUT,
        }
    }
}

/// The client address a request is attributed to, honouring
/// `X-Forwarded-For` from trusted proxies.
fn client_address(info: &ConnInfo, headers: &hyper::HeaderMap) -> Result<std::net::IpAddr, Error> {
    let peer = info.remote.ip();
    if info.forwarded_for_trusted.is_empty() {
        return Ok(peer);
    }
    let Some(header) = headers.get("x-forwarded-for") else {
        return Ok(peer);
    };
    if !info.forwarded_for_trusted.iter().any(|b| b.contains(peer)) {
        return Err(HttpError::ForwardedForNotAuthorized.into());
    }
    header
        .to_str()
        .ok()
        .and_then(|v| v.split(',').map(str::trim).rfind(|s| !s.is_empty()))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| HttpError::MalformedForwardedFor.into())
}

/// Answers one HTTP request for `core`: every `/v1/` path goes through
/// [`Core::handle`]. A panic while handling becomes a 500 in Vault's error
/// shape; the connection and the server carry on. A body declared larger
/// than [`MAX_REQUEST_SIZE`] is refused (413) before any of it is read. No
/// read deadline applies here; the listeners of [`serve_with`] set one.
pub async fn respond(
    core: Arc<Core>,
    info: Option<&ConnInfo>,
    request: hyper::Request<Incoming>,
) -> HttpResponse {
    respond_by(core, info, request, None).await
}

/// [`respond`], with the body to be read in full by `deadline`.
async fn respond_by(
    core: Arc<Core>,
    info: Option<&ConnInfo>,
    request: hyper::Request<Incoming>,
    deadline: Option<Instant>,
) -> HttpResponse {
    let head = request.method() == Method::HEAD;
    match AssertUnwindSafe(handle(core, info, request, deadline))
        .catch_unwind()
        .await
    {
        Ok(response) => response,
        Err(_) => render::error(&HttpError::Panicked.into(), head),
    }
}

/// A refusal sent before the body was read in full: the connection is
/// closed after it, as its unread rest cannot be skipped safely.
fn refuse_and_close(err: &Error, status: Option<hyper::StatusCode>, head: bool) -> HttpResponse {
    let mut resp = render::error(err, head);
    if let Some(status) = status {
        *resp.status_mut() = status;
    }
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// 408 for a request that did not arrive within `http_read_timeout`.
fn read_timed_out(head: bool) -> HttpResponse {
    refuse_and_close(
        &HttpError::ReadTimedOut.into(),
        Some(hyper::StatusCode::REQUEST_TIMEOUT),
        head,
    )
}

/// The largest refused body whose rest is read and thrown away after the
/// 413 (see [`discard`]); a larger one closes the connection at once.
const DISCARD_LIMIT: u64 = 2 * MAX_REQUEST_SIZE as u64;

/// The longest the rest of a refused body is read for, when the listener
/// sets no earlier read deadline.
const DISCARD_TIME: Duration = Duration::from_secs(10);

/// Reads the rest of a refused body and drops it, in the background, until
/// it ends, [`DISCARD_LIMIT`] bytes have gone by, or the request's read
/// deadline (at most [`DISCARD_TIME`] from now) passes. Nothing is kept;
/// when it stops early the connection closes, as the unread rest cannot be
/// skipped.
fn discard(mut body: Incoming, deadline: Option<Instant>) {
    let until = Instant::now() + DISCARD_TIME;
    let until = deadline.map_or(until, |d| d.min(until));
    tokio::spawn(async move {
        let drain = async {
            let mut seen: u64 = 0;
            while let Some(Ok(frame)) = body.frame().await {
                if let Some(data) = frame.data_ref() {
                    seen = seen.saturating_add(data.len() as u64);
                    if seen > DISCARD_LIMIT {
                        break;
                    }
                }
            }
        };
        let _ = tokio::time::timeout_at(until, drain).await;
    });
}

fn too_large() -> Error {
    HttpError::TooLarge.into()
}

/// Applies CORS (see [`crate::cors`]) around [`handle_request`]: a refused
/// origin or a preflight is answered here, its body left unread (thrown
/// away as a refused body's is); an allowed origin's response is marked
/// readable by it.
async fn handle(
    core: Arc<Core>,
    info: Option<&ConnInfo>,
    request: hyper::Request<Incoming>,
    deadline: Option<Instant>,
) -> HttpResponse {
    let head = request.method() == Method::HEAD;
    let config = core.cors();
    match cors::decide(config.as_deref(), request.method(), request.headers(), head) {
        Cors::Off => handle_request(core, info, request, deadline).await,
        Cors::Answered(mut resp) => {
            let body = request.into_body();
            if body.size_hint().lower() <= DISCARD_LIMIT {
                discard(body, deadline);
            } else {
                resp.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            resp
        }
        Cors::Allowed(origin) => {
            let mut resp = handle_request(core, info, request, deadline).await;
            cors::allow_origin(&mut resp, origin);
            resp
        }
    }
}

async fn handle_request(
    core: Arc<Core>,
    info: Option<&ConnInfo>,
    request: hyper::Request<Incoming>,
    deadline: Option<Instant>,
) -> HttpResponse {
    let (parts, body) = request.into_parts();
    let head = parts.method == Method::HEAD;
    // A declared Content-Length is known exactly: refuse it unread. A
    // client usually sends its body before it reads the answer: the rest of
    // a body not far over the limit is thrown away (bounded in bytes and
    // time) so that it reads the 413 rather than a broken pipe; a larger
    // one closes the connection at once.
    let declared = body.size_hint().lower();
    if usize::try_from(declared).map_or(true, |n| n > MAX_REQUEST_SIZE) {
        if declared <= DISCARD_LIMIT {
            discard(body, deadline);
            return render::error(&too_large(), head);
        }
        return refuse_and_close(&too_large(), None, head);
    }
    let collect = Limited::new(body, MAX_REQUEST_SIZE).collect();
    let collected = match deadline {
        // Headers that took the whole timeout leave the body no time (as
        // Go's ReadTimeout, which covers both, would).
        Some(deadline) if Instant::now() >= deadline => return read_timed_out(head),
        Some(deadline) => match tokio::time::timeout_at(deadline, collect).await {
            Ok(collected) => collected,
            Err(_) => return read_timed_out(head),
        },
        None => collect.await,
    };
    let body = match collected {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return refuse_and_close(&too_large(), None, head);
        }
        Err(_) => {
            return render::error(&HttpError::BodyRead.into(), head);
        }
    };
    let mut req = match decode::decode(&parts.method, &parts.uri, &parts.headers, &body) {
        Ok(r) => r,
        Err(e) => return render::error(&e, head),
    };
    drop(body);
    if let Some(info) = info {
        match client_address(info, &parts.headers) {
            Ok(addr) => req.client_addr = Some(addr),
            Err(e) => return render::error(&e, head),
        }
        req.peer_certificates = info.peer_certificates.as_ref().clone();
    }
    req.id = match coffer_crypto::random_uuid() {
        Ok(id) => id,
        Err(e) => return render::error(&HttpError::RequestId(e).into(), head),
    };
    let id = req.id.clone();
    match core.handle(req).await {
        Ok(resp) => render::response(&id, resp, head),
        Err(e) => render::error(&e, head),
    }
}

/// Serves `core` on `listener` until `shutdown` resolves, then stops accepting
/// and waits (up to 10 s) for in-flight requests. With `tls`, every connection
/// is TLS; the client certificate, if any, reaches the core with the request.
pub async fn serve(
    listener: TcpListener,
    core: Arc<Core>,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let options = ListenerOptions {
        tls,
        ..ListenerOptions::default()
    };
    serve_with(listener, core, options, shutdown).await
}

/// [`serve`] with every listener option.
pub async fn serve_with(
    listener: TcpListener,
    core: Arc<Core>,
    options: ListenerOptions,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let acceptor = options.tls.map(TlsAcceptor::from);
    let trusted = Arc::new(options.x_forwarded_for_authorized);
    let read_timeout = Some(options.read_timeout).filter(|t| !t.is_zero());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let core = core.clone();
        let acceptor = acceptor.clone();
        let trusted = trusted.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            match acceptor {
                None => {
                    let info = ConnInfo {
                        remote,
                        peer_certificates: Arc::new(Vec::new()),
                        forwarded_for_trusted: trusted,
                    };
                    serve_connection(stream, core, info, read_timeout, watcher).await;
                }
                Some(acceptor) => {
                    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(tls)) => tls,
                        Ok(Err(e)) => {
                            tracing::debug!(%remote, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%remote, "TLS handshake timed out");
                            return;
                        }
                    };
                    let certs = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .map(|c| c.iter().map(|d| d.as_ref().to_vec()).collect())
                        .unwrap_or_default();
                    let info = ConnInfo {
                        remote,
                        peer_certificates: Arc::new(certs),
                        forwarded_for_trusted: trusted,
                    };
                    serve_connection(tls, core, info, read_timeout, watcher).await;
                }
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(10), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish within 10s of shutdown");
    }
    Ok(())
}

async fn serve_connection<S>(
    stream: S,
    core: Arc<Core>,
    info: ConnInfo,
    read_timeout: Option<Duration>,
    watcher: hyper_util::server::graceful::Watcher,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let info = Arc::new(info);
    let clock = Arc::new(RequestClock::default());
    let io = TokioIo::new(Clocked {
        inner: stream,
        clock: clock.clone(),
        read_timeout,
        headers_deadline: None,
    });
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let core = core.clone();
        let info = info.clone();
        let reading = RequestReading::begin(clock.clone());
        let deadline = read_timeout.and_then(|t| reading.started.checked_add(t));
        async move {
            let response = respond_by(core, Some(&info), req, deadline).await;
            drop(reading);
            Ok::<_, Infallible>(response)
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(io, service);
    if let Err(e) = watcher.watch(conn).await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// When the request being received on a connection started: the arrival
/// of its first byte, so that `http_read_timeout` covers the headers as
/// well as the body, as Vault's (Go's) `ReadTimeout` does.
#[derive(Debug, Default)]
struct RequestClock {
    state: Mutex<ClockState>,
}

#[derive(Debug, Default)]
struct ClockState {
    /// When the first byte after the last request arrived.
    first_byte: Option<Instant>,
    /// A request is being handled: the bytes read now are its body.
    handling: bool,
}

impl RequestClock {
    fn lock(&self) -> std::sync::MutexGuard<'_, ClockState> {
        // The state is two plain fields, valid whatever a panicking holder
        // did, so a poisoned lock is used as is.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// When the request whose headers are being read must have arrived:
    /// `None` between requests (nothing read yet) and while one is handled
    /// (its body's deadline is the handler's).
    fn headers_deadline(&self, read_timeout: Duration) -> Option<Instant> {
        let state = self.lock();
        state
            .first_byte
            .filter(|_| !state.handling)
            .and_then(|t| t.checked_add(read_timeout))
    }

    /// Bytes arrived: between requests, they start the next one.
    fn saw_bytes(&self) {
        let mut state = self.lock();
        if !state.handling && state.first_byte.is_none() {
            state.first_byte = Some(Instant::now());
        }
    }
}

/// A request being handled on a connection; dropping it (the response is
/// ready, or the connection is gone) lets the next bytes start a request.
struct RequestReading {
    clock: Arc<RequestClock>,
    /// When the request's first byte arrived (now, when its bytes were
    /// read together with the previous request's, pipelined).
    started: Instant,
}

impl RequestReading {
    fn begin(clock: Arc<RequestClock>) -> Self {
        let started = {
            let mut state = clock.lock();
            state.handling = true;
            state.first_byte.take().unwrap_or_else(Instant::now)
        };
        Self { clock, started }
    }
}

impl Drop for RequestReading {
    fn drop(&mut self) {
        let mut state = self.clock.lock();
        state.handling = false;
        state.first_byte = None;
    }
}

/// A connection's stream, noting in a [`RequestClock`] when bytes arrive,
/// and failing a read once a request's headers have taken the whole read
/// timeout (hyper then closes the connection, as Go's server does when its
/// `ReadTimeout` expires before the headers are in).
struct Clocked<S> {
    inner: S,
    clock: Arc<RequestClock>,
    read_timeout: Option<Duration>,
    /// Wakes the connection when the headers being read run out of time.
    headers_deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S> Clocked<S> {
    /// Whether the headers being read have run out of time; if they have
    /// not, arranges for `cx` to be woken when they do.
    fn headers_timed_out(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(deadline) = self
            .read_timeout
            .and_then(|t| self.clock.headers_deadline(t))
        else {
            return false;
        };
        let sleep = self
            .headers_deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if sleep.deadline() != deadline {
            sleep.as_mut().reset(deadline);
        }
        sleep.as_mut().poll(cx).is_ready()
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Clocked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        match polled {
            Poll::Ready(Ok(())) if buf.filled().len() > before => self.clock.saw_bytes(),
            Poll::Pending if self.headers_timed_out(cx) => {
                return Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "request headers not received within http_read_timeout",
                )));
            }
            _ => {}
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Clocked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_starts_at_its_first_byte_and_its_body_moves_nothing() {
        let clock = Arc::new(RequestClock::default());
        // Between requests the headers have no deadline.
        assert_eq!(clock.headers_deadline(Duration::from_secs(2)), None);
        // Nothing read yet (pipelined bytes): the request starts now.
        let before = Instant::now();
        let reading = RequestReading::begin(clock.clone());
        assert!(reading.started >= before);
        // Body bytes while the request is handled do not start another.
        clock.saw_bytes();
        assert!(clock.lock().first_byte.is_none());
        drop(reading);
        // The first byte after it starts the next request, and later bytes
        // (the rest of its headers) keep that start.
        clock.saw_bytes();
        let first = clock.lock().first_byte.unwrap();
        clock.saw_bytes();
        assert_eq!(clock.lock().first_byte, Some(first));
        let t = Duration::from_secs(2);
        assert_eq!(clock.headers_deadline(t), Some(first + t));
        let reading = RequestReading::begin(clock.clone());
        assert_eq!(reading.started, first);
        assert!(clock.lock().handling);
        // The body's deadline is the handler's, not the reader's.
        assert_eq!(clock.headers_deadline(t), None);
        drop(reading);
        let state = clock.lock();
        assert!(!state.handling && state.first_byte.is_none());
    }

    #[test]
    fn the_default_read_timeout_is_vaults() {
        assert_eq!(
            ListenerOptions::default().read_timeout,
            Duration::from_secs(30)
        );
    }
}
