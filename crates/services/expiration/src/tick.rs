//! Expiry: `tick` walks the time index from its start up to now, revoking
//! due leases in bounded batches; `spawn` runs it every second.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use coffer_storage::{Key, Storage};
use futures::future::join_all;

use crate::keys;
use crate::revoke::Outcome;
use crate::{ExpirationManager, Result};

/// Index entries read per storage call, and revocations run concurrently.
const BATCH: usize = 64;
/// Time-index folders (seconds) read per storage call.
const FOLDERS: usize = 64;
/// Most index entries one `tick` looks at; the rest wait for the next one
/// (`TickReport::more` says so), which keeps each tick short.
const MAX_PER_TICK: usize = 4096;

/// What one [`ExpirationManager::tick`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TickReport {
    /// Leases revoked and removed.
    pub revoked: u64,
    /// Revocations that failed and were scheduled for a retry.
    pub failed: u64,
    /// Leases that became irrevocable.
    pub irrevocable: u64,
    /// Index entries that pointed at nothing and were removed.
    pub cleaned: u64,
    /// True when the tick stopped at its batch limit with more due.
    pub more: bool,
}

/// What became of one time-index entry.
enum Step {
    Done(Outcome),
    /// Stale or dangling index entry, removed.
    Cleaned,
    /// Not due yet (later in the same second), or unreadable: left alone.
    Skipped,
}

