//! The command line, declared once with clap.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::scenario::Scenario;

/// Scenarios run when `--scenarios` is not given.
pub(crate) const DEFAULT_SCENARIOS: &str =
    "idle,fsync,ceiling,kv2-read,kv2-write,kv2-mixed,token-lookup-self,approle-login";

/// Load benchmark for Coffer.
///
/// Starts a Coffer server (or targets one with --addr), drives it with
/// keep-alive HTTP/1.1 connections from this process, and measures a bare
/// hyper server answering a body of the same size (the ceiling) in the same
/// run, so every scenario is also given as a ratio to the ceiling.
/// No `Debug`: `--token` is a secret.
#[derive(Parser)]
#[command(name = "coffer-bench", version, args_conflicts_with_subcommands = true)]
pub(crate) struct Args {
    /// Comma-separated scenarios: idle, fsync, ceiling, kv2-read, kv2-write,
    /// kv2-mixed, token-lookup-self, approle-login, transit-encrypt, fill,
    /// unseal (fill and unseal need --storage redb).
    #[arg(long, value_delimiter = ',', default_value = DEFAULT_SCENARIOS)]
    pub scenarios: Vec<Scenario>,
    /// Concurrent keep-alive connections per scenario.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub connections: u32,
    /// Seconds each scenario is measured for.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Runs of the whole scenario list, each with its own ceiling; every
    /// scenario is reported by its median round (ratios measured in one
    /// round against that round's ceiling). Three rounds steady the figures
    /// on a shared machine.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub rounds: u32,
    /// Seconds of load before the measurement starts (not counted).
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Every scenario for 2 s without warm-up, one round, and 2,000 entries for fill:
    /// proves the benchmark works, measures nothing worth keeping.
    #[arg(long)]
    pub quick: bool,
    /// Target a running server (http://host:port) instead of starting one.
    #[arg(long, value_name = "URL", requires = "token")]
    pub addr: Option<String>,
    /// With --addr: a token allowed to set the benchmark up (mount, policy,
    /// token, AppRole role, login quota), usually a root token.
    #[arg(long, env = "COFFER_BENCH_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// With --addr: the server's process id, to report its memory.
    #[arg(long, value_name = "PID", requires = "addr")]
    pub server_pid: Option<u32>,
    /// Storage of the server this tool starts.
    #[arg(long, value_enum, default_value_t = StorageKind::Inmem)]
    pub storage: StorageKind,
    /// The `coffer` binary to start (default: next to this one).
    #[arg(long, value_name = "FILE")]
    pub coffer_bin: Option<PathBuf>,
    /// Directory for the redb file and the fsync probe (default: the system
    /// temporary directory). Put it on the disk you want measured.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Start the redb server with `disable_mlock = true` (for a user who
    /// may not lock memory); by default it locks memory as in production.
    #[arg(long)]
    pub disable_mlock: bool,
    /// KV entries written, and leases created, by `fill`.
    #[arg(long, default_value_t = 1_000_000)]
    pub entries: u64,
    /// Worker threads of the load generator.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub client_threads: u32,
    /// Print the results as JSON (a list of objects) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Internal commands.
    #[command(subcommand)]
    pub command: Option<Internal>,
}

/// Commands the benchmark runs in its own child processes.
#[derive(Subcommand)]
pub(crate) enum Internal {
    /// The ceiling: a bare hyper server answering every request with a JSON
    /// body of the given size. Prints `listening on ADDR`, then serves until
    /// killed.
    #[command(hide = true)]
    CeilingServer {
        /// Size of the JSON body, in bytes.
        #[arg(long)]
        body_bytes: usize,
    },
}

/// Where the started server keeps its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum StorageKind {
    /// `coffer server --dev`: in memory.
    Inmem,
    /// A production-mode server on an embedded redb file (every write
    /// fsynced before it is acknowledged).
    Redb,
}

impl StorageKind {
    /// The name shown in reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            StorageKind::Inmem => "inmem",
            StorageKind::Redb => "redb",
        }
    }
}

/// The settings of one run, after `--quick` is applied.
#[derive(Clone, Debug)]
pub(crate) struct RunSettings {
    /// Connections per scenario.
    pub connections: usize,
    /// Measured seconds per scenario.
    pub duration: std::time::Duration,
    /// Unmeasured seconds before each scenario.
    pub warmup: std::time::Duration,
    /// Entries (and leases) written by `fill`.
    pub entries: u64,
    /// Rounds of the repeated scenarios.
    pub rounds: usize,
}

impl Args {
    /// The run's settings; `--quick` overrides duration, warm-up and entries.
    pub(crate) fn settings(&self) -> anyhow::Result<RunSettings> {
        let seconds = |name: &str, v: f64| {
            if v.is_finite() && (0.0..=86_400.0).contains(&v) {
                Ok(std::time::Duration::from_secs_f64(v))
            } else {
                Err(anyhow::anyhow!(
                    "--{name} must be a number of seconds between 0 and 86400"
                ))
            }
        };
        let (duration, warmup, entries) = if self.quick {
            (2.0, 0.0, self.entries.min(2_000))
        } else {
            (self.duration, self.warmup, self.entries)
        };
        let duration = seconds("duration", duration)?;
        if duration.is_zero() {
            anyhow::bail!("--duration must be more than 0 seconds");
        }
        Ok(RunSettings {
            connections: usize::try_from(self.connections)?,
            duration,
            warmup: seconds("warmup", warmup)?,
            entries,
            rounds: if self.quick {
                1
            } else {
                usize::try_from(self.rounds)?
            },
        })
    }
}
