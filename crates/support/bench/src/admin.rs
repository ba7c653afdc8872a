//! A small JSON client for setting the benchmark up (mounts, policies,
//! tokens) over one keep-alive connection. Every failure is one line that
//! names the request and the server's own message.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, StatusCode};
use serde_json::Value;

use crate::load::Connection;

/// A connection to the server under test, with a token.
pub(crate) struct Admin {
    addr: SocketAddr,
    connection: Connection,
    token: Option<String>,
}

/// The answer to one call: status and JSON body (`Null` when empty). No
/// `Debug`: a body can hold a root token or an unseal key (`sys/init`).
pub(crate) struct Answer {
    /// The HTTP status.
    pub status: StatusCode,
    /// The JSON body, or `Null`.
    pub body: Value,
    /// The body's size on the wire, in bytes.
    pub body_bytes: usize,
}

impl Answer {
    /// `body.data.<field>` as a string.
    pub(crate) fn data_str(&self, field: &str) -> Option<&str> {
        self.body.get("data")?.get(field)?.as_str()
    }
}

impl Admin {
    /// Connects to `addr`; fails with one line when nothing answers there.
    pub(crate) async fn connect(addr: SocketAddr, token: Option<String>) -> anyhow::Result<Self> {
        let connection = Connection::open(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach a server at {addr}: {e}"))?;
        Ok(Self {
            addr,
            connection,
            token,
        })
    }

    /// The same server with another token (a new connection).
    pub(crate) async fn with_token(&self, token: &str) -> anyhow::Result<Self> {
        Self::connect(self.addr, Some(token.to_owned())).await
    }

    /// Sends one request and returns whatever the server answered.
    pub(crate) async fn call(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Answer> {
        let request = build(&method, path, &self.addr, self.token.as_deref(), body)?;
        let (status, bytes) = match self.connection.send(request).await {
            Ok(answer) => answer,
            Err(_) => {
                // The server may have closed an idle connection: reconnect once.
                self.connection = Connection::open(self.addr)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot reach a server at {}: {e}", self.addr))?;
                let request = build(&method, path, &self.addr, self.token.as_deref(), body)?;
                self.connection
                    .send(request)
                    .await
                    .map_err(|e| anyhow::anyhow!("{method} /v1/{path}: {e}"))?
            }
        };
        let body_bytes = bytes.len();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                Value::String(String::from_utf8_lossy(&bytes).chars().take(200).collect())
            })
        };
        Ok(Answer {
            status,
            body,
            body_bytes,
        })
    }

    /// Like [`Admin::call`], but a status other than 2xx is an error that
    /// quotes the server's `errors`.
    pub(crate) async fn expect_ok(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Answer> {
        let answer = self.call(method.clone(), path, body).await?;
        if answer.status.is_success() {
            return Ok(answer);
        }
        anyhow::bail!(
            "{method} /v1/{path} answered {}: {}",
            answer.status.as_u16(),
            server_message(&answer.body)
        )
    }

    /// `PUT` (Vault's write) that must succeed.
    pub(crate) async fn write(&mut self, path: &str, body: &Value) -> anyhow::Result<Answer> {
        self.expect_ok(Method::PUT, path, Some(body)).await
    }

    /// `GET` that must succeed.
    pub(crate) async fn read(&mut self, path: &str) -> anyhow::Result<Answer> {
        self.expect_ok(Method::GET, path, None).await
    }
}

/// A request to `/v1/<path>` with the token and JSON body.
fn build(
    method: &Method,
    path: &str,
    addr: &SocketAddr,
    token: Option<&str>,
    body: Option<&Value>,
) -> anyhow::Result<Request<Full<Bytes>>> {
    let mut builder = Request::builder()
        .method(method.clone())
        .uri(format!("/v1/{path}"))
        .header(hyper::header::HOST, addr.to_string());
    if let Some(token) = token {
        builder = builder.header("x-vault-token", token);
    }
    let payload = match body {
        Some(v) => Bytes::from(serde_json::to_vec(v)?),
        None => Bytes::new(),
    };
    Ok(builder.body(Full::new(payload))?)
}

/// The server's `errors`, joined on one line.
pub(crate) fn server_message(body: &Value) -> String {
    match body.get("errors").and_then(Value::as_array) {
        Some(errors) if !errors.is_empty() => errors
            .iter()
            .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join("; ")
            .replace('\n', " "),
        _ => match body {
            Value::Null => "(empty body)".to_owned(),
            other => other.to_string().chars().take(200).collect(),
        },
    }
}
