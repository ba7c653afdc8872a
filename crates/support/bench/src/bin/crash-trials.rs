//! `crash-trials`: proof that an acknowledged write survives `kill -9`.
//!
//! Starts a production-mode Coffer server on a redb file (plain HTTP on
//! 127.0.0.1, one unseal key share), mounts KV v2, then runs N rounds of:
//! several clients writing distinct keys and values, each write recorded
//! only once the server answered 2xx; `SIGKILL` after a random delay;
//! restart on the same file, unseal, and read back every key ever
//! acknowledged. Each key must hold its latest acknowledged value and
//! version, or the one write to it that was still in flight at the kill
//! (whose outcome the client never learnt). Anything else is a loss.
//!
//! Prints one line per round and a final line; exits non-zero on any loss,
//! wrong value or refused write. Run it through `scripts/crash-trials N`,
//! which builds the debug `coffer` binary this drives. The root token and
//! unseal key stay in memory: never printed, never written to disk.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::io::Read as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// The KV v2 mount the trials write to.
const MOUNT: &str = "crash";
/// How long a started server may take to listen, unseal or answer.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one request may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What the command line asks for.
struct Options {
    rounds: u32,
    coffer_bin: PathBuf,
    clients: usize,
    keys_per_client: usize,
    min_kill_ms: u64,
    max_kill_ms: u64,
    data_dir: Option<PathBuf>,
    /// Self-test: after the first restart, destroy one acknowledged key
    /// through the API, so the check must report a loss and exit 1.
    inject_loss: bool,
}

const USAGE: &str = "usage: crash-trials ROUNDS [--coffer-bin FILE] [--clients N] \
[--keys-per-client N] [--min-kill-ms MS] [--max-kill-ms MS] [--data-dir DIR] \
[--inject-loss (self-test: must FAIL)]";

fn parse_options() -> anyhow::Result<Options> {
    let mut args = std::env::args().skip(1);
    let mut rounds = None;
    let mut opts = Options {
        rounds: 0,
        coffer_bin: default_coffer_bin(),
        clients: 8,
        keys_per_client: 16,
        min_kill_ms: 100,
        max_kill_ms: 2_000,
        data_dir: None,
        inject_loss: false,
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .with_context(|| format!("{name} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--coffer-bin" => opts.coffer_bin = PathBuf::from(value("--coffer-bin")?),
            "--clients" => opts.clients = value("--clients")?.parse()?,
            "--keys-per-client" => opts.keys_per_client = value("--keys-per-client")?.parse()?,
            "--min-kill-ms" => opts.min_kill_ms = value("--min-kill-ms")?.parse()?,
            "--max-kill-ms" => opts.max_kill_ms = value("--max-kill-ms")?.parse()?,
            "--data-dir" => opts.data_dir = Some(PathBuf::from(value("--data-dir")?)),
            "--inject-loss" => opts.inject_loss = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other if rounds.is_none() && !other.starts_with('-') => {
                rounds = Some(
                    other
                        .parse()
                        .with_context(|| format!("rounds: {other:?}"))?,
                );
            }
            other => bail!("unexpected argument {other:?}\n{USAGE}"),
        }
    }
    opts.rounds = rounds.with_context(|| USAGE.to_owned())?;
    if opts.rounds == 0 || opts.clients == 0 || opts.keys_per_client == 0 {
        bail!("rounds, --clients and --keys-per-client must be at least 1");
    }
    if opts.min_kill_ms > opts.max_kill_ms {
        bail!("--min-kill-ms is above --max-kill-ms");
    }
    Ok(opts)
}

/// `coffer` next to this binary (both live in the same target directory).
fn default_coffer_bin() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("coffer")))
        .unwrap_or_else(|| PathBuf::from("coffer"))
}

/// `n` random bytes from the OS.
fn random_bytes<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut buf = [0u8; N];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .context("reading /dev/urandom")?;
    Ok(buf)
}

fn random_u64() -> anyhow::Result<u64> {
    Ok(u64::from_le_bytes(random_bytes::<8>()?))
}

