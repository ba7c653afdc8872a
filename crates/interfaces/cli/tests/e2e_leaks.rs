//! No secret may leak: the real server, in production mode on redb, logging
//! at `trace` (with directives that try to turn the database clients' own
//! statement logging back on), handles canary secrets, and then everything
//! it wrote is scanned for them, in plain, base64 and hex forms.
//!
//! Databases: dynamic credentials, a static-role rotation and a root
//! rotation on PostgreSQL (a throwaway `scram-sha-256` cluster, so the
//! machine's server keeps its password), MariaDB and Redis (a throwaway
//! admin user each, dropped at the end). The root passwords Coffer
//! generates on rotation are known to nobody, so the output is also searched
//! for the shape of the statements that would carry them (`PASSWORD '`,
//! `IDENTIFIED BY`, `SETUSER`).
//!
//! Every other kind of secret Coffer holds gets a canary too: KV values,
//! userpass passwords, AppRole secret ids (generated, custom and wrapped),
//! wrapped responses (one unwrapped to prove its content, one left in
//! storage), the root token, created tokens (one with a custom id) and
//! login tokens, and the unseal key. Error responses are provoked on
//! purpose (wrong password, bad secret id, a revoked token, a used wrapping
//! token, a malformed body, a wrong database password) and each body is
//! scanned. Storage is every file of the redb directory, scanned as bytes;
//! the audit log (a `file` device) must hold the canaries only as HMACs,
//! and does hold their HMACs (`sys/audit-hash`).

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aho_corasick::AhoCorasick;
use base64::Engine as _;
use coffer_test_services::{PgCluster, Service, host_port, require};
use mysql_async::prelude::Queryable;
use serde_json::{Value, json};
use support::{coffer_bin, write_config};

/// The filter the server runs with: everything at `trace`, plus directives
/// naming the database clients' statement loggers, which must stay off.
const LOG_FILTER: &str = "trace,tokio_postgres=trace,tokio_postgres::simple_query=trace,\
    tokio_postgres::query=trace,tokio_postgres::prepare=trace,deadpool.postgres=trace,\
    mysql_async=trace,redis=trace,hyper=trace,rustls=trace,reqwest=trace";

/// Texts that only a database statement carrying a password contains.
const STATEMENT_SHAPES: &[&str] = &[
    "password '",
    "identified by",
    "setuser",
    "statement batch",
    "executing simple query",
    "preparing query",
];

// ---------------------------------------------------------------------------
// The server process.

/// A `coffer server` child whose stdout and stderr are kept, byte for byte.
struct Server {
    child: Child,
    addr: String,
    output: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
}

impl Server {
    fn start(config: &Path, home: &Path) -> Self {
        let mut child = Command::new(coffer_bin())
            .args(["server", "-config", config.to_str().unwrap()])
            .env("HOME", home)
            .env("COFFER_LOG", LOG_FILTER)
            .env_remove("VAULT_ADDR")
            .env_remove("VAULT_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn coffer server");
        let output = Arc::new(Mutex::new(Vec::new()));
        let mut readers = Vec::new();
        let streams: [Box<dyn Read + Send>; 2] = [
            Box::new(child.stdout.take().unwrap()),
            Box::new(child.stderr.take().unwrap()),
        ];
        for mut stream in streams {
            let out = output.clone();
            readers.push(std::thread::spawn(move || {
                let mut buf = [0u8; 64 * 1024];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    out.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            }));
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        let addr = loop {
            let text = String::from_utf8_lossy(&output.lock().unwrap()).into_owned();
            if let Some(rest) = text.split("addr: \"").nth(1)
                && let Some(addr) = rest.split('"').next()
                && rest.contains('"')
            {
                break addr.to_owned();
            }
            if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
                let _ = child.kill();
                panic!("the server did not start:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        Self {
            child,
            addr: format!("http://{addr}"),
            output,
            readers,
        }
    }

    /// Stops the server and returns everything it printed.
    fn stop(mut self) -> Vec<u8> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        std::mem::take(&mut *self.output.lock().unwrap())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// A client that keeps every error response.

struct Client {
    http: reqwest::Client,
    addr: String,
    token: Option<String>,
    /// Every response body with a 4xx or 5xx status: `(request, body)`.
    errors: Vec<(String, String)>,
}

impl Client {
    fn new(addr: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap(),
            addr: addr.to_owned(),
            token: None,
            errors: Vec::new(),
        }
    }

    async fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Value>,
        wrap_ttl: Option<&str>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method.clone(), format!("{}/v1/{path}", self.addr));
        if let Some(t) = &self.token {
            req = req.header("X-Vault-Token", t);
        }
        if let Some(ttl) = wrap_ttl {
            req = req.header("X-Vault-Wrap-TTL", ttl);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        if status >= 400 {
            self.errors.push((format!("{method} {path}"), text.clone()));
        }
        assert!(status < 500, "{method} {path}: {status} {text}");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, json)
    }

