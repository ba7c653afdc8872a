//! Running jobs: the periodic tick (with catch-up, the window and back-off)
//! and on-demand runs.

use coffer_types::duration::time_after;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use coffer_storage::{Storage, WriteOp};

use crate::backoff;
use crate::error::{Result, SchedulerError};
use crate::guard::RunGuard;
use crate::job::JobState;
use crate::keys;
use crate::schedule::{Schedule, ceil_secs};
use crate::scheduler::Scheduler;

/// Does the work of a job; the server implements it and dispatches on
/// [`JobState::kind`]. Error messages are stored and shown by
/// `sys/rotation`, so they must not contain secrets.
#[async_trait]
pub trait JobRunner: Send + Sync {
    /// Runs `job` once. An error keeps the job and schedules a retry.
    async fn run(&self, job: &JobState) -> coffer_types::Result<()>;
}

/// What one [`Scheduler::tick`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TickReport {
    /// Jobs that ran and succeeded.
    pub succeeded: Vec<String>,
    /// Jobs that ran and failed (retried with back-off).
    pub failed: Vec<String>,
    /// Jobs whose rotation window had passed: not run, moved to the next fire time.
    pub skipped: Vec<String>,
    /// Due jobs not run because they were already running.
    pub busy: Vec<String>,
}

impl TickReport {
    /// How many jobs ran (successfully or not).
    pub fn ran(&self) -> usize {
        self.succeeded.len() + self.failed.len()
    }
}

/// How many index folders one storage listing fetches.
const PAGE: usize = 64;
/// Where a job goes when its schedule cannot give a next time (it never drops).
const FALLBACK: Duration = Duration::from_secs(3600);

/// The next scheduled time after `now`, or an hour from now (logged) if the
/// schedule cannot say: a job is never dropped.
fn next_scheduled(job: &JobState, now: SystemTime) -> SystemTime {
    job.schedule.next_after(now).unwrap_or_else(|e| {
        tracing::warn!(id = %job.id, error = %e, "scheduled job has no next run time; retrying in an hour");
        ceil_secs(time_after(now, FALLBACK))
    })
}

/// Whether `job`, due at its `next_run`, has missed its rotation window at `now`.
fn window_missed(job: &JobState, now: SystemTime) -> bool {
    if job.attempts > 0 {
        // A retry after a failure is not a fire time; it runs when due.
        return false;
    }
    match (&job.schedule, job.schedule.window()) {
        (Schedule::Cron { .. }, Some(window)) => time_after(job.next_run, window) < now,
        _ => false,
    }
}

impl Scheduler {
    /// Runs every job due at the clock's now, once each. A job that missed
    /// several runs (downtime) runs once, then its next run is computed from
    /// now. A job already running (another tick, `run_now`) is left alone.
    /// A failure records `last_error`, counts an attempt and retries after
    /// 10s, 20s, 40s, ... (capped at the schedule's period and one hour); a
    /// success resets the attempts and schedules the next run. A cron job
    /// with a window that is due later than the window after its fire time
    /// is skipped to its next fire time.
    pub async fn tick(&self, runner: &dyn JobRunner) -> Result<TickReport> {
        let now = self.clock.now();
        let now_secs = keys::secs(now);
        let mut report = TickReport::default();
        let mut after: Option<String> = None;
        loop {
            let folders = self
                .view
                .list_page(&keys::due_prefix(), after.as_deref(), PAGE)
                .await?;
            let Some(last) = folders.last() else {
                return Ok(report);
            };
            after = Some(last.clone());
            for folder in &folders {
                let Some(secs) = keys::parse_due_folder(folder) else {
                    continue;
                };
                if secs > now_secs {
                    return Ok(report);
                }
                let prefix = keys::due_prefix().join_prefix(folder)?;
                for entry in self.view.list(&prefix).await? {
                    if let Some(id) = keys::unescape(&entry) {
                        self.tick_one(&id, secs, now, runner, &mut report).await?;
                    }
                }
            }
        }
    }

