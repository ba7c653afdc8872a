//! The bad-request corpus, replayed against the real server in dev and in
//! production mode (redb storage, initialised and unsealed through the API).
//!
//! The corpus is data in the repository: `bad_requests/generated.jsonl`,
//! generated from the server's OpenAPI document (itself generated from every
//! mounted backend's path declarations: wrong types, out-of-range values,
//! malformed, deeply nested and oversize bodies, traversal, NUL and double
//! percent-encoding in every captured path segment), and
//! `bad_requests/raw.txt`, whole HTTP requests written by hand (header
//! abuse, conflicting `Content-Length` and `Transfer-Encoding`, odd request
//! lines). The test regenerates the first and fails when it differs from the
//! committed file, so a new path or field cannot go untested unnoticed:
//! `COFFER_UPDATE_CORPUS=1 cargo test -p coffer --test e2e_bad_requests`
//! rewrites it. A slow body (one byte a second) is sent alongside.
//!
//! Every answer must be a 4xx (exactly 403 for the share sent without a
//! token), never a 5xx; the server must print no panic, still answer
//! `sys/health`, and the stored state (mounts, auth methods, policies, KV
//! entries, userpass users) must be identical before and after.

#[path = "bad_requests/corpus.rs"]
mod corpus;
#[path = "bad_requests/raw.rs"]
mod raw;
mod support;
#[path = "bad_requests/wire.rs"]
mod wire;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::ServerProcess;
use tokio::io::AsyncWriteExt;
use wire::Outcome;

use corpus::Case;

/// The dev server's root token.
const DEV_ROOT: &str = "corpus-root";

/// Concurrent connections during the replay.
const CONCURRENCY: usize = 6;

/// How long one request may take before it counts as a failure (a loaded
/// 2-core machine, debug build, 32 MiB bodies).
const REQUEST_LIMIT: Duration = Duration::from_secs(30);

/// Secrets engines mounted before the document is fetched, beyond those a
/// server always has (`sys/`, `cubbyhole/`, `identity/`): every mountable
/// builtin type, at the same paths in both modes.
const ENGINES: &[(&str, &str)] = &[("kv1", "kv"), ("database", "database")];

/// Auth methods enabled before the document is fetched (`token/` is always there).
const AUTH_METHODS: &[(&str, &str)] = &[("userpass", "userpass"), ("approle", "approle")];

/// Findings already known and being fixed elsewhere (issue 12): a failure
/// that matches one is reported as expected instead of failing the test.
/// Each entry: (why, method, a substring of the path, a substring of the
/// body or of the case's name, "" for any). Empty this list as the fixes
/// land.
const KNOWN: &[(&str, &str, &str, &str)] = &[];

/// Paths whose cases run one at a time (see [`replay`]).
const SERIAL: &[&str] = &["sys/rekey/init", "sys/generate-root/attempt"];

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/bad_requests")
}

/// A server under test: its process, address and root token.
struct Target {
    server: ServerProcess,
    host: String,
    root: String,
    _dir: tempfile::TempDir,
}

impl Target {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let body = body.map(|b| b.to_string().into_bytes());
        let req = wire::request(
            method,
            &format!("/v1/{path}"),
            &self.host,
            Some(&self.root),
            body.as_deref(),
        );
        match wire::exchange(&self.host, &req, REQUEST_LIMIT).await {
            Outcome::Answer { status, body } => {
                (status, serde_json::from_str(&body).unwrap_or(Value::Null))
            }
            other => panic!("{method} {path}: {}", other.describe()),
        }
    }

    async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, answer) = self.call(method, path, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {answer}"
        );
        answer
    }
}

async fn start_dev() -> Target {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(
        &[
            "-dev",
            "-dev-listen-address=127.0.0.1:0",
            &format!("-dev-root-token-id={DEV_ROOT}"),
        ],
        dir.path(),
        false,
    );
    let host = server.addr.trim_start_matches("http://").to_owned();
    Target {
        server,
        host,
        root: DEV_ROOT.to_owned(),
        _dir: dir,
    }
}

