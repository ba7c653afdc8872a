//! The ceiling: a bare hyper server that answers every request with the same
//! JSON body, as large as Coffer's answer to a KV v2 read. It runs in a child
//! process of its own, like the Coffer server, so both are driven the same
//! way on the same cores: what the machine can do over HTTP/1.1 at most.

use std::convert::Infallible;
use std::process::Stdio;

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};

use crate::target::ChildServer;

/// A JSON object of exactly `size` bytes (at least `{"data":""}`).
pub(crate) fn json_body(size: usize) -> Bytes {
    const EMPTY: &str = r#"{"data":""}"#;
    let padding = size.saturating_sub(EMPTY.len());
    let mut body = String::with_capacity(EMPTY.len() + padding);
    body.push_str(r#"{"data":""#);
    body.extend(std::iter::repeat_n('x', padding));
    body.push_str(r#""}"#);
    Bytes::from(body)
}

/// Serves the ceiling on 127.0.0.1 (a free port) until the process is
/// killed; prints `listening on ADDR` first. Runs on a multi-threaded tokio
/// runtime with one worker per core, as the Coffer server does.
pub(crate) fn serve(body_bytes: usize) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the ceiling server's runtime")?;
    runtime.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the ceiling server")?;
        println!("listening on {}", listener.local_addr()?);
        let body = json_body(body_bytes);
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(_) => continue,
            };
            let _ = stream.set_nodelay(true);
            let body = body.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_req: Request<_>| {
                    let mut response = Response::new(Full::new(body.clone()));
                    response
                        .headers_mut()
                        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                    async move { Ok::<_, Infallible>(response) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

/// Starts the ceiling server as a child of this process and waits for its
/// address.
pub(crate) async fn spawn(body_bytes: usize) -> anyhow::Result<ChildServer> {
    let exe = std::env::current_exe().context("locating the coffer-bench binary")?;
    let mut child: Child = Command::new(exe)
        .arg("ceiling-server")
        .arg("--body-bytes")
        .arg(body_bytes.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("starting the ceiling server")?;
    let stdout = child
        .stdout
        .take()
        .context("the ceiling server has no standard output")?;
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(std::time::Duration::from_secs(10), lines.next_line())
        .await
        .context("the ceiling server did not start within 10 s")?
        .context("reading the ceiling server's address")?
        .context("the ceiling server exited before listening")?;
    let addr = line
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .with_context(|| format!("unexpected line from the ceiling server: {line}"))?;
    Ok(ChildServer::new(child, addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_have_the_exact_size_and_are_json() {
        for size in [11, 12, 100, 1352, 4096] {
            let body = json_body(size);
            assert_eq!(body.len(), size);
            let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert!(parsed["data"].is_string());
        }
        assert_eq!(json_body(0).as_ref(), br#"{"data":""}"#);
    }
}