fn random_hex() -> anyhow::Result<String> {
    Ok(random_bytes::<8>()?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    addr: SocketAddr,
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl Conn {
    async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = tokio::time::timeout(REQUEST_TIMEOUT, TcpStream::connect(addr))
            .await
            .context("connecting timed out")??;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Self { addr, sender })
    }

    /// One request; the answer's status and JSON body (`Null` if empty or
    /// not JSON). An `Err` means no answer: the outcome is unknown.
    async fn call(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("/v1/{path}"))
            .header(hyper::header::HOST, self.addr.to_string());
        if let Some(token) = token {
            builder = builder.header("x-vault-token", token);
        }
        let payload = match body {
            Some(v) => Bytes::from(serde_json::to_vec(v)?),
            None => Bytes::new(),
        };
        let request = builder.body(Full::new(payload))?;
        let exchange = async {
            self.sender.ready().await?;
            let response = self.sender.send_request(request).await?;
            let status = response.status();
            let bytes = response.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>((status, bytes))
        };
        let (status, bytes) = tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .context("request timed out")??;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, body))
    }
}

/// The server's `errors`, on one line (they never hold secrets).
fn errors_of(body: &Value) -> String {
    body.get("errors")
        .map(Value::to_string)
        .unwrap_or_else(|| "(no errors field)".to_owned())
}

/// The production server and what it needs to come back after a kill.
struct Server {
    binary: PathBuf,
    dir: PathBuf,
    child: Option<Child>,
    addr: SocketAddr,
    /// Only `Some` after `sys/init`; never printed.
    unseal_key: Option<String>,
    root_token: Option<String>,
}

impl Server {
    fn new(binary: PathBuf, dir: PathBuf) -> Self {
        Self {
            binary,
            dir,
            child: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            unseal_key: None,
            root_token: None,
        }
    }