    /// PUT of raw bytes (a malformed body).
    async fn put_raw(&mut self, path: &str, body: String) -> u16 {
        let mut req = self.http.put(format!("{}/v1/{path}", self.addr)).body(body);
        if let Some(t) = &self.token {
            req = req.header("X-Vault-Token", t);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        self.errors.push((format!("PUT {path} (raw)"), text));
        status
    }

    /// Like [`send`](Self::send), with `token` instead of the client's.
    async fn as_token(
        &mut self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let saved = self.token.replace(token.to_owned());
        let out = self.send(method, path, body, None).await;
        self.token = saved;
        out
    }

    async fn get(&mut self, path: &str) -> (u16, Value) {
        self.send("GET", path, None, None).await
    }

    async fn put(&mut self, path: &str, body: Value) -> (u16, Value) {
        self.send("PUT", path, Some(body), None).await
    }

    /// PUT that must succeed (200 or 204).
    async fn ok(&mut self, path: &str, body: Value) -> Value {
        let (status, resp) = self.put(path, body).await;
        assert!(
            status == 200 || status == 204,
            "PUT {path}: {status} {resp}"
        );
        resp
    }
}

// ---------------------------------------------------------------------------
// Canaries and the scanner.

/// Every secret of the run, with a label saying what it is (labels are
/// printed on failure; secrets never are).
#[derive(Default)]
struct Secrets(Vec<(String, String)>);

impl Secrets {
    fn add(&mut self, label: &str, value: &str) {
        assert!(
            value.len() >= 8,
            "{label}: too short to be a meaningful canary"
        );
        self.0.push((label.to_owned(), value.to_owned()));
    }
}

/// A fresh canary: unique to this run.
fn canary(kind: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("canary-{kind}-{}-{nanos:x}", std::process::id())
}

/// The byte strings whose presence betrays `secret`: itself, its hex
/// (lower and upper case), and for each of the three alignments at which it
/// can start inside a base64 stream, the part of its base64 (standard and
/// URL-safe alphabets) that does not depend on the bytes around it.
fn forms(secret: &str) -> Vec<(&'static str, Vec<u8>)> {
    let raw = secret.as_bytes();
    let mut out = vec![
        ("plain", raw.to_vec()),
        ("hex", hex::encode(raw).into_bytes()),
        ("HEX", hex::encode_upper(raw).into_bytes()),
    ];
    for (name, engine) in [
        ("base64", &base64::engine::general_purpose::STANDARD),
        ("base64url", &base64::engine::general_purpose::URL_SAFE),
    ] {
        for offset in 0..3 {
            let mut shifted = vec![0u8; offset];
            shifted.extend_from_slice(raw);
            let encoded = engine.encode(&shifted);
            // Whole groups only: the first group mixes in the bytes before
            // the secret, a trailing partial group the bytes after it.
            let start = if offset == 0 { 0 } else { 4 };
            let end = shifted.len() / 3 * 4;
            let part = encoded.as_bytes()[start..end.max(start)].to_vec();
            if !part.is_empty() && !out.iter().any(|(_, known)| *known == part) {
                out.push((name, part));
            }
        }
    }
    out
}

/// Finds every secret, in every form, in one pass over a haystack.
struct Scanner {
    matcher: AhoCorasick,
    /// For each pattern: which secret (its label) and which form.
    patterns: Vec<(String, &'static str)>,
}

impl Scanner {
    fn new(secrets: &Secrets) -> Self {
        let mut needles = Vec::new();
        let mut patterns = Vec::new();
        for (label, secret) in &secrets.0 {
            for (form, bytes) in forms(secret) {
                needles.push(bytes);
                patterns.push((label.clone(), form));
            }
        }
        Self {
            matcher: AhoCorasick::new(&needles).unwrap(),
            patterns,
        }
    }

