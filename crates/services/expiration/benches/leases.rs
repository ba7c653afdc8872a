//! The lease table at scale: registers 1,000,000 leases (100,000 with
//! `--quick` or `COFFER_BENCH_QUICK=1`) into redb storage on a temporary
//! file, prints the time it took and the process's resident memory, then
//! measures with criterion how long revoking one lease takes with the table
//! full, and how long a `tick` with nothing due takes.
//!
//! A fresh child process then reopens the file and measures load time,
//! memory and the latency of 1,000 revocations without the page cache the
//! registration left behind.
//!
//! Run: `cargo bench -p coffer-expiration --bench leases [-- --quick]`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use coffer_expiration::{ExpirationManager, LeaseEntry, LeaseHandler, LeaseKind, NewLease};
use coffer_sdk::SystemClock;
use coffer_storage::{Prefix, Storage, View};
use coffer_storage_redb::RedbStorage;
use criterion::Criterion;
use serde_json::{Map, Value};

/// Leases per `register_batch` call (one storage transaction each).
const BATCH: usize = 1_000;

/// A backend that revokes and renews at once, so the numbers are those of
/// the manager and its storage.
struct InstantBackend;

#[async_trait]
impl LeaseHandler for InstantBackend {
    async fn revoke(&self, _lease: &LeaseEntry) -> coffer_types::Result<()> {
        Ok(())
    }

    async fn renew(
        &self,
        _lease: &LeaseEntry,
        increment: Duration,
    ) -> coffer_types::Result<Duration> {
        Ok(increment)
    }
}

/// The `n`-th lease: spread over 100 roles, 1,000 tokens and a day of
/// expiry times, like a busy database mount.
fn new_lease(n: usize) -> NewLease {
    let mut internal_data = Map::new();
    internal_data.insert(
        "username".into(),
        Value::String(format!("v-token-web-{n:09}")),
    );
    internal_data.insert("role".into(), Value::String(format!("role{}", n % 100)));
    NewLease {
        path: format!("database/creds/role{}", n % 100),
        kind: LeaseKind::Secret,
        mount_accessor: "database_0a1b2c3d".into(),
        ttl: Duration::from_secs(3_600 + (n as u64 * 7_919) % 86_400),
        max_ttl: Duration::from_secs(30 * 86_400),
        renewable: true,
        internal_data,
        token_ref: format!("{:064x}", n % 1_000),
        id_suffix: None,
    }
}

/// The process's resident set size in KiB (Linux `VmRSS`).
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn show_rss(when: &str) {
    match rss_kib() {
        Some(kib) => println!("RSS {when}: {:.1} MiB", kib as f64 / 1024.0),
        None => println!("RSS {when}: unavailable"),
    }
}

/// Percentile `p` (0..=100) of sorted samples.
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[(sorted.len() - 1) * p / 100]
}

/// Child mode: a fresh process opens the full lease file, loads the
/// manager, revokes 1,000 leases and runs a tick, printing memory and
/// latencies, so the numbers hold no page cache left over from registering.
fn fresh_process(file: &std::path::Path) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    show_rss("[fresh process] at start");
    rt.block_on(async {
        let storage: Arc<dyn Storage> = Arc::new(
            RedbStorage::open_async(file, coffer_storage_redb::DEFAULT_PAGE_CACHE_BYTES)
                .await
                .expect("open redb"),
        );
        let view = View::new(storage, Prefix::new("sys/expire/").expect("prefix"));
        let started = Instant::now();
        let manager =
            ExpirationManager::load(view, Arc::new(SystemClock), Arc::new(InstantBackend))
                .await
                .expect("load");
        println!("[fresh process] load took {:.1?}", started.elapsed());
        show_rss("[fresh process] after load");
        let victims: Vec<String> = manager
            .list("database/creds/role7/")
            .await
            .expect("list")
            .into_iter()
            .take(1_000)
            .map(|random| format!("database/creds/role7/{random}"))
            .collect();
        let mut times = Vec::with_capacity(victims.len());
        for lease_id in &victims {
            let t = Instant::now();
            manager.revoke(lease_id).await.expect("revoke");
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "[fresh process] revoke one lease: {} revokes, p50 {:.1?}, p99 {:.1?}, max {:.1?}",
            times.len(),
            percentile(&times, 50),
            percentile(&times, 99),
            percentile(&times, 100)
        );
        let t = Instant::now();
        let report = manager.tick().await.expect("tick");
        println!(
            "[fresh process] tick (nothing due) took {:.1?}: {report:?}",
            t.elapsed()
        );
        show_rss("[fresh process] after revokes and tick");
    });
}