    async fn tick_one(
        &self,
        id: &str,
        folder_secs: u64,
        now: SystemTime,
        runner: &dyn JobRunner,
        report: &mut TickReport,
    ) -> Result<()> {
        let Some(guard) = self.running.try_start(id) else {
            report.busy.push(id.to_owned());
            return Ok(());
        };
        let job = {
            let _lock = self.write.lock().await;
            match self.read(id).await? {
                Some(job) if keys::secs(job.next_run) == folder_secs && job.next_run <= now => {
                    if window_missed(&job, now) {
                        let mut next = job.clone();
                        next.next_run = next_scheduled(&job, now);
                        self.store(Some(&job), &next).await?;
                        tracing::warn!(id, "rotation window missed; skipped to the next fire time");
                        report.skipped.push(id.to_owned());
                        return Ok(());
                    }
                    job
                }
                Some(job) if keys::secs(job.next_run) == folder_secs => return Ok(()),
                _ => {
                    // A stale index entry: the job moved or is gone.
                    let stale = keys::due_key(
                        id,
                        std::time::UNIX_EPOCH + Duration::from_secs(folder_secs),
                    )?;
                    self.view.write_batch(vec![WriteOp::Delete(stale)]).await?;
                    return Ok(());
                }
            }
        };
        match self.execute(guard, job, runner).await? {
            Some(_) => report.failed.push(id.to_owned()),
            None => report.succeeded.push(id.to_owned()),
        }
        Ok(())
    }

    /// Runs one job now, whatever its schedule (`coffer rotation run`). On
    /// success the job's next run is computed from now. A failure is recorded
    /// as in [`Scheduler::tick`] and returned as [`SchedulerError::RunFailed`].
    pub async fn run_now(&self, id: &str, runner: &dyn JobRunner) -> Result<JobState> {
        let Some(guard) = self.running.try_start(id) else {
            return Err(SchedulerError::Busy(id.to_owned()));
        };
        let job = self
            .get(id)
            .await?
            .ok_or_else(|| SchedulerError::NotFound(id.to_owned()))?;
        if let Some(source) = self.execute(guard, job, runner).await? {
            return Err(SchedulerError::RunFailed {
                id: id.to_owned(),
                source,
            });
        }
        self.get(id)
            .await?
            .ok_or_else(|| SchedulerError::NotFound(id.to_owned()))
    }