    /// Writes the config (a fresh port each time: the killed server's
    /// sockets may linger) and starts the server, waiting until it listens.
    async fn start(&mut self) -> anyhow::Result<()> {
        let port = free_port()?;
        self.addr = SocketAddr::from(([127, 0, 0, 1], port));
        let config = self.dir.join("coffer.hcl");
        let data = self.dir.join("coffer.redb");
        std::fs::write(
            &config,
            format!(
                "# Written by crash-trials.\n\
                 storage \"redb\" {{\n  path = \"{}\"\n}}\n\
                 listener \"tcp\" {{\n  address = \"{}\"\n  tls_disable = true\n}}\n\
                 disable_mlock = true\n",
                data.display(),
                self.addr
            ),
        )
        .with_context(|| format!("writing {}", config.display()))?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log"))
            .context("opening the server log")?;
        let mut child = Command::new(&self.binary)
            .arg("server")
            .arg(format!("-config={}", config.display()))
            .env("HOME", &self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", self.binary.display()))?;
        let began = Instant::now();
        loop {
            if let Some(status) = child.try_wait()? {
                bail!(
                    "the server exited ({status}) before listening\n{}",
                    self.log_tail()
                );
            }
            if Conn::open(self.addr).await.is_ok() {
                break;
            }
            if began.elapsed() > STEP_TIMEOUT {
                bail!("the server did not listen within 60 s\n{}", self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.child = Some(child);
        Ok(())
    }

    /// `kill -9` and reap.
    async fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.start_kill().context("sending SIGKILL")?;
            tokio::time::timeout(STEP_TIMEOUT, child.wait())
                .await
                .context("the killed server did not exit")??;
        }
        Ok(())
    }

    /// Initialises with one key share and keeps the key and root token.
    async fn initialise(&mut self) -> anyhow::Result<()> {
        let mut conn = Conn::open(self.addr).await?;
        let (status, body) = conn
            .call(
                Method::PUT,
                "sys/init",
                None,
                Some(&json!({"secret_shares": 1, "secret_threshold": 1})),
            )
            .await?;
        if !status.is_success() {
            bail!("sys/init answered {status}: {}", errors_of(&body));
        }
        self.unseal_key = body["keys_base64"][0].as_str().map(str::to_owned);
        self.root_token = body["root_token"].as_str().map(str::to_owned);
        if self.unseal_key.is_none() || self.root_token.is_none() {
            bail!("sys/init returned no key or no root token");
        }
        Ok(())
    }

    /// Unseals, then waits until the mount table is served.
    async fn unseal(&self) -> anyhow::Result<()> {
        let key = self.unseal_key.as_deref().context("not initialised")?;
        let mut conn = Conn::open(self.addr).await?;
        let (status, body) = conn
            .call(Method::PUT, "sys/unseal", None, Some(&json!({"key": key})))
            .await?;
        if !status.is_success() || body["sealed"] != json!(false) {
            bail!("sys/unseal answered {status}: {}", errors_of(&body));
        }
        let began = Instant::now();
        loop {
            let (status, _) = conn
                .call(Method::GET, "sys/mounts", self.root_token.as_deref(), None)
                .await?;
            if status.is_success() {
                return Ok(());
            }
            if began.elapsed() > STEP_TIMEOUT {
                bail!("the server did not serve within 60 s of unsealing ({status})");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(15)..].join("\n");
        format!(
            "--- last lines of {} ---\n{tail}",
            self.dir.join("server.log").display()
        )
    }
}

/// What the clients know about one key.
#[derive(Clone, Debug, Default)]
struct KeyState {
    /// The latest acknowledged value and its KV version.
    acked: Option<(String, u64)>,
    /// A write sent but never answered (the kill came first).
    in_flight: Option<String>,
}

/// Every key's state, shared by the clients of a round.
type Model = Arc<Mutex<BTreeMap<String, KeyState>>>;

/// Tallies of one round's writers.
#[derive(Default)]
struct Tally {
    acknowledged: u64,
    refused: u64,
    first_refusal: Option<String>,
}

/// One client: writes its own keys in turn, one request at a time, until
/// the server stops answering.
async fn writer(
    addr: SocketAddr,
    token: String,
    client: usize,
    keys: usize,
    round: u32,
    model: Model,
) -> Tally {
    let mut tally = Tally::default();
    let Ok(mut conn) = Conn::open(addr).await else {
        return tally;
    };
    for n in 0u64.. {
        let key = format!("c{client}-k{}", n % keys as u64);
        let Ok(suffix) = random_hex() else {
            return tally;
        };
        let value = format!("r{round}-c{client}-n{n}-{suffix}");
        lock(&model).entry(key.clone()).or_default().in_flight = Some(value.clone());
        let body = json!({"data": {"v": value}});
        let path = format!("{MOUNT}/data/{key}");
        match conn
            .call(Method::PUT, &path, Some(&token), Some(&body))
            .await
        {
            Ok((status, answer)) if status.is_success() => {
                let version = answer["data"]["version"].as_u64().unwrap_or(0);
                let mut m = lock(&model);
                let state = m.entry(key).or_default();
                state.acked = Some((value, version));
                state.in_flight = None;
                tally.acknowledged += 1;
            }
            Ok((status, answer)) => {
                // Refused: the value may or may not be stored; it stays in
                // flight for the check, and the round fails.
                tally.refused += 1;
                tally
                    .first_refusal
                    .get_or_insert_with(|| format!("{status}: {}", errors_of(&answer)));
                return tally;
            }
            // No answer: the server was killed mid-request.
            Err(_) => return tally,
        }
    }
    tally
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The outcome of reading every key back.
#[derive(Default)]
struct Check {
    keys: u64,
    losses: u64,
    wrong: u64,
    in_flight_landed: u64,
    first_problem: Option<String>,
}

/// What reading a key back says about its acknowledged writes.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// As acknowledged, or the in-flight write landed (`landed`); `acked`
    /// is the key's state from now on.
    Kept {
        acked: Option<(String, u64)>,
        landed: bool,
    },
    /// An acknowledged write is gone.
    Lost(String),
    /// The key holds a value that was never acknowledged nor in flight.
    Wrong(String),
}

/// Judges `found` (value and version read back, `None` for 404) against
/// what the clients know about `key`. Keys belong to one client, which
/// writes them one at a time, so at most one write per key is in flight.
fn judge(key: &str, found: Option<(String, u64)>, state: &KeyState) -> Verdict {
    let acked_version = state.acked.as_ref().map_or(0, |(_, v)| *v);
    match (found, &state.acked) {
        (Some((value, version)), Some((want, want_version)))
            if value == *want && version == *want_version =>
        {
            Verdict::Kept {
                acked: state.acked.clone(),
                landed: false,
            }
        }
        (Some((value, version)), _)
            if state.in_flight.as_deref() == Some(value.as_str())
                && version == acked_version + 1 =>
        {
            Verdict::Kept {
                acked: Some((value, version)),
                landed: true,
            }
        }
        (None, None) => Verdict::Kept {
            acked: None,
            landed: false,
        },
        (None, Some((_, want))) => Verdict::Lost(format!(
            "{key}: acknowledged version {want} is gone (the key reads 404)"
        )),
        (Some((_, version)), Some((_, want))) if version < *want => Verdict::Lost(format!(
            "{key}: version {version} read back, version {want} was acknowledged"
        )),
        (Some((_, version)), acked) => Verdict::Wrong(format!(
            "{key}: version {version} holds a value never acknowledged (acknowledged version {:?})",
            acked.as_ref().map(|(_, v)| *v)
        )),
    }
}

/// Reads back every key the model knows and settles in-flight writes.
async fn check(server: &Server, model: &Model) -> anyhow::Result<Check> {
    let token = server.root_token.as_deref();
    let mut conn = Conn::open(server.addr).await?;
    let mut out = Check::default();
    let snapshot: Vec<(String, KeyState)> = lock(model)
        .iter()
        .map(|(k, s)| (k.clone(), s.clone()))
        .collect();
    for (key, state) in snapshot {
        out.keys += 1;
        let (status, body) = conn
            .call(Method::GET, &format!("{MOUNT}/data/{key}"), token, None)
            .await
            .with_context(|| format!("reading {key} back"))?;
        let found = if status == StatusCode::NOT_FOUND {
            None
        } else if status.is_success() {
            let value = body["data"]["data"]["v"].as_str().map(str::to_owned);
            let version = body["data"]["metadata"]["version"].as_u64();
            value.zip(version)
        } else {
            bail!("reading {key} answered {status}: {}", errors_of(&body));
        };
        match judge(&key, found, &state) {
            Verdict::Kept { acked, landed } => {
                out.in_flight_landed += u64::from(landed);
                let mut m = lock(model);
                let s = m.entry(key).or_default();
                s.acked = acked;
                s.in_flight = None;
            }
            Verdict::Lost(problem) => {
                out.losses += 1;
                out.first_problem.get_or_insert(problem);
            }
            Verdict::Wrong(problem) => {
                out.wrong += 1;
                out.first_problem.get_or_insert(problem);
            }
        }
    }
    Ok(out)
}

/// Self-test of the check: destroys every version of one acknowledged key.
async fn inject_loss(server: &Server, model: &Model) -> anyhow::Result<()> {
    let victim = lock(model)
        .iter()
        .find(|(_, s)| s.acked.is_some())
        .map(|(k, _)| k.clone())
        .context("--inject-loss: no acknowledged write to destroy")?;
    let mut conn = Conn::open(server.addr).await?;
    let (status, body) = conn
        .call(
            Method::DELETE,
            &format!("{MOUNT}/metadata/{victim}"),
            server.root_token.as_deref(),
            None,
        )
        .await?;
    if !status.is_success() {
        bail!(
            "--inject-loss: deleting {victim} answered {status}: {}",
            errors_of(&body)
        );
    }
    println!("  --inject-loss: destroyed every version of {victim}; this run must FAIL");
    Ok(())
}

async fn run(opts: Options) -> anyhow::Result<bool> {
    if !opts.coffer_bin.is_file() {
        bail!(
            "no coffer binary at {}: build it (cargo build -p coffer-cli) or pass --coffer-bin",
            opts.coffer_bin.display()
        );
    }
    let base = match &opts.data_dir {
        Some(dir) => tempfile::Builder::new()
            .prefix("crash-trials-")
            .tempdir_in(dir)?,
        None => tempfile::Builder::new().prefix("crash-trials-").tempdir()?,
    };
    let mut server = Server::new(opts.coffer_bin.clone(), base.path().to_path_buf());
    server.start().await?;
    server.initialise().await?;
    server.unseal().await?;
    {
        let mut conn = Conn::open(server.addr).await?;
        let (status, body) = conn
            .call(
                Method::PUT,
                &format!("sys/mounts/{MOUNT}"),
                server.root_token.as_deref(),
                Some(&json!({"type": "kv", "options": {"version": "2"}})),
            )
            .await?;
        if !status.is_success() {
            bail!("mounting KV v2 answered {status}: {}", errors_of(&body));
        }
    }
    let model: Model = Arc::new(Mutex::new(BTreeMap::new()));
    let (mut acknowledged, mut losses, mut wrong, mut refused) = (0u64, 0u64, 0u64, 0u64);
    let started = Instant::now();
    for round in 1..=opts.rounds {
        let round_began = Instant::now();
        let token = server.root_token.clone().context("not initialised")?;
        let writers: Vec<_> = (0..opts.clients)
            .map(|c| {
                tokio::spawn(writer(
                    server.addr,
                    token.clone(),
                    c,
                    opts.keys_per_client,
                    round,
                    model.clone(),
                ))
            })
            .collect();
        let span = opts.max_kill_ms - opts.min_kill_ms + 1;
        let delay = opts.min_kill_ms + random_u64()? % span;
        tokio::time::sleep(Duration::from_millis(delay)).await;
        server.kill().await?;
        let mut round_acked = 0;
        let mut round_refused = 0;
        let mut refusal = None;
        for w in writers {
            let tally = tokio::time::timeout(STEP_TIMEOUT, w)
                .await
                .context("a writer did not stop after the kill")??;
            round_acked += tally.acknowledged;
            round_refused += tally.refused;
            refusal = refusal.or(tally.first_refusal);
        }
        let in_flight = lock(&model)
            .values()
            .filter(|s| s.in_flight.is_some())
            .count();
        let restart_began = Instant::now();
        server.start().await?;
        server.unseal().await?;
        let restart = restart_began.elapsed();
        if opts.inject_loss && round == 1 {
            inject_loss(&server, &model).await?;
        }
        let checked = check(&server, &model).await?;
        acknowledged += round_acked;
        losses += checked.losses;
        wrong += checked.wrong;
        refused += round_refused;
        println!(
            "round {round}/{}: kill -9 after {delay} ms; {round_acked} acknowledged \
             ({acknowledged} in all), {in_flight} in flight ({} landed); restart+unseal {:.2} s; \
             {} keys checked: {} lost, {} wrong; round {:.1} s",
            opts.rounds,
            checked.in_flight_landed,
            restart.as_secs_f64(),
            checked.keys,
            checked.losses,
            checked.wrong,
            round_began.elapsed().as_secs_f64(),
        );
        if let Some(problem) = &checked.first_problem {
            println!("  first problem: {problem}");
        }
        if let Some(refusal) = refusal {
            println!("  {round_refused} write(s) refused; first: {refusal}");
        }
    }
    server.kill().await?;
    let ok = losses == 0 && wrong == 0 && refused == 0;
    println!(
        "crash-trials: rounds={} acknowledged_writes={acknowledged} losses={losses} \
         wrong_values={wrong} refused_writes={refused} seconds={:.1} result={}",
        opts.rounds,
        started.elapsed().as_secs_f64(),
        if ok { "PASS" } else { "FAIL" }
    );
    if !ok {
        eprintln!("{}", server.log_tail());
        // Keep the data for a post-mortem.
        let kept = base.keep();
        eprintln!("crash-trials: data kept in {}", kept.display());
    }
    Ok(ok)
}

fn main() -> ExitCode {
    let outcome = parse_options().and_then(|opts| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        runtime.block_on(run(opts))
    });
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("crash-trials: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_coffer_binary_is_looked_for_beside_this_one() {
        let bin = default_coffer_bin();
        assert_eq!(bin.file_name().and_then(|n| n.to_str()), Some("coffer"));
    }

    fn state(acked: Option<(&str, u64)>, in_flight: Option<&str>) -> KeyState {
        KeyState {
            acked: acked.map(|(v, n)| (v.to_owned(), n)),
            in_flight: in_flight.map(str::to_owned),
        }
    }

    fn found(v: &str, n: u64) -> Option<(String, u64)> {
        Some((v.to_owned(), n))
    }

    #[test]
    fn the_latest_acknowledged_write_is_kept() {
        let s = state(Some(("a", 3)), None);
        assert_eq!(
            judge("k", found("a", 3), &s),
            Verdict::Kept {
                acked: Some(("a".into(), 3)),
                landed: false
            }
        );
        // The in-flight write may or may not have landed.
        let s = state(Some(("a", 3)), Some("b"));
        assert!(matches!(
            judge("k", found("a", 3), &s),
            Verdict::Kept { landed: false, .. }
        ));
        assert_eq!(
            judge("k", found("b", 4), &s),
            Verdict::Kept {
                acked: Some(("b".into(), 4)),
                landed: true
            }
        );
        // A first write in flight, never acknowledged: absent or landed.
        let s = state(None, Some("b"));
        assert!(matches!(
            judge("k", None, &s),
            Verdict::Kept { acked: None, .. }
        ));
        assert!(matches!(
            judge("k", found("b", 1), &s),
            Verdict::Kept { landed: true, .. }
        ));
    }

    #[test]
    fn losses_and_wrong_values_are_caught() {
        let s = state(Some(("a", 3)), Some("b"));
        assert!(matches!(judge("k", None, &s), Verdict::Lost(_)));
        assert!(matches!(judge("k", found("old", 2), &s), Verdict::Lost(_)));
        assert!(matches!(judge("k", found("x", 3), &s), Verdict::Wrong(_)));
        assert!(matches!(judge("k", found("b", 5), &s), Verdict::Wrong(_)));
        assert!(matches!(judge("k", found("x", 4), &s), Verdict::Wrong(_)));
        let s = state(None, None);
        assert!(matches!(judge("k", found("x", 1), &s), Verdict::Wrong(_)));
    }

    #[test]
    fn random_values_differ() {
        assert_ne!(random_hex().unwrap(), random_hex().unwrap());
    }
}