async fn start_production() -> Target {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("coffer.hcl");
    std::fs::write(
        &config,
        format!(
            "storage \"redb\" {{\n  path = \"{}\"\n}}\nlistener \"tcp\" {{\n  address = \"127.0.0.1:0\"\n  tls_disable = true\n  http_read_timeout = \"2s\"\n}}\ndisable_mlock = true\n",
            dir.path().join("coffer.redb").display()
        ),
    )
    .unwrap();
    let server = ServerProcess::start(
        &[&format!("-config={}", config.display())],
        dir.path(),
        false,
    );
    let host = server.addr.trim_start_matches("http://").to_owned();
    let mut target = Target {
        server,
        host,
        root: String::new(),
        _dir: dir,
    };
    let init = target
        .ok(
            "PUT",
            "sys/init",
            Some(json!({"secret_shares": 3, "secret_threshold": 2})),
        )
        .await;
    target.root = init["root_token"].as_str().unwrap().to_owned();
    for key in init["keys"].as_array().unwrap().iter().take(2) {
        target
            .ok("PUT", "sys/unseal", Some(json!({ "key": key })))
            .await;
    }
    target
        .ok(
            "POST",
            "sys/mounts/secret",
            Some(json!({"type": "kv", "options": {"version": "2"}})),
        )
        .await;
    target
}

/// Mounts every engine and auth method, and writes the state that must
/// survive the corpus unchanged.
async fn prepare(t: &Target) {
    for (path, kind) in ENGINES {
        t.ok(
            "POST",
            &format!("sys/mounts/{path}"),
            Some(json!({ "type": kind })),
        )
        .await;
    }
    for (path, kind) in AUTH_METHODS {
        t.ok(
            "POST",
            &format!("sys/auth/{path}"),
            Some(json!({ "type": kind })),
        )
        .await;
    }
    for (name, rules) in [
        (
            "corpus-reader",
            "path \"secret/data/*\" { capabilities = [\"read\"] }",
        ),
        (
            "corpus-writer",
            "path \"secret/*\" { capabilities = [\"create\", \"update\"] }",
        ),
    ] {
        t.ok(
            "PUT",
            &format!("sys/policies/acl/{name}"),
            Some(json!({ "policy": rules })),
        )
        .await;
    }
    for (key, value) in [("state/a", "alpha"), ("state/b", "beta")] {
        t.ok(
            "POST",
            &format!("secret/data/{key}"),
            Some(json!({"data": {"v": value}})),
        )
        .await;
    }
    t.ok("POST", "kv1/state/c", Some(json!({"v": "gamma"})))
        .await;
    // Roles the generated cases aim at (corpus.rs, EXISTING).
    t.ok(
        "POST",
        "auth/approle/role/corpus-role",
        Some(json!({"token_ttl": "1h", "token_policies": "corpus-reader"})),
    )
    .await;
    t.ok(
        "POST",
        "auth/token/roles/corpus-role",
        Some(json!({"allowed_policies": "corpus-reader", "token_ttl": "1h"})),
    )
    .await;
    t.ok(
        "POST",
        "auth/userpass/users/corpus-user",
        Some(json!({"password": "corpus-password", "token_policies": "corpus-reader"})),
    )
    .await;
}

/// Mounts, auth methods, policies (with their text), KV entries, userpass
/// users, AppRole and token roles (and the two roles' settings), database
/// connections, audit devices and quotas: what no bad request may change.
async fn snapshot(t: &Target) -> Value {
    let data = |v: Value| v["data"].clone();
    let mounts = data(t.ok("GET", "sys/mounts", None).await);
    let auth = data(t.ok("GET", "sys/auth", None).await);
    let names = data(t.ok("LIST", "sys/policies/acl", None).await)["keys"].clone();
    let mut policies = serde_json::Map::new();
    for name in names.as_array().unwrap() {
        let name = name.as_str().unwrap();
        let body = data(t.ok("GET", &format!("sys/policies/acl/{name}"), None).await);
        policies.insert(name.to_owned(), body);
    }
    let kv_keys = data(t.ok("LIST", "secret/metadata/state/", None).await);
    let mut kv = serde_json::Map::new();
    for key in ["state/a", "state/b"] {
        let mut body = data(t.ok("GET", &format!("secret/data/{key}"), None).await);
        // Only the value and its version: times are the same in both reads.
        kv.insert(
            key.to_owned(),
            json!([body["data"].take(), body["metadata"]["version"].take()]),
        );
    }
    let kv1 = data(t.ok("GET", "kv1/state/c", None).await);
    let users = data(t.ok("LIST", "auth/userpass/users", None).await);
    let audit = data(t.ok("GET", "sys/audit", None).await);
    let approle_role = data(t.ok("GET", "auth/approle/role/corpus-role", None).await);
    let token_role = data(t.ok("GET", "auth/token/roles/corpus-role", None).await);
    let (_, db_configs) = t.call("LIST", "database/config", None).await;
    let (_, roles) = t.call("LIST", "auth/approle/role", None).await;
    let (_, quotas) = t.call("LIST", "sys/quotas/rate-limit", None).await;
    json!({
        "mounts": mounts,
        "auth": auth,
        "policies": policies,
        "kv_keys": kv_keys,
        "kv": kv,
        "kv1": kv1,
        "users": users,
        "audit": audit,
        "approle_role": approle_role,
        "token_role": token_role,
        "database_configs": db_configs["data"],
        "approle_roles": roles["data"],
        "quotas": quotas["data"],
    })
}

