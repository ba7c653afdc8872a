//! The scheduler: job records in storage, registration and lookup.

use std::sync::Arc;

use coffer_sdk::Clock;
use coffer_storage::{Key, Storage, View, WriteOp};

use crate::error::{Result, SchedulerError};
use crate::guard::Running;
use crate::job::{JobSpec, JobState};
use crate::keys;

/// One scheduler for every periodic job of the server. Cheap to hold: the
/// jobs live in storage, only the set of jobs running right now is in memory.
/// Load a new one over the same view after a restart or unseal.
pub struct Scheduler {
    pub(crate) view: View,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) running: Running,
    /// Serialises every read-modify-write of a job record and its index entry.
    pub(crate) write: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("view", &self.view)
            .finish_non_exhaustive()
    }
}

fn check_id(id: &str) -> Result<Key> {
    if id.is_empty() || id.trim() != id {
        return Err(SchedulerError::InvalidId(id.to_owned()));
    }
    keys::job_key(id).map_err(|_| SchedulerError::InvalidId(id.to_owned()))
}

impl Scheduler {
    /// A scheduler over the jobs stored in `view`. Reads the index once, so
    /// a sealed or broken storage is reported here rather than at the first tick.
    pub async fn load(view: View, clock: Arc<dyn Clock>) -> Result<Arc<Self>> {
        view.list_page(&keys::due_prefix(), None, 1).await?;
        Ok(Arc::new(Self {
            view,
            clock,
            running: Running::default(),
            write: tokio::sync::Mutex::new(()),
        }))
    }

    /// Registers a job or changes its kind or schedule. The history
    /// (last run, last error, attempts) is kept; the next run is computed
    /// from now, unless the job was already due earlier (a pending retry or
    /// an overdue run), which is kept.
    pub async fn upsert(&self, spec: JobSpec) -> Result<JobState> {
        check_id(&spec.id)?;
        spec.schedule.validate()?;
        let next = spec.schedule.next_after(self.clock.now())?;
        let _lock = self.write.lock().await;
        let old = self.read(&spec.id).await?;
        let new = match &old {
            Some(old) => JobState {
                id: spec.id,
                kind: spec.kind,
                schedule: spec.schedule,
                next_run: old.next_run.min(next),
                ..old.clone()
            },
            None => JobState {
                id: spec.id,
                kind: spec.kind,
                schedule: spec.schedule,
                next_run: next,
                last_run: None,
                last_success: None,
                last_error: None,
                attempts: 0,
            },
        };
        self.store(old.as_ref(), &new).await?;
        tracing::debug!(id = %new.id, kind = %new.kind, "scheduled job registered");
        Ok(new)
    }

    /// Moves a job's next run to `at` (now, to retry at once; or the next
    /// schedule time after a run on demand). A missing job is a 404.
    pub async fn set_next_run(&self, id: &str, at: std::time::SystemTime) -> Result<JobState> {
        check_id(id)?;
        let _lock = self.write.lock().await;
        let old = self
            .read(id)
            .await?
            .ok_or_else(|| SchedulerError::NotFound(id.to_owned()))?;
        let new = JobState {
            next_run: at,
            ..old.clone()
        };
        self.store(Some(&old), &new).await?;
        Ok(new)
    }

    /// Starts a job's schedule again from now: its next run becomes the
    /// first schedule time after now. A missing job is a 404.
    pub async fn restart(&self, id: &str) -> Result<JobState> {
        let job = self
            .get(id)
            .await?
            .ok_or_else(|| SchedulerError::NotFound(id.to_owned()))?;
        let next = job.schedule.next_after(self.clock.now())?;
        self.set_next_run(id, next).await
    }

    /// Removes a job (no error when there is none).
    pub async fn remove(&self, id: &str) -> Result<()> {
        let key = check_id(id)?;
        let _lock = self.write.lock().await;
        let mut ops = vec![WriteOp::Delete(key)];
        if let Some(old) = self.read(id).await? {
            ops.push(WriteOp::Delete(keys::due_key(id, old.next_run)?));
        }
        self.view.write_batch(ops).await?;
        Ok(())
    }

    /// The job with this id, if any.
    pub async fn get(&self, id: &str) -> Result<Option<JobState>> {
        if check_id(id).is_err() {
            return Ok(None);
        }
        self.read(id).await
    }

