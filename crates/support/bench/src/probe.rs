//! Measurements that are not HTTP load: the disk's single-writer fsync rate
//! and the server's resident memory over time.

use std::os::unix::fs::FileExt as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::load::LoadOutcome;
use crate::target::rss_kib;

/// One writer doing what a database commit does at least once: write 4 KiB
/// and `fdatasync`, in a loop for `duration`, in a file under `dir`. The rate
/// is how many durable commits per second the disk allows without grouping.
pub(crate) async fn fsync_rate(dir: &Path, duration: Duration) -> anyhow::Result<LoadOutcome> {
    let path = dir.join("fsync-probe");
    tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        let block = [0x5au8; 4096];
        let mut outcome = LoadOutcome::default();
        let began = Instant::now();
        let mut n: u64 = 0;
        while began.elapsed() < duration {
            let t = Instant::now();
            file.write_all_at(&block, (n % 256) * 4096)
                .and_then(|()| file.sync_data())
                .with_context(|| format!("writing and syncing {}", path.display()))?;
            let us = t.elapsed().as_micros();
            outcome
                .latencies_us
                .push(u32::try_from(us).unwrap_or(u32::MAX));
            n += 1;
        }
        outcome.elapsed = began.elapsed();
        outcome.completed = n;
        outcome.latencies_us.sort_unstable();
        drop(file);
        std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        Ok(outcome)
    })
    .await
    .context("the fsync probe did not finish")?
}

/// Samples a process's resident memory every 20 ms until finished.
pub(crate) struct RssSampler {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<Option<u64>>>,
}

impl RssSampler {
    /// Starts sampling `pid` (nothing to sample when `None`).
    pub(crate) fn start(pid: Option<u32>) -> Self {
        let (stop, mut stopped) = watch::channel(false);
        let task = pid.map(|pid| {
            tokio::spawn(async move {
                let mut peak = rss_kib(pid);
                loop {
                    tokio::select! {
                        _ = stopped.changed() => break,
                        () = tokio::time::sleep(Duration::from_millis(20)) => {}
                    }
                    peak = peak.max(rss_kib(pid));
                }
                peak.max(rss_kib(pid))
            })
        });
        Self { stop, task }
    }

    /// Stops sampling and returns the highest resident memory seen, in KiB.
    pub(crate) async fn peak(mut self) -> Option<u64> {
        let _ = self.stop.send(true);
        match self.task.take() {
            Some(task) => task.await.ok().flatten(),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_fsync_probe_counts_durable_writes_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let outcome = fsync_rate(dir.path(), Duration::from_millis(200))
            .await
            .unwrap();
        assert!(outcome.completed > 0);
        assert_eq!(outcome.latencies_us.len() as u64, outcome.completed);
        assert!(outcome.rate() > 0.0);
        assert!(!dir.path().join("fsync-probe").exists());
    }

    #[tokio::test]
    async fn the_sampler_sees_this_process() {
        let sampler = RssSampler::start(Some(std::process::id()));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(sampler.peak().await.unwrap() > 0);
        assert_eq!(RssSampler::start(None).peak().await, None);
    }
}