    /// Runs `job` while `guard` is held and records the outcome on the job's
    /// current record (which an upsert may have changed meanwhile; a job
    /// removed meanwhile stays removed). Returns the runner's error, if any.
    async fn execute(
        &self,
        guard: RunGuard,
        job: JobState,
        runner: &dyn JobRunner,
    ) -> Result<Option<coffer_types::Error>> {
        let started = self.clock.now();
        let outcome = runner.run(&job).await;
        let _lock = self.write.lock().await;
        let Some(old) = self.read(&job.id).await? else {
            return Ok(outcome.err());
        };
        let now = self.clock.now();
        let mut new = old.clone();
        new.last_run = Some(started);
        match &outcome {
            Ok(()) => {
                new.attempts = 0;
                new.last_error = None;
                new.last_success = Some(started);
                new.next_run = next_scheduled(&new, now);
                tracing::info!(id = %new.id, kind = %new.kind, "scheduled job succeeded");
            }
            Err(err) => {
                new.attempts = new.attempts.saturating_add(1);
                new.last_error = Some(err.to_string());
                new.next_run = ceil_secs(time_after(now, backoff::delay(new.attempts)));
                tracing::warn!(
                    id = %new.id,
                    kind = %new.kind,
                    attempts = new.attempts,
                    error = %err,
                    "scheduled job failed; will retry"
                );
            }
        }
        self.store(Some(&old), &new).await?;
        drop(guard);
        Ok(outcome.err())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::UNIX_EPOCH;

    use coffer_sdk::{Clock, ManualClock};
    use coffer_storage::{MemoryStorage, Prefix, Storage, View};
    use tokio::sync::Notify;

    use super::*;
    use crate::job::JobSpec;

    /// Counts runs; fails while `fail` is set; optionally blocks each run
    /// until `release` is notified.
    #[derive(Default)]
    struct Counter {
        runs: AtomicUsize,
        fail: AtomicBool,
        gate: Option<(Notify, Notify)>,
    }

    #[async_trait]
    impl JobRunner for Counter {
        async fn run(&self, _job: &JobState) -> coffer_types::Result<()> {
            self.runs.fetch_add(1, Ordering::SeqCst);
            if let Some((started, release)) = &self.gate {
                started.notify_one();
                release.notified().await;
            }
            if self.fail.load(Ordering::SeqCst) {
                return Err(coffer_types::Error::internal("database unreachable"));
            }
            Ok(())
        }
    }

    const START: u64 = 1_700_000_000; // 2023-11-14T22:13:20Z
    const HOUR: Duration = Duration::from_secs(3600);

    fn storage() -> Arc<dyn Storage> {
        Arc::new(MemoryStorage::new())
    }

    async fn setup(store: &Arc<dyn Storage>) -> (Arc<ManualClock>, Arc<Scheduler>) {
        let clock = Arc::new(ManualClock::new(UNIX_EPOCH + Duration::from_secs(START)));
        let view = View::new(store.clone(), Prefix::new("sys/scheduler/").unwrap());
        (clock.clone(), Scheduler::load(view, clock).await.unwrap())
    }

    fn hourly(id: &str) -> JobSpec {
        JobSpec {
            id: id.into(),
            kind: "static-role-rotation".into(),
            schedule: Schedule::Every(HOUR),
        }
    }

    #[tokio::test]
    async fn runs_when_due_and_reschedules() {
        let store = storage();
        let (clock, s) = setup(&store).await;
        let runner = Counter::default();
        s.upsert(hourly("database/static-roles/web")).await.unwrap();
        assert_eq!(s.tick(&runner).await.unwrap().ran(), 0);
        clock.advance(HOUR - Duration::from_secs(1));
        assert_eq!(s.tick(&runner).await.unwrap().ran(), 0);
        clock.advance(Duration::from_secs(1));
        let report = s.tick(&runner).await.unwrap();
        assert_eq!(report.succeeded, ["database/static-roles/web"]);
        let job = s.get("database/static-roles/web").await.unwrap().unwrap();
        assert_eq!(job.last_run, Some(clock.now()));
        assert_eq!(job.last_success, Some(clock.now()));
        assert_eq!(job.next_run, clock.now() + HOUR);
        // Nothing more this second.
        assert_eq!(s.tick(&runner).await.unwrap().ran(), 0);
        assert_eq!(runner.runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn catch_up_after_downtime_runs_once() {
        let store = storage();
        let (clock, s) = setup(&store).await;
        let runner = Counter::default();
        s.upsert(hourly("a")).await.unwrap();
        clock.advance(HOUR * 10);
        assert_eq!(s.tick(&runner).await.unwrap().ran(), 1);
        assert_eq!(s.tick(&runner).await.unwrap().ran(), 0);
        assert_eq!(runner.runs.load(Ordering::SeqCst), 1);
        let job = s.get("a").await.unwrap().unwrap();
        assert_eq!(job.next_run, clock.now() + HOUR);
    }

    #[tokio::test]
    async fn failure_backs_off_and_recovers_without_losing_the_job() {
        let store = storage();
        let (clock, s) = setup(&store).await;
        let runner = Counter::default();
        runner.fail.store(true, Ordering::SeqCst);
        s.upsert(hourly("a")).await.unwrap();
        clock.advance(HOUR);
        let report = s.tick(&runner).await.unwrap();
        assert_eq!(report.failed, ["a"]);
        let job = s.get("a").await.unwrap().unwrap();
        assert_eq!(job.attempts, 1);
        assert_eq!(job.last_error.as_deref(), Some("database unreachable"));
        assert_eq!(job.last_success, None);
        assert_eq!(job.next_run, clock.now() + Duration::from_secs(10));

        // Not before the back-off; then 20s, 40s, ...
        clock.advance(Duration::from_secs(9));
        assert_eq!(s.tick(&runner).await.unwrap().ran(), 0);
        clock.advance(Duration::from_secs(1));
        assert_eq!(s.tick(&runner).await.unwrap().failed.len(), 1);
        let job = s.get("a").await.unwrap().unwrap();
        assert_eq!(job.attempts, 2);
        assert_eq!(job.next_run, clock.now() + Duration::from_secs(20));

        // Many failures: capped at one hour, never dropped.
        for _ in 0..12 {
            clock.advance(HOUR);
            assert_eq!(s.tick(&runner).await.unwrap().failed.len(), 1);
        }
        let job = s.get("a").await.unwrap().unwrap();
        assert_eq!(job.attempts, 14);
        assert_eq!(job.next_run, clock.now() + HOUR);

        runner.fail.store(false, Ordering::SeqCst);
        clock.advance(HOUR);
        assert_eq!(s.tick(&runner).await.unwrap().succeeded, ["a"]);
        let job = s.get("a").await.unwrap().unwrap();
        assert_eq!(job.attempts, 0);
        assert_eq!(job.last_error, None);
        assert_eq!(job.last_success, Some(clock.now()));
        assert_eq!(job.next_run, clock.now() + HOUR);
    }

    #[tokio::test]
    async fn a_short_period_does_not_cap_the_back_off() {
        // A job every 2 s against an unreachable database (a period stored
        // before the 5 s minimum existed) used to be retried every 2 s.
        let store = storage();
        let (clock, s) = setup(&store).await;
        let runner = Counter::default();
        runner.fail.store(true, Ordering::SeqCst);
        s.upsert(JobSpec {
            id: "root".into(),
            kind: "root-rotation".into(),
            schedule: Schedule::Every(Duration::from_secs(2)),
        })
        .await
        .unwrap();
        let mut delays = Vec::new();
        for _ in 0..10 {
            let job = s.get("root").await.unwrap().unwrap();
            clock.advance(job.next_run.duration_since(clock.now()).unwrap());
            assert_eq!(s.tick(&runner).await.unwrap().failed.len(), 1);
            let job = s.get("root").await.unwrap().unwrap();
            delays.push(job.next_run.duration_since(clock.now()).unwrap().as_secs());
        }
        assert_eq!(delays, [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]);
        // Ten attempts in about two and a half hours, not 4,500.
        assert_eq!(runner.runs.load(Ordering::SeqCst), 10);
    }

    #[tokio::test]
    async fn state_survives_a_new_scheduler_over_the_same_storage() {
        let store = storage();
        let (clock, s) = setup(&store).await;
        let runner = Counter::default();
        s.upsert(hourly("a")).await.unwrap();
        s.upsert(hourly("b")).await.unwrap();
        clock.advance(HOUR);
        s.tick(&runner).await.unwrap();
        let before = s.list().await.unwrap();
        drop(s);

        // "Restart" (or seal and unseal): a new scheduler, a later clock.
        let view = View::new(store.clone(), Prefix::new("sys/scheduler/").unwrap());
        clock.advance(HOUR * 5);
        let s2 = Scheduler::load(view, clock.clone()).await.unwrap();
        assert_eq!(s2.list().await.unwrap(), before);
        assert_eq!(s2.tick(&runner).await.unwrap().ran(), 2);
        assert_eq!(runner.runs.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn run_now_runs_regardless_of_schedule() {
        let store = storage();
        let (clock, s) = setup(&store).await;
        let runner = Counter::default();
        s.upsert(hourly("a")).await.unwrap();
        clock.advance(Duration::from_secs(600));
        let job = s.run_now("a", &runner).await.unwrap();
        assert_eq!(job.last_run, Some(clock.now()));
        assert_eq!(job.next_run, clock.now() + HOUR);
        assert_eq!(runner.runs.load(Ordering::SeqCst), 1);

        runner.fail.store(true, Ordering::SeqCst);
        let err = s.run_now("a", &runner).await.unwrap_err();
        assert_eq!(err.kind().status(), 500);
        assert!(err.to_string().contains("database unreachable"));
        assert_eq!(s.get("a").await.unwrap().unwrap().attempts, 1);

        let err = s.run_now("missing", &runner).await.unwrap_err();
        assert_eq!(err.kind().status(), 404);
    }

    #[tokio::test]
    async fn rotation_window_skips_a_late_run_to_the_next_fire_time() {
        let store = storage();
        let (clock, s) = setup(&store).await;
        let runner = Counter::default();
        // Daily at 00:00 UTC with a one-hour window. START is 22:13:20, so
        // the first fire time is 1h46m40s away.
        let midnight = UNIX_EPOCH + Duration::from_secs(START + 6400);
        let spec = JobSpec {
            id: "database/static-roles/cron".into(),
            kind: "static-role-rotation".into(),
            schedule: Schedule::parse_cron("0 0 * * *", Some(HOUR)).unwrap(),
        };
        assert_eq!(s.upsert(spec).await.unwrap().next_run, midnight);

        // Down until 01:30: outside the window, so no run; next midnight.
        clock.advance(Duration::from_secs(6400 + 5400));
        let report = s.tick(&runner).await.unwrap();
        assert_eq!(report.skipped, ["database/static-roles/cron"]);
        assert_eq!(report.ran(), 0);
        let job = s.get("database/static-roles/cron").await.unwrap().unwrap();
        assert_eq!(job.next_run, midnight + Duration::from_secs(86_400));
        assert_eq!(job.last_run, None);

        // At 00:30 the next day: inside the window, it runs.
        clock.advance(Duration::from_secs(86_400 - 3600));
        assert_eq!(s.tick(&runner).await.unwrap().ran(), 1);
        let job = s.get("database/static-roles/cron").await.unwrap().unwrap();
        assert_eq!(job.next_run, midnight + Duration::from_secs(2 * 86_400));
    }

    #[tokio::test]
    async fn concurrent_ticks_do_not_double_run() {
        let store = storage();
        let (clock, s) = setup(&store).await;
        let runner = Counter {
            gate: Some((Notify::new(), Notify::new())),
            ..Counter::default()
        };
        s.upsert(hourly("a")).await.unwrap();
        clock.advance(HOUR);
        let release = async {
            let (started, release) = runner.gate.as_ref().unwrap();
            started.notified().await;
            // Let the other tick reach the job while the first one runs it.
            for _ in 0..50 {
                tokio::task::yield_now().await;
            }
            release.notify_one();
        };
        let (a, b, ()) = tokio::join!(s.tick(&runner), s.tick(&runner), release);
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.ran() + b.ran(), 1);
        assert_eq!(a.busy.len() + b.busy.len(), 1);
        assert_eq!(runner.runs.load(Ordering::SeqCst), 1);
        // The run moved it to the next period.
        assert_eq!(
            s.get("a").await.unwrap().unwrap().next_run,
            clock.now() + HOUR
        );
    }

    #[tokio::test]
    async fn removed_while_running_stays_removed() {
        let store = storage();
        let (clock, s) = setup(&store).await;
        let runner = Counter {
            gate: Some((Notify::new(), Notify::new())),
            ..Counter::default()
        };
        s.upsert(hourly("a")).await.unwrap();
        clock.advance(HOUR);
        let remove = async {
            let (started, release) = runner.gate.as_ref().unwrap();
            started.notified().await;
            assert_eq!(
                s.run_now("a", &Counter::default())
                    .await
                    .unwrap_err()
                    .kind()
                    .status(),
                400
            );
            s.remove("a").await.unwrap();
            release.notify_one();
        };
        let (report, ()) = tokio::join!(s.tick(&runner), remove);
        assert_eq!(report.unwrap().ran(), 1);
        assert_eq!(s.get("a").await.unwrap(), None);
        assert!(s.list().await.unwrap().is_empty());
        clock.advance(HOUR * 3);
        assert_eq!(s.tick(&runner).await.unwrap().ran(), 0);
    }
}
