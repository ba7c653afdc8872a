//! Raw HTTP/1.1 over a `TcpStream`: the corpus needs requests no HTTP
//! client library would send (unnormalised `..` and `%2e%2e` segments,
//! conflicting framing headers, invalid UTF-8 in headers), so every request
//! is written byte for byte and the answer parsed by hand.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What came back for one request.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A status line and the body (decoded when chunked).
    Answer { status: u16, body: String },
    /// The server closed the connection without a status line.
    Closed,
    /// Nothing within the time allowed.
    TimedOut,
}

impl Outcome {
    /// The status code, if there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Answer { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// A short printable description (status and the body's first bytes).
    pub fn describe(&self) -> String {
        match self {
            Outcome::Answer { status, body } => {
                let excerpt: String = body.chars().take(160).collect();
                format!("{status} {}", excerpt.replace('\n', " "))
            }
            Outcome::Closed => "connection closed without an answer".into(),
            Outcome::TimedOut => "no answer in time".into(),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    // Bounded: each round consumes at least one line.
    for _ in 0..100_000 {
        let Some(eol) = find(body, b"\r\n") else {
            break;
        };
        let size_text = String::from_utf8_lossy(&body[..eol]);
        let Ok(size) = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
        else {
            break;
        };
        body = &body[eol + 2..];
        if size == 0 || size > body.len() {
            break;
        }
        out.extend_from_slice(&body[..size]);
        body = body.get(size + 2..).unwrap_or_default();
    }
    out
}

/// Parses the first response in `raw`.
pub fn parse_response(raw: &[u8]) -> Outcome {
    let Some(head_end) = find(raw, b"\r\n\r\n") else {
        return if raw.starts_with(b"HTTP/") {
            status_of(raw).map_or(Outcome::Closed, |status| Outcome::Answer {
                status,
                body: String::new(),
            })
        } else {
            Outcome::Closed
        };
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let Some(status) = status_of(raw) else {
        return Outcome::Closed;
    };
    let rest = &raw[head_end + 4..];
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(rest)
    } else if let Some(len) = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        rest[..len.min(rest.len())].to_vec()
    } else {
        rest.to_vec()
    };
    Outcome::Answer {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn status_of(raw: &[u8]) -> Option<u16> {
    let line_end = find(raw, b"\r\n").unwrap_or(raw.len());
    String::from_utf8_lossy(&raw[..line_end])
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Sends `request` on a fresh connection to `host` (`127.0.0.1:port`) and
/// reads until the server closes it or `limit` passes. Requests carry
/// `Connection: close` (or are malformed), so the server ends the exchange.
pub async fn exchange(host: &str, request: &[u8], limit: Duration) -> Outcome {
    let work = async {
        let mut stream = match TcpStream::connect(host).await {
            Ok(s) => s,
            Err(e) => panic!("connecting to {host}: {e}"),
        };
        // The server may answer (and close) before reading everything, as
        // for an oversize body: a failed write is not a failure.
        let _ = stream.write_all(request).await;
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw).await;
        parse_response(&raw)
    };
    tokio::time::timeout(limit, work)
        .await
        .unwrap_or(Outcome::TimedOut)
}

/// One well-formed request: `Connection: close`, `Content-Length` when
/// there is a body, `X-Vault-Token` when `token` is given.
pub fn request(
    method: &str,
    target: &str,
    host: &str,
    token: Option<&str>,
    body: Option<&[u8]>,
) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    if let Some(t) = token {
        out.push_str(&format!("X-Vault-Token: {t}\r\n"));
    }
    let mut bytes = match body {
        Some(b) => {
            // Vault takes a PATCH only as a JSON merge patch.
            let content_type = if method == "PATCH" {
                "application/merge-patch+json"
            } else {
                "application/json"
            };
            out.push_str(&format!(
                "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                b.len()
            ));
            let mut bytes = out.into_bytes();
            bytes.extend_from_slice(b);
            bytes
        }
        None => {
            out.push_str("\r\n");
            out.into_bytes()
        }
    };
    bytes.shrink_to_fit();
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked_answers() {
        let plain = b"HTTP/1.1 404 Not Found\r\ncontent-length: 13\r\n\r\n{\"errors\":[]}";
        match parse_response(plain) {
            Outcome::Answer { status, body } => {
                assert_eq!(status, 404);
                assert_eq!(body, "{\"errors\":[]}");
            }
            other => panic!("{other:?}"),
        }
        let chunked = b"HTTP/1.1 400 Bad\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(
            parse_response(chunked).describe(),
            "400 abcde",
            "chunked bodies are decoded"
        );
        assert!(matches!(parse_response(b""), Outcome::Closed));
    }
}