    /// `label (form)` of every secret found in `haystack`.
    fn find(&self, haystack: &[u8]) -> Vec<String> {
        let mut found: Vec<String> = self
            .matcher
            .find_overlapping_iter(haystack)
            .map(|m| {
                let (label, form) = &self.patterns[m.pattern().as_usize()];
                format!("{label} ({form})")
            })
            .collect();
        found.sort();
        found.dedup();
        found
    }
}

/// Every file under `dir`, with its contents.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                out.push((p, bytes));
            }
        }
    }
    out
}

#[test]
fn the_scanner_finds_planted_secrets_in_every_form() {
    let secret = "canary-control-0123456789";
    let mut secrets = Secrets::default();
    secrets.add("control", secret);
    let scanner = Scanner::new(&secrets);
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    for prefix in ["", "a", "ab", "abc", "{\"k\":\""] {
        let mut plain = prefix.as_bytes().to_vec();
        plain.extend_from_slice(secret.as_bytes());
        plain.extend_from_slice(b"\"} and more");
        let planted: [(&str, Vec<u8>); 5] = [
            ("plain", plain.clone()),
            ("base64", b64.encode(&plain).into_bytes()),
            ("base64url", b64url.encode(&plain).into_bytes()),
            ("hex", hex::encode(&plain).into_bytes()),
            ("HEX", hex::encode_upper(&plain).into_bytes()),
        ];
        for (form, bytes) in planted {
            let mut haystack = b"some noise before ".to_vec();
            haystack.extend_from_slice(&bytes);
            haystack.extend_from_slice(b" noise after");
            // The two base64 alphabets agree on most secrets, so a planted
            // base64url form may be reported as base64.
            let found = scanner.find(&haystack);
            assert!(
                found.contains(&format!("control ({form})"))
                    || (form == "base64url" && found.contains(&"control (base64)".to_owned())),
                "prefix {prefix:?}, form {form}: found {found:?}"
            );
        }
    }
    // And nothing where the secret is not, not even most of it.
    assert!(
        scanner
            .find(b"canary-control-012345678 and hmac-sha256:00ff")
            .is_empty()
    );
}

// ---------------------------------------------------------------------------
// KV, wrapping, userpass, AppRole, tokens.

/// A KV v2 value, read back, and two wrapped reads of it: one unwrapped
/// (its content is the canary), one left in storage. Returns the value.
async fn kv_part(c: &mut Client, secrets: &mut Secrets) -> String {
    c.ok(
        "sys/mounts/secret",
        json!({"type": "kv", "options": {"version": "2"}}),
    )
    .await;
    let value = canary("kv");
    secrets.add("KV value", &value);
    c.ok("secret/data/leak", json!({"data": {"password": value}}))
        .await;
    let (status, body) = c.get("secret/data/leak").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["data"]["password"], value.as_str());

    let mut wrapping_tokens = Vec::new();
    for i in 0..2 {
        let (status, body) = c.send("GET", "secret/data/leak", None, Some("300s")).await;
        assert_eq!(status, 200, "{body}");
        assert!(body["data"].is_null(), "a wrapped response carried data");
        let token = body["wrap_info"]["token"].as_str().unwrap().to_owned();
        secrets.add(&format!("wrapping token {i} (KV read)"), &token);
        wrapping_tokens.push(token);
    }
    let (status, body) = c
        .put("sys/wrapping/unwrap", json!({"token": wrapping_tokens[0]}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["data"]["password"], value.as_str());
    // A wrapping token works once.
    let (status, _) = c
        .put("sys/wrapping/unwrap", json!({"token": wrapping_tokens[0]}))
        .await;
    assert!((400..500).contains(&status), "{status}");
    // The second wrapped response stays stored until its TTL: it is in the
    // storage scanned at the end.
    let (status, body) = c
        .put("sys/wrapping/lookup", json!({"token": wrapping_tokens[1]}))
        .await;
    assert_eq!(status, 200, "{body}");
    value
}

