//! Listeners: the accept loop, per-connection facts, and the one handler that
//! serves every `/v1/` path (straight on hyper: no router, since every path
//! goes to the core).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use coffer_core::Core;
use coffer_sdk::cidr::CidrBlock;
use coffer_types::Error;
use futures::FutureExt as _;
use http_body_util::{BodyExt as _, Limited};
use hyper::Method;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::render::HttpResponse;
use crate::{decode, render};

/// Largest request body accepted: 32 MiB, as Vault's default.
pub const MAX_REQUEST_SIZE: usize = 32 * 1024 * 1024;

/// How long a TLS handshake may take before the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

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

/// How a listener serves: TLS, and which proxies may set `X-Forwarded-For`.
#[derive(Clone, Debug, Default)]
pub struct ListenerOptions {
    /// TLS configuration; `None` serves plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// `x_forwarded_for_authorized_addrs`: with any set, a request from one
    /// of them is attributed to the last address in its `X-Forwarded-For`,
    /// and a request carrying that header from anyone else is refused, as
    /// Vault does by default. Empty: the header is ignored.
    pub x_forwarded_for_authorized: Vec<CidrBlock>,
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
        return Err(Error::permission_denied().context(
            "client address not authorized for X-Forwarded-For and rejecting connection",
        ));
    }
    header
        .to_str()
        .ok()
        .and_then(|v| v.split(',').map(str::trim).rfind(|s| !s.is_empty()))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::invalid("malformed X-Forwarded-For header"))
}

/// Answers one HTTP request for `core`: every `/v1/` path goes through
/// [`Core::handle`]. A panic while handling becomes a 500 in Vault's error
/// shape; the connection and the server carry on.
pub async fn respond(
    core: Arc<Core>,
    info: Option<&ConnInfo>,
    request: hyper::Request<Incoming>,
) -> HttpResponse {
    let head = request.method() == Method::HEAD;
    match AssertUnwindSafe(handle(core, info, request))
        .catch_unwind()
        .await
    {
        Ok(response) => response,
        Err(_) => render::error(
            &Error::internal("internal error while handling the request"),
            head,
        ),
    }
}

async fn handle(
    core: Arc<Core>,
    info: Option<&ConnInfo>,
    request: hyper::Request<Incoming>,
) -> HttpResponse {
    let (parts, body) = request.into_parts();
    let head = parts.method == Method::HEAD;
    let body = match Limited::new(body, MAX_REQUEST_SIZE).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            let err = Error::new(
                coffer_types::ErrorKind::PayloadTooLarge,
                "http: request body too large",
            );
            return render::error(&err, head);
        }
        Err(_) => {
            return render::error(&Error::invalid("failed to read the request body"), head);
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
        Err(e) => {
            return render::error(
                &Error::internal(format!("generating request id: {e}")),
                head,
            );
        }
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
                    serve_connection(TokioIo::new(stream), core, info, watcher).await;
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
                    serve_connection(TokioIo::new(tls), core, info, watcher).await;
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

async fn serve_connection<I>(
    io: I,
    core: Arc<Core>,
    info: ConnInfo,
    watcher: hyper_util::server::graceful::Watcher,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let info = Arc::new(info);
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let core = core.clone();
        let info = info.clone();
        async move { Ok::<_, Infallible>(respond(core, Some(&info), req).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30))
        .serve_connection(io, service);
    if let Err(e) = watcher.watch(conn).await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