/// Generates the corpus from the server's document and compares it with
/// the committed file (or rewrites the file when asked).
async fn generated_corpus(t: &Target) -> Vec<Case> {
    let doc = t.ok("GET", "sys/internal/specs/openapi", None).await;
    let cases = corpus::generate(&doc);
    let text: String = cases.iter().map(|c| c.to_line() + "\n").collect();
    let file = corpus_dir().join("generated.jsonl");
    if std::env::var_os("COFFER_UPDATE_CORPUS").is_some() {
        std::fs::write(&file, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&file).unwrap_or_default();
    if committed != text {
        let old: std::collections::HashSet<&str> = committed.lines().collect();
        let new: std::collections::HashSet<&str> = text.lines().collect();
        let added: Vec<_> = new.difference(&old).take(10).collect();
        let removed: Vec<_> = old.difference(&new).take(10).collect();
        panic!(
            "the declared paths changed: bad_requests/generated.jsonl is out of date \
             (first additions {added:#?}, removals {removed:#?}). Regenerate it with \
             `COFFER_UPDATE_CORPUS=1 cargo test -p coffer --test e2e_bad_requests` and \
             review the difference."
        );
    }
    cases
}

/// One request of the replay: what it is, what it must get, and (once
/// sent) what it got.
struct Sent {
    label: String,
    method: String,
    path: String,
    body: String,
    expect: Option<u16>,
    may_close: bool,
    /// The answer must be `{"errors":[...]}`: every request that reaches
    /// the server's handler (not HTTP-level refusals of malformed framing,
    /// which hyper answers with an empty body, as Go's server does for Vault).
    vault_errors: bool,
    outcome: Outcome,
}

impl Sent {
    fn passed(&self) -> bool {
        let status_ok = match (self.outcome.status(), self.expect) {
            (Some(s), Some(e)) => s == e,
            (Some(s), None) => (400..500).contains(&s),
            (None, _) => self.may_close && matches!(self.outcome, Outcome::Closed),
        };
        status_ok && (!self.vault_errors || self.has_vault_errors())
    }

    /// The body is Vault's error shape, `{"errors":[...]}`, or Vault's 404
    /// envelope with a warning (KV v2's answer to a path outside its API).
    fn has_vault_errors(&self) -> bool {
        let Outcome::Answer { status, body } = &self.outcome else {
            return false;
        };
        let Ok(v) = serde_json::from_str::<Value>(body) else {
            return false;
        };
        v.get("errors").is_some_and(Value::is_array)
            || (*status == 404 && v["warnings"].as_array().is_some_and(|w| !w.is_empty()))
    }

    fn known(&self) -> Option<&'static str> {
        KNOWN.iter().find_map(|(why, method, path, body)| {
            (self.method == *method
                && self.path.contains(path)
                && (self.body.contains(body) || self.label.contains(body)))
            .then_some(*why)
        })
    }
}

fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut s: String = text.chars().take(80).collect();
    if text.len() > 80 {
        s.push_str(&format!("...({} bytes)", bytes.len()));
    }
    s
}