fn main() {
    if let Some(file) = std::env::var_os("COFFER_BENCH_REOPEN") {
        fresh_process(std::path::Path::new(&file));
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick")
        || std::env::var("COFFER_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let total: usize = if quick { 100_000 } else { 1_000_000 };

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("leases.redb");
    let redb = Arc::new(
        rt.block_on(RedbStorage::open_async(
            &file,
            coffer_storage_redb::DEFAULT_PAGE_CACHE_BYTES,
        ))
        .expect("open redb"),
    );
    let storage: Arc<dyn Storage> = redb.clone();
    let view = View::new(storage.clone(), Prefix::new("sys/expire/").expect("prefix"));
    let clock = Arc::new(SystemClock);
    let handler = Arc::new(InstantBackend);
    let manager = rt
        .block_on(ExpirationManager::load(
            view.clone(),
            clock.clone(),
            handler.clone(),
        ))
        .expect("load");
    show_rss("before registration");

    let started = Instant::now();
    rt.block_on(async {
        for first in (0..total).step_by(BATCH) {
            let batch = (first..(first + BATCH).min(total)).map(new_lease).collect();
            manager.register_batch(batch).await.expect("register batch");
            if (first + BATCH).is_multiple_of(100_000) {
                println!("  {} leases after {:.1?}", first + BATCH, started.elapsed());
            }
        }
    });
    let took = started.elapsed();
    println!(
        "registered {total} leases in {took:.1?} ({:.0} leases/s, batches of {BATCH})",
        total as f64 / took.as_secs_f64()
    );
    show_rss("after registration (includes redb's page cache, up to 1 GiB by default)");
    if let Ok(meta) = std::fs::metadata(&file) {
        println!(
            "redb file: {:.1} MiB",
            meta.len() as f64 / (1024.0 * 1024.0)
        );
    }

    // Close the store and measure a fresh process over the same file.
    drop((manager, view, storage));
    if let Ok(store) = Arc::try_unwrap(redb) {
        rt.block_on(store.close()).expect("close redb");
    }
    let status = std::process::Command::new(std::env::current_exe().expect("own path"))
        .env("COFFER_BENCH_REOPEN", &file)
        .status()
        .expect("run the fresh process");
    assert!(status.success(), "fresh process failed: {status}");

    let storage: Arc<dyn Storage> = Arc::new(
        rt.block_on(RedbStorage::open_async(
            &file,
            coffer_storage_redb::DEFAULT_PAGE_CACHE_BYTES,
        ))
        .expect("reopen redb"),
    );
    let view = View::new(storage, Prefix::new("sys/expire/").expect("prefix"));
    let manager = rt
        .block_on(ExpirationManager::load(view, clock, handler))
        .expect("load");

    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    let mut n = total;
    criterion.bench_function(&format!("revoke one lease among {total}"), |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    // Registering the victim is not measured.
                    let lease = manager.register(new_lease(n)).await.expect("register");
                    n += 1;
                    let t = Instant::now();
                    manager.revoke(&lease.lease_id).await.expect("revoke");
                    spent += t.elapsed();
                }
                spent
            })
        })
    });
    criterion.bench_function(&format!("tick with nothing due among {total}"), |b| {
        b.iter(|| rt.block_on(manager.tick()).expect("tick"))
    });
    criterion.final_summary();
    show_rss("at the end");
}