    /// Every job, sorted by id.
    pub async fn list(&self) -> Result<Vec<JobState>> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .view
                .list_page(&keys::job_prefix(), after.as_deref(), 256)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.clone());
            for name in &page {
                let Some(id) = keys::unescape(name) else {
                    continue;
                };
                if let Some(job) = self.read(&id).await? {
                    out.push(job);
                }
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// Reads a job record.
    pub(crate) async fn read(&self, id: &str) -> Result<Option<JobState>> {
        let key = keys::job_key(id)?;
        let Some(raw) = self.view.get(&key).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&raw)
            .map(Some)
            .map_err(|e| SchedulerError::Corrupt {
                key: key.to_string(),
                reason: e.to_string(),
            })
    }

    /// Writes `new` and moves its index entry from where `old` had it, in
    /// one atomic batch. The caller holds `self.write`.
    pub(crate) async fn store(&self, old: Option<&JobState>, new: &JobState) -> Result<()> {
        let new_due = keys::due_key(&new.id, new.next_run)?;
        let mut ops = Vec::with_capacity(3);
        if let Some(old) = old {
            let old_due = keys::due_key(&old.id, old.next_run)?;
            if old_due != new_due {
                ops.push(WriteOp::Delete(old_due));
            }
        }
        let record = serde_json::to_vec(new).map_err(|e| SchedulerError::Corrupt {
            key: new.id.clone(),
            reason: e.to_string(),
        })?;
        ops.push(WriteOp::Put(new_due, Vec::new()));
        ops.push(WriteOp::Put(keys::job_key(&new.id)?, record));
        self.view.write_batch(ops).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use coffer_sdk::ManualClock;
    use coffer_storage::{MemoryStorage, Prefix};

    use super::*;
    use crate::schedule::Schedule;

    const START: u64 = 1_700_000_000;

    fn view() -> View {
        View::new(
            Arc::new(MemoryStorage::new()),
            Prefix::new("sys/scheduler/").unwrap(),
        )
    }

    fn spec(id: &str, secs: u64) -> JobSpec {
        JobSpec {
            id: id.into(),
            kind: "static-role-rotation".into(),
            schedule: Schedule::Every(Duration::from_secs(secs)),
        }
    }

    async fn setup() -> (Arc<ManualClock>, View, Arc<Scheduler>) {
        let clock = Arc::new(ManualClock::new(UNIX_EPOCH + Duration::from_secs(START)));
        let v = view();
        let s = Scheduler::load(v.clone(), clock.clone()).await.unwrap();
        (clock, v, s)
    }

    #[tokio::test]
    async fn upsert_get_list_remove() {
        let (_clock, v, s) = setup().await;
        let job = s
            .upsert(spec("database/static-roles/web", 3600))
            .await
            .unwrap();
        assert_eq!(job.next_run, UNIX_EPOCH + Duration::from_secs(START + 3600));
        assert_eq!(job.attempts, 0);
        s.upsert(spec("database/config/pg", 60)).await.unwrap();
        let ids: Vec<_> = s.list().await.unwrap().into_iter().map(|j| j.id).collect();
        assert_eq!(ids, ["database/config/pg", "database/static-roles/web"]);
        assert_eq!(s.get("database/static-roles/web").await.unwrap(), Some(job));
        // The index has one entry per job.
        assert_eq!(
            v.list(&Prefix::new("due/").unwrap()).await.unwrap().len(),
            2
        );

        s.remove("database/config/pg").await.unwrap();
        s.remove("database/config/pg").await.unwrap();
        assert_eq!(s.get("database/config/pg").await.unwrap(), None);
        assert_eq!(
            v.list(&Prefix::new("due/").unwrap()).await.unwrap().len(),
            1
        );
    }

    #[tokio::test]
    async fn upsert_keeps_history_and_an_earlier_due_time() {
        let (clock, _v, s) = setup().await;
        let first = s.upsert(spec("a", 3600)).await.unwrap();
        clock.advance(Duration::from_secs(1800));
        // Same schedule again: the earlier due time stays.
        let again = s.upsert(spec("a", 3600)).await.unwrap();
        assert_eq!(again.next_run, first.next_run);
        // A shorter period moves it earlier.
        let shorter = s.upsert(spec("a", 60)).await.unwrap();
        let now = clock.now();
        assert_eq!(shorter.next_run, now + Duration::from_secs(60));
        assert_eq!(shorter.schedule, Schedule::Every(Duration::from_secs(60)));
    }

    #[tokio::test]
    async fn rejects_bad_ids_and_schedules() {
        let (_clock, _v, s) = setup().await;
        for bad in ["", " a", "a\n"] {
            let err = s.upsert(spec(bad, 60)).await.unwrap_err();
            assert_eq!(err.kind().status(), 400, "{bad:?}");
        }
        let never = JobSpec {
            id: "x".into(),
            kind: "k".into(),
            // February 30th never comes.
            schedule: Schedule::parse_cron("0 0 30 2 *", None).unwrap(),
        };
        assert_eq!(s.upsert(never).await.unwrap_err().kind().status(), 400);
        assert_eq!(s.get("").await.unwrap(), None);
    }
}