/// Sends every case, `CONCURRENCY` at a time.
async fn replay(t: &Target, cases: &[Case], raws: Vec<raw::RawCase>) -> Vec<Sent> {
    let host = Arc::new(t.host.clone());
    let mut jobs: Vec<(Sent, Vec<u8>)> = Vec::new();
    for c in cases {
        let body = c.body_bytes();
        let token = c.token.then_some(t.root.as_str());
        let target = format!("/v1/{}", c.path);
        let bytes = wire::request(&c.method, &target, &t.host, token, body.as_deref());
        let sent = Sent {
            label: c.kind.clone(),
            method: c.method.clone(),
            path: c.path.clone(),
            body: body.as_deref().map(excerpt).unwrap_or_default(),
            expect: c.expect,
            may_close: false,
            vault_errors: true,
            outcome: Outcome::TimedOut,
        };
        jobs.push((sent, bytes));
    }
    for r in raws {
        let first_line = r.bytes.split(|b| *b == b'\r').next().unwrap_or_default();
        let line = String::from_utf8_lossy(first_line).into_owned();
        let mut words = line.split(' ');
        let method = words.next().unwrap_or("").to_owned();
        let path: String = words.next().unwrap_or("").chars().take(120).collect();
        let sent = Sent {
            label: format!("raw: {}", r.name),
            method,
            path,
            body: String::new(),
            expect: None,
            may_close: r.may_close,
            vault_errors: false,
            outcome: Outcome::TimedOut,
        };
        jobs.push((sent, r.bytes));
    }
    // Operations that one accepted request starts (and that block every
    // later start with "already in progress") run one by one at the end,
    // and whatever one of them starts is cancelled with its nonce, so one
    // finding cannot hide the cases after it.
    let (serial, jobs): (Vec<_>, Vec<_>) = jobs
        .into_iter()
        .partition(|(s, _)| SERIAL.iter().any(|p| s.path.starts_with(p)));
    let semaphore = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut handles = Vec::new();
    for (mut sent, bytes) in jobs {
        let permit = semaphore.clone().acquire_owned().await.unwrap();
        let host = host.clone();
        handles.push(tokio::spawn(async move {
            sent.outcome = wire::exchange(&host, &bytes, REQUEST_LIMIT).await;
            drop(permit);
            sent
        }));
    }
    let mut results = Vec::new();
    for h in handles {
        results.push(h.await.unwrap());
    }
    for (mut sent, bytes) in serial {
        sent.outcome = wire::exchange(&t.host, &bytes, REQUEST_LIMIT).await;
        if let Outcome::Answer { status: 200, body } = &sent.outcome
            && let Ok(answer) = serde_json::from_str::<Value>(body)
            && let Some(nonce) = answer["nonce"].as_str().filter(|n| !n.is_empty())
        {
            let path = sent.path.split('?').next().unwrap_or("");
            // A DELETE carries its data in the query, as in Vault.
            let req = wire::request(
                "DELETE",
                &format!("/v1/{path}?nonce={nonce}"),
                &t.host,
                Some(&t.root),
                None,
            );
            let cancelled = wire::exchange(&t.host, &req, REQUEST_LIMIT).await;
            assert!(
                cancelled.status().is_some_and(|s| s < 300),
                "cancelling what {path} started: {}",
                cancelled.describe()
            );
        }
        results.push(sent);
    }
    results
}

/// A body sent one byte a second: the server must give up on it (a 4xx or
/// closing the connection) within its read timeout plus a margin, and never
/// answer 5xx.
async fn slow_body(host: String, timeout: Duration) -> std::result::Result<String, String> {
    let body = b"{\"data\":{\"a\":\"b\"}}";
    let head = format!(
        "POST /v1/secret/data/corpus-slow HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(&host).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let deadline = timeout + Duration::from_secs(20);
    let (mut reader, mut writer) = stream.into_split();
    let drip = tokio::spawn(async move {
        // Never more than the body's length: bounded.
        for byte in body.iter().take(body.len() - 1) {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if writer.write_all(&[*byte]).await.is_err() {
                return;
            }
        }
        // Hold the last byte back until the server gives up.
        tokio::time::sleep(Duration::from_secs(3600)).await;
    });
    let mut raw = Vec::new();
    let read = tokio::time::timeout(
        deadline,
        tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut raw),
    )
    .await;
    drip.abort();
    let elapsed = started.elapsed();
    let outcome = wire::parse_response(&raw);
    match (read, &outcome) {
        (Err(_), _) => Err(format!(
            "a body sent one byte a second was still being read after {elapsed:?}"
        )),
        (Ok(_), Outcome::Answer { status, body }) if *status >= 500 => {
            Err(format!("slow body answered {status}: {body}"))
        }
        _ => Ok(format!(
            "refused after {elapsed:?} with {}",
            outcome.describe()
        )),
    }
}

