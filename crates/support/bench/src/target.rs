//! The servers under test: a Coffer server this tool starts (dev mode in
//! memory, or production mode on a redb file), one it is pointed at, and the
//! ceiling. For local processes it reads the resident memory from `/proc`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use hyper::Method;
use serde_json::json;
use tokio::process::{Child, Command};

use crate::admin::{Admin, server_message};
use crate::args::StorageKind;

/// How long a started server may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A server running as a child of this process.
pub(crate) struct ChildServer {
    child: Child,
    addr: SocketAddr,
}

impl ChildServer {
    /// Wraps a started child listening at `addr`.
    pub(crate) fn new(child: Child, addr: SocketAddr) -> Self {
        Self { child, addr }
    }

    /// Where it listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its process id, while it runs.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Asks it to stop (SIGTERM) and waits up to 30 s, then kills it.
    pub(crate) async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
            let status = Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status()
                .await
                .context("running kill -TERM")?;
            if status.success()
                && tokio::time::timeout(Duration::from_secs(30), self.child.wait())
                    .await
                    .is_ok()
            {
                return Ok(());
            }
        }
        self.child.kill().await.context("killing the server")?;
        Ok(())
    }
}

/// The resident memory of process `pid` in KiB (`VmRSS`), if readable.
pub(crate) fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The Coffer server under test.
pub(crate) struct Coffer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// A token allowed to set the benchmark up.
    pub admin_token: String,
    /// How it stores data (`None` when it was not started here).
    pub storage: Option<StorageKind>,
    /// The process, when this tool started it.
    process: Option<Started>,
}

/// What it takes to restart a server this tool started.
struct Started {
    server: ChildServer,
    binary: PathBuf,
    args: Vec<String>,
    /// Holds the config, the log and (for redb) the data; removed at the end.
    dir: tempfile::TempDir,
    /// The unseal key of a production-mode server.
    unseal_key: Option<String>,
}

impl Coffer {
    /// A server someone else runs.
    pub(crate) fn external(url: &str, token: String) -> anyhow::Result<Self> {
        let addr = parse_http_url(url)?;
        Ok(Self {
            addr,
            admin_token: token,
            storage: None,
            process: None,
        })
    }

    /// Starts `binary` in dev mode (in memory) or on a fresh redb file under
    /// `data_dir`, initialises and unseals it, and waits until it serves.
    pub(crate) async fn start(
        binary: PathBuf,
        storage: StorageKind,
        data_dir: &Path,
        mlock: bool,
    ) -> anyhow::Result<Self> {
        if !binary.is_file() {
            anyhow::bail!(
                "no coffer binary at {}: build it first (cargo build --release -p coffer -p coffer-bench) or pass --coffer-bin",
                binary.display()
            );
        }
        let dir = tempfile::Builder::new()
            .prefix("coffer-bench-")
            .tempdir_in(data_dir)
            .with_context(|| format!("creating a directory in {}", data_dir.display()))?;
        let port = free_port()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let (args, root) = match storage {
            StorageKind::Inmem => {
                let root = format!("bench-root-{}", random_hex(16)?);
                let args = vec![
                    "server".to_owned(),
                    "--dev".to_owned(),
                    format!("--dev-listen-address={addr}"),
                    format!("--dev-root-token-id={root}"),
                ];
                (args, Some(root))
            }
            StorageKind::Redb => {
                let config = dir.path().join("coffer.hcl");
                let data = dir.path().join("data").join("coffer.redb");
                std::fs::write(&config, redb_config(&data, addr, mlock))
                    .with_context(|| format!("writing {}", config.display()))?;
                (
                    vec!["server".to_owned(), format!("-config={}", config.display())],
                    None,
                )
            }
        };
        let server = spawn_coffer(&binary, &args, dir.path(), addr).await?;
        let mut started = Started {
            server,
            binary,
            args,
            dir,
            unseal_key: None,
        };
        let admin_token = match root {
            Some(root) => root,
            None => {
                let (key, root) = initialise(addr).await.inspect_err(|_| {
                    eprintln!("{}", log_tail(started.dir.path()));
                })?;
                started.unseal_key = Some(key);
                unseal(addr, started.unseal_key.as_deref().unwrap_or_default()).await?;
                let mut admin = Admin::connect(addr, Some(root.clone())).await?;
                admin
                    .write(
                        "sys/mounts/secret",
                        &json!({"type": "kv", "options": {"version": "2"}}),
                    )
                    .await?;
                root
            }
        };
        Ok(Self {
            addr,
            admin_token,
            storage: Some(storage),
            process: Some(started),
        })
    }

