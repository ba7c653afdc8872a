//! The scenarios and the requests each one sends.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use clap::ValueEnum;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request};

use crate::load::RequestSource;
use crate::setup::Fixture;

/// One measurement the benchmark can make.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub(crate) enum Scenario {
    /// The server's resident memory when idle, just after it started.
    Idle,
    /// Single-writer `fdatasync` rate of the data directory's disk.
    Fsync,
    /// A bare hyper server answering a body the size of a KV v2 read.
    Ceiling,
    /// KV v2 reads of one 1 KiB secret.
    Kv2Read,
    /// `auth/token/lookup-self`.
    TokenLookupSelf,
    /// Transit encryption of 1 KiB (needs a transit engine).
    TransitEncrypt,
    /// 90% reads, 10% writes.
    Kv2Mixed,
    /// KV v2 writes of 1 KiB, each to a new key.
    Kv2Write,
    /// AppRole logins (each mints a service token with a lease).
    ApproleLogin,
    /// Writes `--entries` KV entries and creates as many leases (logins).
    Fill,
    /// Restarts the server and times unseal to first served read.
    Unseal,
}

impl Scenario {
    /// Whether the scenario is repeated in every round (`--rounds`); the
    /// others run once: `idle` first, `fill` and `unseal` last.
    pub(crate) fn per_round(self) -> bool {
        !matches!(self, Scenario::Idle | Scenario::Fill | Scenario::Unseal)
    }

    /// The name used on the command line and in reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Scenario::Idle => "idle",
            Scenario::Fsync => "fsync",
            Scenario::Ceiling => "ceiling",
            Scenario::Kv2Read => "kv2-read",
            Scenario::Kv2Write => "kv2-write",
            Scenario::Kv2Mixed => "kv2-mixed",
            Scenario::TokenLookupSelf => "token-lookup-self",
            Scenario::ApproleLogin => "approle-login",
            Scenario::TransitEncrypt => "transit-encrypt",
            Scenario::Fill => "fill",
            Scenario::Unseal => "unseal",
        }
    }
}

/// 1 KiB of printable text, the size of every secret the benchmark writes.
pub(crate) fn kib_value() -> String {
    (0..1024)
        .map(|i| char::from(b'a' + u8::try_from(i % 26).unwrap_or(0)))
        .collect()
}

/// Shared pieces of every request to one server.
#[derive(Clone)]
pub(crate) struct RequestParts {
    host: HeaderValue,
    token: HeaderValue,
}

impl RequestParts {
    /// Requests to `addr` carrying `token`.
    pub(crate) fn new(addr: SocketAddr, token: &str) -> anyhow::Result<Self> {
        Ok(Self {
            host: HeaderValue::from_str(&addr.to_string())?,
            token: HeaderValue::from_str(token)?,
        })
    }

    fn build(&self, method: Method, uri: String, body: Option<&Bytes>) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(body.cloned().unwrap_or_default()));
        *request.method_mut() = method;
        // A path built from fixed parts and numbers always parses.
        *request.uri_mut() = uri.parse().unwrap_or_default();
        let headers = request.headers_mut();
        headers.insert(HOST, self.host.clone());
        headers.insert("x-vault-token", self.token.clone());
        if body.is_some() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        request
    }
}

/// A `GET` of one fixed path, for ever.
pub(crate) struct FixedGet {
    parts: RequestParts,
    path: String,
}

impl FixedGet {
    /// Reads `path` (`/v1/...`) with the fixture's token.
    pub(crate) fn new(parts: RequestParts, path: &str) -> Self {
        Self {
            parts,
            path: path.to_owned(),
        }
    }
}

impl RequestSource for FixedGet {
    fn request(&self, _conn: usize, _seq: u64) -> Option<Request<Full<Bytes>>> {
        Some(self.parts.build(Method::GET, self.path.clone(), None))
    }
}

/// KV v2 traffic: reads of the fixture's secret and writes of 1 KiB to new
/// keys, `writes_per_10` of every 10 requests being writes.
pub(crate) struct KvTraffic {
    parts: RequestParts,
    read_path: String,
    write_prefix: String,
    write_body: Bytes,
    writes_per_10: u64,
}

impl KvTraffic {
    /// Traffic against the fixture's KV mount.
    pub(crate) fn new(fixture: &Fixture, parts: RequestParts, writes_per_10: u64) -> Self {
        Self {
            parts,
            read_path: fixture.read_uri(),
            write_prefix: fixture.write_uri_prefix(&format!("w{}", std::process::id())),
            write_body: kv_write_body(),
            writes_per_10: writes_per_10.min(10),
        }
    }
}

/// `{"data":{"value":"<1 KiB>"}}`.
fn kv_write_body() -> Bytes {
    Bytes::from(serde_json::json!({"data": {"value": kib_value()}}).to_string())
}

impl RequestSource for KvTraffic {
    fn request(&self, conn: usize, seq: u64) -> Option<Request<Full<Bytes>>> {
        // Writes spread evenly: with 1 in 10, the 10th, 20th, ... request.
        let write = (seq % 10) >= 10 - self.writes_per_10;
        Some(if write {
            let uri = format!("{}{conn}-{seq}", self.write_prefix);
            self.parts.build(Method::POST, uri, Some(&self.write_body))
        } else {
            self.parts.build(Method::GET, self.read_path.clone(), None)
        })
    }
}