async fn run(t: Target, mode: &str, read_timeout: Duration) {
    prepare(&t).await;
    let cases = generated_corpus(&t).await;
    let raw_text = std::fs::read_to_string(corpus_dir().join("raw.txt")).unwrap();
    let raws = raw::parse(&raw_text, &t.root, &t.host);
    let total = cases.len() + raws.len();
    assert!(total >= 500, "only {total} requests in the corpus");
    let before = snapshot(&t).await;

    let started = Instant::now();
    let slow = tokio::spawn(slow_body(t.host.clone(), read_timeout));
    let results = replay(&t, &cases, raws).await;
    let elapsed = started.elapsed();
    let slow = slow.await.unwrap();
    println!("{mode}: slow body: {slow:?}");

    let after = snapshot(&t).await;
    let (status, _) = t.call("GET", "sys/health", None).await;
    let output = t.server.output();

    // COFFER_CORPUS_REPORT=DIR writes every request and its answer, to review
    // what the server said (not only whether it was a 4xx).
    if let Some(dir) = std::env::var_os("COFFER_CORPUS_REPORT") {
        let lines: String = results
            .iter()
            .map(|r| {
                format!(
                    "{}\t{}\t{}\t{}\t{}\n",
                    r.label,
                    r.method,
                    r.path.chars().take(120).collect::<String>(),
                    r.body.chars().take(80).collect::<String>(),
                    r.outcome.describe()
                )
            })
            .collect();
        std::fs::write(PathBuf::from(dir).join(format!("{mode}.tsv")), lines).unwrap();
    }
    let mut unexpected = Vec::new();
    let mut expected = Vec::new();
    let mut five_xx = 0;
    for r in &results {
        if r.outcome.status().is_some_and(|s| s >= 500) {
            five_xx += 1;
        }
        if r.passed() {
            continue;
        }
        let line = format!(
            "{:<16} {:<6} {:<60} {:<40} expected {:<4} got {}",
            r.label,
            r.method,
            r.path.chars().take(60).collect::<String>(),
            r.body.chars().take(40).collect::<String>(),
            r.expect.map_or("4xx".to_owned(), |c| c.to_string()),
            r.outcome.describe()
        );
        match r.known() {
            Some(why) => expected.push(format!("{line}  [known: {why}]")),
            None => unexpected.push(line),
        }
    }
    let statuses = results.iter().fold(
        std::collections::BTreeMap::<String, usize>::new(),
        |mut m, r| {
            let key = r
                .outcome
                .status()
                .map_or("none".to_owned(), |s| s.to_string());
            *m.entry(key).or_default() += 1;
            m
        },
    );
    println!(
        "{mode}: {} requests ({} generated, {} raw) in {elapsed:?}; statuses {statuses:?}; \
         {} failures ({} known, {} 5xx)",
        results.len(),
        cases.len(),
        results.len() - cases.len(),
        unexpected.len() + expected.len(),
        expected.len(),
        five_xx
    );
    for line in &expected {
        println!("  EXPECTED FAILURE {line}");
    }
    for line in &unexpected {
        println!("  FAILURE {line}");
    }
    let panics: Vec<&str> = output
        .lines()
        .filter(|l| l.contains("panicked") || l.contains("RUST_BACKTRACE"))
        .collect();
    for p in panics.iter().take(20) {
        println!("  PANIC {p}");
    }
    let mut problems = Vec::new();
    if !unexpected.is_empty() {
        problems.push(format!(
            "{} requests not answered as expected",
            unexpected.len()
        ));
    }
    // A known finding may panic; only then may the output show panics.
    let known_5xx = results
        .iter()
        .any(|r| r.known().is_some() && r.outcome.status().is_some_and(|s| s >= 500));
    if !panics.is_empty() && !known_5xx {
        problems.push(format!(
            "{} panic lines in the server's output",
            panics.len()
        ));
    }
    if before != after {
        problems.push(format!(
            "stored state changed:\nbefore {before:#}\nafter {after:#}"
        ));
    }
    if status != 200 {
        problems.push(format!("sys/health answered {status} afterwards"));
    }
    if let Err(e) = slow {
        if KNOWN.iter().any(|(_, _, path, _)| *path == "corpus-slow") {
            println!("  EXPECTED FAILURE {e}");
        } else {
            problems.push(e);
        }
    }
    assert!(problems.is_empty(), "{mode}: {}", problems.join("; "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_dev_mode() {
    let t = start_dev().await;
    // Dev mode has no configuration file: Vault's default read timeout.
    run(t, "dev", Duration::from_secs(30)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_production_mode() {
    let t = start_production().await;
    run(t, "production", Duration::from_secs(2)).await;
}

/// The document the corpus is generated from: Vault's shape, typed fields,
/// and only the mounts the caller's policies reach (without a token, only
/// the mounts whose listing visibility is `unauth`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_follows_the_callers_policies() {
    let mut t = start_dev().await;
    prepare(&t).await;
    let doc = t.ok("GET", "sys/internal/specs/openapi", None).await;
    assert_eq!(doc["openapi"], "3.0.2");
    let paths = doc["paths"].as_object().unwrap();
    for key in [
        "/secret/data/{path}",
        "/kv1/{path}",
        "/database/config/{name}",
        "/auth/userpass/users/{username}",
        "/auth/approle/role/{role_name}",
        "/auth/token/create",
        "/identity/entity",
        "/cubbyhole/{path}",
        "/sys/mounts/{path}",
    ] {
        assert!(paths.contains_key(key), "{key} missing from the document");
    }
    let ttl = &paths["/auth/token/create"]["post"]["requestBody"]["content"]["application/json"]["schema"]
        ["properties"]["ttl"];
    assert_eq!(ttl["type"], "string");
    assert_eq!(ttl["format"], "duration");
    assert_eq!(
        paths["/auth/userpass/login/{username}"]["x-vault-unauthenticated"],
        true
    );

    let token = t
        .ok(
            "POST",
            "auth/token/create",
            Some(json!({"policies": ["corpus-reader"]})),
        )
        .await["auth"]["client_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let root = std::mem::replace(&mut t.root, token);
    let limited = t.ok("GET", "sys/internal/specs/openapi", None).await;
    let keys: Vec<&String> = limited["paths"].as_object().unwrap().keys().collect();
    // The policy and the default policy's paths, nothing else.
    for key in [
        "/secret/data/{path}",
        "/auth/token/lookup-self",
        "/sys/capabilities-self",
    ] {
        assert!(
            keys.contains(&&key.to_owned()),
            "{key} missing from {keys:?}"
        );
    }
    assert!(
        keys.iter().all(|k| !k.starts_with("/sys/mounts")
            && !k.starts_with("/sys/policies")
            && !k.starts_with("/database/")
            && !k.starts_with("/auth/userpass/")
            && !k.starts_with("/secret/metadata/")),
        "a token limited to secret/data/* sees {keys:?}"
    );
    t.root = root;

    // Without a token, as in Vault: 200 with only the mounts tuned
    // `listing_visibility=unauth` (none yet, then `kv1/`).
    let bare = wire::request("GET", "/v1/sys/internal/specs/openapi", &t.host, None, None);
    let tokenless_keys = || async {
        let outcome = wire::exchange(&t.host, &bare, REQUEST_LIMIT).await;
        let Outcome::Answer { status: 200, body } = &outcome else {
            panic!("tokenless OpenAPI request: {}", outcome.describe());
        };
        let doc: Value = serde_json::from_str(body).unwrap();
        doc["paths"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<String>>()
    };
    let keys = tokenless_keys().await;
    assert!(keys.is_empty(), "no unauth mount, yet {keys:?}");
    t.ok(
        "POST",
        "sys/mounts/kv1/tune",
        Some(json!({"listing_visibility": "unauth"})),
    )
    .await;
    let keys = tokenless_keys().await;
    assert!(keys.iter().any(|k| k == "/kv1/{path}"), "{keys:?}");
    assert!(
        keys.iter().all(|k| k.starts_with("/kv1/")),
        "only the unauth mount may be listed: {keys:?}"
    );
}