/// A userpass password that logs in, and a wrong one that does not.
/// Returns the password.
async fn userpass_part(c: &mut Client, secrets: &mut Secrets) -> String {
    c.ok("sys/auth/userpass", json!({"type": "userpass"})).await;
    let password = canary("userpass");
    secrets.add("userpass password", &password);
    c.ok(
        "auth/userpass/users/alice",
        json!({"password": password, "token_policies": "default"}),
    )
    .await;
    let (status, body) = c
        .put("auth/userpass/login/alice", json!({"password": password}))
        .await;
    assert_eq!(status, 200, "{body}");
    secrets.add(
        "userpass login token",
        body["auth"]["client_token"].as_str().unwrap(),
    );
    let wrong = canary("userpass-wrong");
    secrets.add("wrong userpass password", &wrong);
    let (status, _) = c
        .put("auth/userpass/login/alice", json!({"password": wrong}))
        .await;
    assert!((400..500).contains(&status), "{status}");
    // A body that is not JSON, with a password in it.
    let broken = canary("userpass-malformed");
    secrets.add("password in a malformed body", &broken);
    let status = c
        .put_raw(
            "auth/userpass/users/bob",
            format!("{{\"password\": \"{broken}"),
        )
        .await;
    assert_eq!(status, 400);
    password
}