/// Exactly `total` KV writes to keys `fill/0` .. `fill/<total-1>`, shared
/// by every connection.
pub(crate) struct KvFill {
    parts: RequestParts,
    prefix: String,
    body: Bytes,
    next: AtomicU64,
    total: u64,
}

impl KvFill {
    /// `total` writes under the fixture's mount.
    pub(crate) fn new(fixture: &Fixture, parts: RequestParts, total: u64) -> Self {
        Self {
            parts,
            prefix: fixture.write_uri_prefix("fill"),
            body: kv_write_body(),
            next: AtomicU64::new(0),
            total,
        }
    }
}

impl RequestSource for KvFill {
    fn request(&self, _conn: usize, _seq: u64) -> Option<Request<Full<Bytes>>> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        (n < self.total).then(|| {
            self.parts.build(
                Method::POST,
                format!("{}{n}", self.prefix),
                Some(&self.body),
            )
        })
    }
}

/// AppRole logins with the fixture's role and secret id, without a token;
/// `limit` logins in all, or unlimited.
pub(crate) struct Logins {
    parts: RequestParts,
    body: Bytes,
    sent: AtomicU64,
    limit: Option<u64>,
}

impl Logins {
    /// Logins as `role_id` / `secret_id`.
    pub(crate) fn new(
        addr: SocketAddr,
        role_id: &str,
        secret_id: &str,
        limit: Option<u64>,
    ) -> anyhow::Result<Self> {
        let body = serde_json::json!({"role_id": role_id, "secret_id": secret_id});
        Ok(Self {
            parts: RequestParts::new(addr, "")?,
            body: Bytes::from(body.to_string()),
            sent: AtomicU64::new(0),
            limit,
        })
    }
}

impl RequestSource for Logins {
    fn request(&self, _conn: usize, _seq: u64) -> Option<Request<Full<Bytes>>> {
        if let Some(limit) = self.limit
            && self.sent.fetch_add(1, Ordering::Relaxed) >= limit
        {
            return None;
        }
        let mut request = self.parts.build(
            Method::POST,
            "/v1/auth/approle/login".to_owned(),
            Some(&self.body),
        );
        request.headers_mut().remove("x-vault-token");
        Some(request)
    }
}

/// Transit encryption of 1 KiB with the fixture's key.
pub(crate) struct TransitEncrypt {
    parts: RequestParts,
    body: Bytes,
}

impl TransitEncrypt {
    /// Encrypts with key `coffer-bench` of the `transit/` mount.
    pub(crate) fn new(parts: RequestParts) -> Self {
        // base64 of 768 bytes is exactly 1 KiB of text.
        let plaintext = "QUJD".repeat(256);
        let body = serde_json::json!({ "plaintext": plaintext });
        Self {
            parts,
            body: Bytes::from(body.to_string()),
        }
    }
}

impl RequestSource for TransitEncrypt {
    fn request(&self, _conn: usize, _seq: u64) -> Option<Request<Full<Bytes>>> {
        Some(self.parts.build(
            Method::POST,
            "/v1/transit/encrypt/coffer-bench".to_owned(),
            Some(&self.body),
        ))
    }
}

/// Shares one source between the load generator's tasks.
pub(crate) fn shared<S: RequestSource>(source: S) -> Arc<dyn RequestSource> {
    Arc::new(source)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts() -> RequestParts {
        RequestParts::new("127.0.0.1:8200".parse().unwrap(), "hvs.test").unwrap()
    }

    #[test]
    fn names_match_the_command_line() {
        for s in Scenario::value_variants() {
            let parsed = Scenario::from_str(s.name(), false).unwrap();
            assert_eq!(parsed, *s);
        }
        assert!(Scenario::from_str("kv3-read", false).is_err());
    }

    #[test]
    fn the_secret_is_one_kib() {
        assert_eq!(kib_value().len(), 1024);
        assert_eq!(TransitEncrypt::new(parts()).body.len() - 16, 1024);
    }

    #[test]
    fn mixed_traffic_is_one_write_in_ten() {
        let fixture = Fixture::for_tests();
        let mix = KvTraffic::new(&fixture, parts(), 1);
        let writes = (0..1000)
            .filter(|&seq| mix.request(0, seq).unwrap().method() == Method::POST)
            .count();
        assert_eq!(writes, 100);
        let reads = KvTraffic::new(&fixture, parts(), 0);
        assert!((0..100).all(|seq| reads.request(3, seq).unwrap().method() == Method::GET));
        let writes = KvTraffic::new(&fixture, parts(), 10);
        let a = writes.request(1, 5).unwrap();
        let b = writes.request(2, 5).unwrap();
        assert_ne!(a.uri(), b.uri(), "every write goes to a new key");
        assert_eq!(a.headers()["x-vault-token"], "hvs.test");
    }

    #[test]
    fn fill_sends_exactly_its_total() {
        let fill = KvFill::new(&Fixture::for_tests(), parts(), 5);
        let sent = (0..10).filter_map(|s| fill.request(0, s)).count();
        assert_eq!(sent, 5);
        let logins = Logins::new("127.0.0.1:1".parse().unwrap(), "r", "s", Some(3)).unwrap();
        let first = logins.request(0, 0).unwrap();
        assert!(first.headers().get("x-vault-token").is_none());
        assert_eq!((0..10).filter_map(|s| logins.request(0, s)).count(), 2);
    }
}