impl ExpirationManager {
    /// Revokes every lease whose expiry is at or before `clock.now()` and
    /// retries failed revocations whose back-off has passed. Reads the time
    /// index in order from its start, a batch at a time, so memory stays
    /// bounded however many leases exist; stops after a few thousand
    /// entries and reports `more`. Tests call it after advancing a
    /// `ManualClock`.
    pub async fn tick(&self) -> Result<TickReport> {
        let _one_at_a_time = self.ticking.lock().await;
        let now = self.clock.now();
        let now_secs = keys::unix_secs(now);
        let exp = keys::prefix(keys::EXP)?;
        let mut report = TickReport::default();
        let mut seen = 0usize;
        let mut folder_after: Option<String> = None;
        'folders: loop {
            let folders = self
                .view
                .list_page(&exp, folder_after.as_deref(), FOLDERS)
                .await?;
            for folder in &folders {
                folder_after = Some(folder.clone());
                let Some(secs) = keys::parse_exp_folder(folder) else {
                    continue;
                };
                if secs > now_secs {
                    break 'folders;
                }
                let here = exp.join_prefix(folder)?;
                let mut after: Option<String> = None;
                loop {
                    let page = self.view.list_page(&here, after.as_deref(), BATCH).await?;
                    let Some(last) = page.last() else { break };
                    after = Some(last.clone());
                    let steps = join_all(page.iter().map(|escaped| async {
                        match here.join(escaped) {
                            Ok(key) => self.expire_one(key, escaped, now).await,
                            Err(_) => Ok(Step::Skipped),
                        }
                    }))
                    .await;
                    for step in steps {
                        match step? {
                            Step::Done(Outcome::Revoked) => report.revoked += 1,
                            Step::Done(Outcome::Failed) => report.failed += 1,
                            Step::Done(Outcome::Irrevocable) => report.irrevocable += 1,
                            Step::Cleaned => report.cleaned += 1,
                            Step::Skipped => {}
                        }
                    }
                    seen += page.len();
                    if seen >= MAX_PER_TICK {
                        report.more = true;
                        break 'folders;
                    }
                    if page.len() < BATCH {
                        break;
                    }
                }
            }
            if folders.len() < FOLDERS {
                break;
            }
        }
        Ok(report)
    }

    /// Handles the time-index entry `key` (escaped lease id `escaped`).
    async fn expire_one(&self, key: Key, escaped: &str, now: SystemTime) -> Result<Step> {
        let Some(lease_id) = keys::unescape(escaped) else {
            self.view.delete(&key).await?;
            return Ok(Step::Cleaned);
        };
        let _lock = self.locks.lock(&lease_id).await;
        let entry = match self.lookup(&lease_id).await {
            Ok(Some(entry)) => entry,
            Ok(None) => {
                self.view.delete(&key).await?;
                return Ok(Step::Cleaned);
            }
            Err(err) => {
                tracing::error!(lease_id = %lease_id, error = %err, "cannot read lease to expire it");
                return Ok(Step::Skipped);
            }
        };
        // The record decides: an entry it does not point at is stale.
        if keys::exp_key(&entry)?.as_ref() != Some(&key) {
            self.view.delete(&key).await?;
            return Ok(Step::Cleaned);
        }
        if entry.due().is_none_or(|due| due > now) {
            return Ok(Step::Skipped);
        }
        match self.handler.revoke(&entry).await {
            Ok(()) => {
                self.commit(Some(&entry), None).await?;
                tracing::debug!(lease_id = %lease_id, "revoked expired lease");
                Ok(Step::Done(Outcome::Revoked))
            }
            Err(err) => Ok(Step::Done(self.record_failure(&entry, &err, now).await?)),
        }
    }

    /// Runs [`ExpirationManager::tick`] every second (and again at once while
    /// it reports `more`) until `shutdown` resolves or the manager is
    /// dropped. The server uses it; tests call `tick` themselves.
    pub fn spawn(
        self: &Arc<Self>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let this = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut shutdown = std::pin::pin!(shutdown);
            let mut every = tokio::time::interval(Duration::from_secs(1));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = &mut shutdown => break,
                    _ = every.tick() => {}
                }
                let Some(manager) = this.upgrade() else { break };
                // A bounded burst, then back to checking for shutdown.
                for _ in 0..16 {
                    match manager.tick().await {
                        Ok(report) if report.more => continue,
                        Ok(_) => break,
                        Err(err) => {
                            tracing::error!(error = %err, "lease expiration pass failed");
                            break;
                        }
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use coffer_types::Error;

    use super::*;
    use crate::revoke::{MAX_REVOKE_ATTEMPTS, revoke_backoff};
    use crate::test_support::{Harness, secret};

    #[tokio::test]
    async fn leases_are_revoked_once_the_clock_passes_their_expiry() {
        let h = Harness::new().await;
        let short = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        let long = h.mgr.register(secret("db/creds/a", 3600)).await.unwrap();
        assert_eq!(h.mgr.tick().await.unwrap(), TickReport::default());
        h.clock.advance(Duration::from_secs(59));
        assert_eq!(h.mgr.tick().await.unwrap().revoked, 0);
        h.clock.advance(Duration::from_secs(1));
        let report = h.mgr.tick().await.unwrap();
        assert_eq!(report.revoked, 1);
        assert_eq!(h.handler.revoked(), std::slice::from_ref(&short.lease_id));
        assert!(h.mgr.lookup(&short.lease_id).await.unwrap().is_none());
        assert!(h.mgr.lookup(&long.lease_id).await.unwrap().is_some());
        h.clock.advance(Duration::from_secs(3600));
        assert_eq!(h.mgr.tick().await.unwrap().revoked, 1);
        assert_eq!(h.keys().await, ["meta/format"]);
    }

    #[tokio::test]
    async fn sub_second_expiry_waits_for_the_exact_instant() {
        let h = Harness::new().await;
        h.clock.advance(Duration::from_millis(300));
        let lease = h.mgr.register(secret("db/creds/a", 1)).await.unwrap();
        h.clock.advance(Duration::from_millis(999));
        assert_eq!(
            h.mgr.tick().await.unwrap().revoked,
            0,
            "same second, not yet due"
        );
        h.clock.advance(Duration::from_millis(1));
        assert_eq!(h.mgr.tick().await.unwrap().revoked, 1);
        assert_eq!(h.handler.revoked(), [lease.lease_id]);
    }

    #[tokio::test]
    async fn failing_backend_is_retried_with_exponential_backoff_and_never_lost() {
        let h = Harness::new().await;
        let lease = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        h.handler
            .fail_with(Some(Error::internal("connection refused")));
        let start = h.now();
        h.clock.advance(Duration::from_secs(60));
        assert_eq!(h.mgr.tick().await.unwrap().failed, 1);

        // Walk the clock a second at a time: attempts happen exactly at the
        // back-off instants, never in between.
        let mut expected = vec![start + Duration::from_secs(60)];
        for attempt in 1..MAX_REVOKE_ATTEMPTS - 1 {
            let next = *expected.last().unwrap() + revoke_backoff(attempt);
            expected.push(next);
        }
        let last = *expected.last().unwrap();
        while h.now() < last {
            h.clock.advance(Duration::from_secs(1));
            h.mgr.tick().await.unwrap();
            let kept = h.mgr.lookup(&lease.lease_id).await.unwrap();
            assert!(kept.is_some(), "the lease must not be lost");
        }
        assert_eq!(h.handler.attempts(), expected);
        let gaps: Vec<u64> = expected
            .windows(2)
            .map(|w| w[1].duration_since(w[0]).unwrap().as_secs())
            .collect();
        assert_eq!(gaps, [20, 40, 80, 160]);

        let kept = h.mgr.lookup(&lease.lease_id).await.unwrap().unwrap();
        assert_eq!(kept.revoke_attempts, MAX_REVOKE_ATTEMPTS - 1);
        assert_eq!(kept.last_error.as_deref(), Some("connection refused"));
        assert!(!kept.irrevocable);

        // The last attempt fails too: the lease is kept as irrevocable.
        h.clock.advance(revoke_backoff(MAX_REVOKE_ATTEMPTS - 1));
        assert_eq!(h.mgr.tick().await.unwrap().irrevocable, 1);
        let kept = h.mgr.lookup(&lease.lease_id).await.unwrap().unwrap();
        assert!(kept.irrevocable);
        assert_eq!(
            kept.last_error.as_deref(),
            Some("out of retries: connection refused")
        );
        // No more automatic attempts.
        let attempts = h.handler.attempts().len();
        h.clock.advance(Duration::from_secs(86_400));
        h.mgr.tick().await.unwrap();
        assert_eq!(h.handler.attempts().len(), attempts);
        // The backoff state survives a restart.
        let again = h.reload().await;
        assert!(
            again
                .lookup(&lease.lease_id)
                .await
                .unwrap()
                .unwrap()
                .irrevocable
        );
    }

    #[tokio::test]
    async fn a_retry_after_a_restart_uses_the_stored_schedule() {
        let h = Harness::new().await;
        let lease = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        h.handler.fail_with(Some(Error::internal("down")));
        h.clock.advance(Duration::from_secs(60));
        h.mgr.tick().await.unwrap();
        let again = h.reload().await;
        h.handler.fail_with(None);
        h.clock.advance(Duration::from_secs(19));
        assert_eq!(again.tick().await.unwrap().revoked, 0);
        h.clock.advance(Duration::from_secs(1));
        assert_eq!(again.tick().await.unwrap().revoked, 1);
        assert_eq!(h.handler.revoked(), [lease.lease_id]);
    }

    #[tokio::test]
    async fn a_tick_is_bounded_and_reports_more() {
        let h = Harness::new().await;
        let n = MAX_PER_TICK + 10;
        for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
            h.mgr
                .register_batch(chunk.iter().map(|_| secret("db/creds/bulk", 5)).collect())
                .await
                .unwrap();
        }
        h.clock.advance(Duration::from_secs(5));
        let first = h.mgr.tick().await.unwrap();
        assert!(first.more);
        assert_eq!(first.revoked as usize, MAX_PER_TICK);
        let second = h.mgr.tick().await.unwrap();
        assert!(!second.more);
        assert_eq!(second.revoked, 10);
    }

    #[tokio::test]
    async fn dangling_and_stale_index_entries_are_cleaned() {
        let h = Harness::new().await;
        let exp = keys::prefix(keys::EXP).unwrap();
        let folder = keys::exp_folder(h.now());
        for name in [
            keys::escape("db/creds/gone/x"),
            "db%2Fnot%2Fa%2Flease".to_owned(),
        ] {
            let key = exp.join(&format!("{folder}/{name}")).unwrap();
            h.mgr.view.put(&key, Vec::new()).await.unwrap();
        }
        let report = h.mgr.tick().await.unwrap();
        assert_eq!(report.cleaned, 2);
        assert_eq!(h.keys().await, ["meta/format"]);
    }

    /// How long the spawned loop gets to act or to stop: far beyond its
    /// one-second period on a loaded machine, so only a loop that never
    /// acts or never stops fails (rather than hanging the run).
    const LOOP_BOUND: Duration = Duration::from_secs(60);

    /// Waits (bounded) until the handler has revoked `lease_id`.
    async fn revoked_within_bound(h: &Harness, lease_id: &str) -> bool {
        let deadline = tokio::time::Instant::now() + LOOP_BOUND;
        while tokio::time::Instant::now() < deadline {
            if h.handler.revoked().iter().any(|l| l == lease_id) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    #[tokio::test]
    async fn spawn_revokes_then_stops_on_shutdown() {
        let h = Harness::new().await;
        let due = h.mgr.register(secret("db/creds/a", 5)).await.unwrap();
        h.clock.advance(Duration::from_secs(5));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = h.mgr.spawn(async move {
            let _ = rx.await;
        });
        // The loop runs: the due lease is revoked without a manual tick.
        assert!(
            revoked_within_bound(&h, &due.lease_id).await,
            "the spawned loop never revoked the due lease"
        );
        tx.send(()).unwrap();
        tokio::time::timeout(LOOP_BOUND, task)
            .await
            .expect("the loop did not stop on shutdown")
            .unwrap();
    }

    #[tokio::test]
    async fn spawn_stops_when_the_manager_is_dropped() {
        let h = Harness::new().await;
        let task = h.mgr.spawn(std::future::pending());
        let Harness { mgr, handler, .. } = h;
        drop(mgr);
        tokio::time::timeout(LOOP_BOUND, task)
            .await
            .expect("the loop outlived its manager")
            .unwrap();
        assert!(handler.revoked().is_empty());
    }
}