/// AppRole secret ids: generated, custom and wrapped, each logging in; and a
/// bad one that does not. Returns the custom secret id.
async fn approle_part(c: &mut Client, secrets: &mut Secrets) -> String {
    c.ok("sys/auth/approle", json!({"type": "approle"})).await;
    c.ok(
        "auth/approle/role/leak",
        json!({"token_policies": "default"}),
    )
    .await;
    let (status, body) = c.get("auth/approle/role/leak/role-id").await;
    assert_eq!(status, 200, "{body}");
    let role_id = body["data"]["role_id"].as_str().unwrap().to_owned();

    let generated = c.ok("auth/approle/role/leak/secret-id", json!({})).await["data"]["secret_id"]
        .as_str()
        .unwrap()
        .to_owned();
    secrets.add("AppRole generated secret id", &generated);
    let custom = canary("approle-custom");
    secrets.add("AppRole custom secret id", &custom);
    c.ok(
        "auth/approle/role/leak/custom-secret-id",
        json!({"secret_id": custom}),
    )
    .await;
    let (status, body) = c
        .send(
            "PUT",
            "auth/approle/role/leak/secret-id",
            Some(json!({})),
            Some("300s"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let wrapping = body["wrap_info"]["token"].as_str().unwrap().to_owned();
    secrets.add("wrapping token (AppRole secret id)", &wrapping);
    let (status, body) = c
        .put("sys/wrapping/unwrap", json!({"token": wrapping}))
        .await;
    assert_eq!(status, 200, "{body}");
    let wrapped = body["data"]["secret_id"].as_str().unwrap().to_owned();
    secrets.add("AppRole wrapped secret id", &wrapped);

    for (i, secret_id) in [&generated, &custom, &wrapped].into_iter().enumerate() {
        let (status, body) = c
            .put(
                "auth/approle/login",
                json!({"role_id": role_id, "secret_id": secret_id}),
            )
            .await;
        assert_eq!(status, 200, "AppRole login {i}: {body}");
        secrets.add(
            &format!("AppRole login token {i}"),
            body["auth"]["client_token"].as_str().unwrap(),
        );
    }
    let bad = canary("approle-bad");
    secrets.add("bad AppRole secret id", &bad);
    let (status, _) = c
        .put(
            "auth/approle/login",
            json!({"role_id": role_id, "secret_id": bad}),
        )
        .await;
    assert!((400..500).contains(&status), "{status}");
    custom
}

/// Tokens: one with a custom id, one generated; the generated one is
/// revoked and then used.
async fn token_part(c: &mut Client, secrets: &mut Secrets) {
    let custom = canary("token-id");
    secrets.add("token with a custom id", &custom);
    let body = c
        .ok(
            "auth/token/create",
            json!({"id": custom, "policies": ["default"]}),
        )
        .await;
    assert_eq!(body["auth"]["client_token"], custom.as_str(), "{body}");
    let (status, body) = c
        .as_token(&custom, "GET", "auth/token/lookup-self", None)
        .await;
    assert_eq!(status, 200, "{body}");
    // The default policy cannot read the KV secret.
    let (status, _) = c.as_token(&custom, "GET", "secret/data/leak", None).await;
    assert_eq!(status, 403);

    let created = c
        .ok("auth/token/create", json!({"policies": ["default"]}))
        .await["auth"]["client_token"]
        .as_str()
        .unwrap()
        .to_owned();
    secrets.add("created token", &created);
    let (status, body) = c
        .as_token(&created, "GET", "auth/token/lookup-self", None)
        .await;
    assert_eq!(status, 200, "{body}");
    c.ok("auth/token/revoke", json!({"token": created})).await;
    let (status, _) = c.as_token(&created, "GET", "secret/data/leak", None).await;
    assert_eq!(status, 403, "a revoked token still works");
    let (status, _) = c
        .as_token(&created, "GET", "auth/token/lookup-self", None)
        .await;
    assert_eq!(status, 403, "a revoked token still works");
}

/// The audit device's HMAC of `input`.
async fn audit_hmac(c: &mut Client, input: &str) -> String {
    let (status, body) = c.put("sys/audit-hash/file", json!({"input": input})).await;
    assert_eq!(status, 200, "{body}");
    let hash = body["data"]["hash"].as_str().unwrap().to_owned();
    assert!(hash.starts_with("hmac-sha256:"), "{hash}");
    hash
}

// ---------------------------------------------------------------------------
// Databases.

/// Names to drop from the machine's MariaDB and Redis at the end, whatever
/// happened.
#[derive(Default)]
struct Cleanup {
    mysql_users: Vec<String>,
    redis_users: Vec<String>,
}

async fn mysql_root(url: &str) -> mysql_async::Conn {
    let opts = mysql_async::Opts::from_url(url).expect("COFFER_TEST_MYSQL_URL");
    mysql_async::Conn::new(opts)
        .await
        .expect("MariaDB root login")
}

async fn redis_root(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .expect("Redis login")
}

impl Cleanup {
    async fn run(&self, mysql: Option<&str>, redis_url: Option<&str>) {
        if let Some(url) = mysql
            && !self.mysql_users.is_empty()
        {
            let mut root = mysql_root(url).await;
            for user in &self.mysql_users {
                let _ = root
                    .query_drop(format!("DROP USER IF EXISTS '{user}'@'%'"))
                    .await;
            }
            let _ = root.disconnect().await;
        }
        if let Some(url) = redis_url
            && !self.redis_users.is_empty()
        {
            let mut root = redis_root(url).await;
            let _: Result<i64, _> = redis::cmd("ACL")
                .arg("DELUSER")
                .arg(&self.redis_users)
                .query_async(&mut root)
                .await;
        }
    }
}

/// Reads dynamic credentials of `db`'s role; keeps the password, returns
/// the username.
async fn dynamic_creds(c: &mut Client, secrets: &mut Secrets, db: &str, when: &str) -> String {
    let (status, body) = c.get(&format!("database/creds/{db}-dyn")).await;
    assert_eq!(status, 200, "{db} creds: {body}");
    secrets.add(
        &format!("{db} dynamic password {when}"),
        body["data"]["password"].as_str().unwrap(),
    );
    body["data"]["username"].as_str().unwrap().to_owned()
}

/// The current password of `db`'s static role.
async fn static_password(c: &mut Client, db: &str) -> String {
    let (status, body) = c.get(&format!("database/static-creds/{db}-static")).await;
    assert_eq!(status, 200, "{db} static creds: {body}");
    body["data"]["password"].as_str().unwrap().to_owned()
}

/// Drives one database connection `db` (already configured with a canary
/// root password) through dynamic credentials, a static-role rotation of
/// `static_user` and a root rotation, keeping every password Coffer hands
/// out. Returns the dynamic usernames.
async fn exercise_database(
    c: &mut Client,
    secrets: &mut Secrets,
    db: &str,
    creation: Option<&str>,
    static_user: &str,
) -> Vec<String> {
    let mut role = json!({"db_name": db, "default_ttl": "1h"});
    if let Some(statements) = creation {
        role["creation_statements"] = json!(statements);
    }
    c.ok(&format!("database/roles/{db}-dyn"), role).await;
    let mut users = Vec::new();
    users.push(dynamic_creds(c, secrets, db, "1").await);
    users.push(dynamic_creds(c, secrets, db, "2").await);

    c.ok(
        &format!("database/static-roles/{db}-static"),
        json!({"db_name": db, "username": static_user, "rotation_period": "24h"}),
    )
    .await;
    let before = static_password(c, db).await;
    c.ok(&format!("database/rotate-role/{db}-static"), json!({}))
        .await;
    let after = static_password(c, db).await;
    assert_ne!(before, after, "{db}: the static role did not rotate");
    secrets.add(&format!("{db} static password before rotation"), &before);
    secrets.add(&format!("{db} static password after rotation"), &after);

    c.ok(&format!("database/rotate-root/{db}"), json!({})).await;
    // The new root password (which nobody else knows) works.
    users.push(dynamic_creds(c, secrets, db, "after root rotation").await);
    users
}

/// A connection whose password is wrong: refused with a 4xx that must not
/// repeat it.
async fn wrong_root_password(c: &mut Client, secrets: &mut Secrets, db: &str, mut config: Value) {
    let wrong = canary(&format!("{db}-wrong-root"));
    secrets.add(&format!("{db} wrong root password"), &wrong);
    config["password"] = json!(wrong);
    let (status, body) = c.put(&format!("database/config/{db}-bad"), config).await;
    assert_eq!(
        status, 400,
        "{db}: a wrong root password was accepted: {body}"
    );
}

async fn postgres_part(c: &mut Client, secrets: &mut Secrets, cluster: &PgCluster) {
    let (admin, conn) = tokio_postgres::connect(&cluster.url(), tokio_postgres::NoTls)
        .await
        .expect("connect to the throwaway cluster");
    tokio::spawn(conn);
    let root_pw = canary("pg-root");
    secrets.add("PostgreSQL root password", &root_pw);
    admin
        .batch_execute(&format!(
            "CREATE ROLE leak_admin SUPERUSER LOGIN PASSWORD '{root_pw}'; \
             CREATE ROLE leak_static LOGIN PASSWORD 'not-a-canary-pg'"
        ))
        .await
        .unwrap();
    let config = json!({
        "plugin_name": "postgresql-database-plugin",
        "connection_url": format!(
            "postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{}/postgres?sslmode=disable",
            cluster.port()
        ),
        "username": "leak_admin",
        "password": root_pw,
        "allowed_roles": "*",
    });
    // scram-sha-256: accepted only because the canary is the password.
    c.ok("database/config/pg", config.clone()).await;
    exercise_database(c, secrets, "pg", None, "leak_static").await;
    wrong_root_password(c, secrets, "pg", config).await;
}

async fn mariadb_part(c: &mut Client, secrets: &mut Secrets, url: &str, cleanup: &Mutex<Cleanup>) {
    let (host, port) = host_port(url, 3306).unwrap();
    let pid = std::process::id();
    let (admin_user, static_user) = (format!("leak_admin_{pid}"), format!("leak_static_{pid}"));
    cleanup
        .lock()
        .unwrap()
        .mysql_users
        .extend([admin_user.clone(), static_user.clone()]);
    let root_pw = canary("maria-root");
    secrets.add("MariaDB root password", &root_pw);
    let mut root = mysql_root(url).await;
    for statement in [
        format!("DROP USER IF EXISTS '{admin_user}'@'%'"),
        format!("DROP USER IF EXISTS '{static_user}'@'%'"),
        format!("CREATE USER '{admin_user}'@'%' IDENTIFIED BY '{root_pw}'"),
        format!("GRANT ALL PRIVILEGES ON *.* TO '{admin_user}'@'%' WITH GRANT OPTION"),
        format!("CREATE USER '{static_user}'@'%' IDENTIFIED BY 'not-a-canary-maria'"),
    ] {
        root.query_drop(statement).await.unwrap();
    }
    let _ = root.disconnect().await;
    let config = json!({
        "plugin_name": "mysql-database-plugin",
        "connection_url": format!("{{{{username}}}}:{{{{password}}}}@tcp({host}:{port})/"),
        "username": admin_user,
        "password": root_pw,
        "allowed_roles": "*",
    });
    c.ok("database/config/maria", config.clone()).await;
    let users = exercise_database(c, secrets, "maria", None, &static_user).await;
    cleanup.lock().unwrap().mysql_users.extend(users);
    wrong_root_password(c, secrets, "maria", config).await;
}

async fn redis_part(c: &mut Client, secrets: &mut Secrets, url: &str, cleanup: &Mutex<Cleanup>) {
    let (host, port) = host_port(url, 6379).unwrap();
    let pid = std::process::id();
    let (admin_user, static_user) = (format!("leak_admin_{pid}"), format!("leak_static_{pid}"));
    cleanup
        .lock()
        .unwrap()
        .redis_users
        .extend([admin_user.clone(), static_user.clone()]);
    let root_pw = canary("redis-root");
    secrets.add("Redis root password", &root_pw);
    let mut root = redis_root(url).await;
    let _: () = redis::cmd("ACL")
        .arg("SETUSER")
        .arg(&admin_user)
        .arg("reset")
        .arg("on")
        .arg(format!(">{root_pw}"))
        .arg("~*")
        .arg("&*")
        .arg("+@all")
        .query_async(&mut root)
        .await
        .unwrap();
    let _: () = redis::cmd("ACL")
        .arg("SETUSER")
        .arg(&static_user)
        .arg("reset")
        .arg("on")
        .arg(">not-a-canary-redis")
        .arg("~*")
        .arg("+@read")
        .query_async(&mut root)
        .await
        .unwrap();
    let config = json!({
        "plugin_name": "redis-database-plugin",
        "host": host,
        "port": port,
        "username": admin_user,
        "password": root_pw,
        "allowed_roles": "*",
    });
    c.ok("database/config/cache", config.clone()).await;
    let users = exercise_database(
        c,
        secrets,
        "cache",
        Some(r#"["~*", "+@read"]"#),
        &static_user,
    )
    .await;
    cleanup.lock().unwrap().redis_users.extend(users);
    wrong_root_password(c, secrets, "cache", config).await;
}

// ---------------------------------------------------------------------------
// The run.

struct Services {
    pg: Option<PgCluster>,
    mysql: Option<String>,
    redis: Option<String>,
}

async fn scenario(services: Services, cleanup: Arc<Mutex<Cleanup>>) {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), None);
    let storage_dir = dir.path().join("data");
    let audit_dir = dir.path().join("audit");
    std::fs::create_dir_all(&audit_dir).unwrap();
    let audit_log = audit_dir.join("audit.log");
    let server = Server::start(&config, dir.path());
    let mut c = Client::new(&server.addr);
    let mut secrets = Secrets::default();

    let (status, init) = c
        .put(
            "sys/init",
            json!({"secret_shares": 1, "secret_threshold": 1}),
        )
        .await;
    assert_eq!(status, 200, "{init}");
    let key = init["keys"][0].as_str().unwrap().to_owned();
    let root = init["root_token"].as_str().unwrap().to_owned();
    secrets.add("unseal key", &key);
    secrets.add("root token", &root);
    let (status, body) = c.put("sys/unseal", json!({"key": key})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sealed"], false, "{body}");
    c.token = Some(root.clone());
    c.ok(
        "sys/audit/file",
        json!({"type": "file", "options": {"file_path": audit_log.to_str().unwrap()}}),
    )
    .await;

    let kv_value = kv_part(&mut c, &mut secrets).await;
    let userpass_password = userpass_part(&mut c, &mut secrets).await;
    let custom_secret_id = approle_part(&mut c, &mut secrets).await;
    token_part(&mut c, &mut secrets).await;

    c.ok("sys/mounts/database", json!({"type": "database"}))
        .await;
    if let Some(cluster) = &services.pg {
        postgres_part(&mut c, &mut secrets, cluster).await;
    }
    if let Some(url) = &services.mysql {
        mariadb_part(&mut c, &mut secrets, url, &cleanup).await;
    }
    if let Some(url) = &services.redis {
        redis_part(&mut c, &mut secrets, url, &cleanup).await;
    }
    // Dynamic users go before the server does.
    c.ok("sys/leases/revoke-prefix/database/creds", json!({}))
        .await;

    // The audit log holds the canaries as HMACs: read it before asking for
    // the HMACs, since that request is audited (with its input HMAC-ed) too.
    let audit_before_hashing = String::from_utf8(std::fs::read(&audit_log).unwrap()).unwrap();
    for (what, secret) in [
        ("KV value", kv_value.as_str()),
        ("userpass password", &userpass_password),
        ("AppRole custom secret id", &custom_secret_id),
        ("root token", &root),
    ] {
        let hash = audit_hmac(&mut c, secret).await;
        assert!(
            audit_before_hashing.contains(&hash),
            "the audit log does not hold the HMAC of the {what}"
        );
    }

    let output = server.stop();
    drop(services.pg);

    // The scans.
    let scanner = Scanner::new(&secrets);
    let mut leaks = Vec::new();
    let mut storage_bytes = 0;
    for (path, bytes) in files_under(&storage_dir) {
        storage_bytes += bytes.len();
        for found in scanner.find(&bytes) {
            leaks.push(format!("storage file {}: {found}", path.display()));
        }
    }
    let audit = std::fs::read(&audit_log).unwrap();
    for found in scanner.find(&audit) {
        leaks.push(format!("audit log: {found}"));
    }
    for found in scanner.find(&output) {
        leaks.push(format!("server output: {found}"));
    }
    for (request, body) in &c.errors {
        for found in scanner.find(body.as_bytes()) {
            leaks.push(format!("error response to {request}: {found}"));
        }
    }
    let lower = String::from_utf8_lossy(&output).to_lowercase();
    for shape in STATEMENT_SHAPES {
        if lower.contains(shape) {
            leaks.push(format!("server output: a statement ({shape:?})"));
        }
    }
    eprintln!(
        "scanned {} secrets: server output {} bytes ({} lines), storage {storage_bytes} bytes, \
         audit log {} bytes, {} error responses",
        secrets.0.len(),
        output.len(),
        output.iter().filter(|b| **b == b'\n').count(),
        audit.len(),
        c.errors.len()
    );
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
    // The scans looked at something real: a log at trace, a storage file,
    // an audit log with HMAC-ed values.
    assert!(
        lower.contains(" debug ") || lower.contains(" trace "),
        "the server did not log at debug/trace"
    );
    // The store scanned is the real one: token entries are in it, under
    // their hashes.
    assert!(
        files_under(&storage_dir)
            .iter()
            .any(|(_, bytes)| bytes.windows(13).any(|w| w == b"sys/token/id/")),
        "no token entry in the storage scanned ({storage_bytes} bytes)"
    );
    assert!(
        String::from_utf8_lossy(&audit).contains("hmac-sha256:"),
        "the audit log has no HMAC-ed value"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_storage_logs_audit_or_errors() {
    let test = "no_secret_in_storage_logs_audit_or_errors";
    let services = Services {
        pg: PgCluster::start_or_skip(test),
        mysql: require(Service::Mysql, test),
        redis: require(Service::Redis, test),
    };
    let (mysql, redis_url) = (services.mysql.clone(), services.redis.clone());
    let cleanup = Arc::new(Mutex::new(Cleanup::default()));
    let outcome = tokio::spawn(scenario(services, cleanup.clone())).await;
    let cleanup = std::mem::take(&mut *cleanup.lock().unwrap());
    cleanup.run(mysql.as_deref(), redis_url.as_deref()).await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