    /// The server's process id, when known.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.process.as_ref().and_then(|p| p.server.pid())
    }

    /// The directory holding this run's files (for the fsync probe), when
    /// this tool started the server.
    pub(crate) fn work_dir(&self) -> Option<&Path> {
        self.process.as_ref().map(|p| p.dir.path())
    }

    /// Stops the server (SIGTERM), starts it again on the same storage, and
    /// returns the time from sending the unseal key to the first answered
    /// request of `probe` (which must succeed once the server is unsealed
    /// and has loaded its state). Only for a redb server started here.
    pub(crate) async fn restart_and_unseal(
        &mut self,
        probe: impl AsyncFn() -> anyhow::Result<bool>,
    ) -> anyhow::Result<Duration> {
        let process = self
            .process
            .take()
            .context("only a server started by coffer-bench can be restarted")?;
        let Started {
            server,
            binary,
            args,
            dir,
            unseal_key,
        } = process;
        let key = unseal_key.context("only a redb server can be restarted and unsealed")?;
        server.stop().await?;
        let server = spawn_coffer(&binary, &args, dir.path(), self.addr).await?;
        self.process = Some(Started {
            server,
            binary,
            args,
            dir,
            unseal_key: Some(key.clone()),
        });
        let began = Instant::now();
        unseal(self.addr, &key).await?;
        loop {
            if probe().await? {
                return Ok(began.elapsed());
            }
            if began.elapsed() > START_TIMEOUT {
                anyhow::bail!("the server did not serve within 60 s of being unsealed");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Stops a server this tool started and removes its files.
    pub(crate) async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(process) = self.process.take() {
            process.server.stop().await?;
        }
        Ok(())
    }
}

/// The production-mode configuration: redb at `data`, plain HTTP on `addr`,
/// memory locked as in production unless `mlock` is false.
fn redb_config(data: &Path, addr: SocketAddr, mlock: bool) -> String {
    format!(
        "# Written by coffer-bench.\n\
         storage \"redb\" {{\n  path = \"{}\"\n}}\n\
         listener \"tcp\" {{\n  address = \"{addr}\"\n  tls_disable = true\n}}\n\
         disable_mlock = {}\n",
        data.display(),
        !mlock
    )
}

/// `http://host:port` -> a socket address (plain HTTP only).
fn parse_http_url(url: &str) -> anyhow::Result<SocketAddr> {
    let rest = url.strip_prefix("http://").with_context(|| {
        format!("--addr {url}: only plain http:// is supported (the benchmark runs without TLS)")
    })?;
    let host_port = rest.trim_end_matches('/');
    if let Ok(addr) = host_port.parse() {
        return Ok(addr);
    }
    std::net::ToSocketAddrs::to_socket_addrs(host_port)
        .ok()
        .and_then(|mut addrs| addrs.next())
        .with_context(|| format!("--addr {url}: expected http://HOST:PORT"))
}

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// `bytes` random bytes from the OS, hex-encoded.
fn random_hex(bytes: usize) -> anyhow::Result<String> {
    use std::io::Read as _;
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .context("reading /dev/urandom")?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// The last lines of the server's log, for an error report.
fn log_tail(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(10)..].join("\n");
    format!("--- last lines of the server log ---\n{tail}")
}

/// Starts `binary args` with its output in `dir/server.log` and `HOME` in
/// `dir` (dev mode writes the root token to `~/.vault-token`), and waits
/// until something answers HTTP at `addr`.
async fn spawn_coffer(
    binary: &Path,
    args: &[String],
    dir: &Path,
    addr: SocketAddr,
) -> anyhow::Result<ChildServer> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .context("creating the server log")?;
    let mut child = Command::new(binary)
        .args(args)
        .env("HOME", dir)
        .env_remove("VAULT_DEV_ROOT_TOKEN_ID")
        .env_remove("VAULT_DEV_LISTEN_ADDRESS")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let began = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            anyhow::bail!(
                "the coffer server exited ({status}) before serving\n{}",
                log_tail(dir)
            );
        }
        if Admin::connect(addr, None).await.is_ok() {
            return Ok(ChildServer::new(child, addr));
        }
        if began.elapsed() > START_TIMEOUT {
            anyhow::bail!(
                "the coffer server did not listen on {addr} within 60 s\n{}",
                log_tail(dir)
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `sys/init` with one key share; returns (unseal key, root token).
async fn initialise(addr: SocketAddr) -> anyhow::Result<(String, String)> {
    let mut admin = Admin::connect(addr, None).await?;
    let answer = admin
        .write(
            "sys/init",
            &json!({"secret_shares": 1, "secret_threshold": 1}),
        )
        .await?;
    let key = answer.body["keys_base64"][0]
        .as_str()
        .context("sys/init returned no key")?
        .to_owned();
    let root = answer.body["root_token"]
        .as_str()
        .context("sys/init returned no root token")?
        .to_owned();
    Ok((key, root))
}

/// `sys/unseal` with the one key; fails unless the server is then unsealed.
async fn unseal(addr: SocketAddr, key: &str) -> anyhow::Result<()> {
    let mut admin = Admin::connect(addr, None).await?;
    let answer = admin
        .call(Method::PUT, "sys/unseal", Some(&json!({"key": key})))
        .await?;
    if answer.status.is_success() && answer.body["sealed"] == json!(false) {
        return Ok(());
    }
    anyhow::bail!(
        "unsealing failed ({}): {}",
        answer.status.as_u16(),
        server_message(&answer.body)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_plain_http_with_a_port() {
        assert_eq!(
            parse_http_url("http://127.0.0.1:8200/").unwrap(),
            "127.0.0.1:8200".parse().unwrap()
        );
        let err = parse_http_url("https://127.0.0.1:8200").unwrap_err();
        assert!(err.to_string().contains("only plain http://"), "{err}");
        assert!(parse_http_url("http://127.0.0.1").is_err());
    }

    #[test]
    fn rss_of_this_process_is_readable() {
        let kib = rss_kib(std::process::id()).unwrap();
        assert!(kib > 100, "{kib}");
        assert_eq!(rss_kib(u32::MAX), None);
    }

    #[test]
    fn redb_config_is_production_mode_without_tls() {
        let text = redb_config(
            Path::new("/d/coffer.redb"),
            "127.0.0.1:1".parse().unwrap(),
            true,
        );
        assert!(text.contains("storage \"redb\""));
        assert!(text.contains("path = \"/d/coffer.redb\""));
        assert!(text.contains("tls_disable = true"));
        assert!(
            text.contains("disable_mlock = false"),
            "locked, as in production"
        );
        let unlocked = redb_config(Path::new("/d"), "127.0.0.1:1".parse().unwrap(), false);
        assert!(unlocked.contains("disable_mlock = true"));
    }
}
