//! The scheduler as one mount sees it: [`coffer_sdk::JobRegistry`] with job
//! ids relative to the mount.

use std::sync::Arc;

use async_trait::async_trait;
use coffer_sdk::{JobRegistry, JobSchedule, JobStatus};
use coffer_types::Result;

use crate::job::{JobSpec, JobState};
use crate::schedule::Schedule;
use crate::scheduler::Scheduler;

/// One mount's view of the scheduler: job `static-roles/web` of the mount
/// `database/` is the scheduler's job `database/static-roles/web`.
#[derive(Clone, Debug)]
pub struct MountJobs {
    scheduler: Arc<Scheduler>,
    mount: String,
}

impl MountJobs {
    /// The jobs of the mount at `mount` (with its trailing slash).
    pub fn new(scheduler: Arc<Scheduler>, mount: impl Into<String>) -> Self {
        Self {
            scheduler,
            mount: mount.into(),
        }
    }

    fn id(&self, job: &str) -> String {
        format!("{}{}", self.mount, job)
    }
}

fn to_schedule(schedule: &JobSchedule) -> crate::Result<Schedule> {
    match schedule {
        JobSchedule::Every(period) => Schedule::every(*period),
        JobSchedule::Cron { expr, window } => Schedule::parse_cron(expr, *window),
    }
}

fn to_status(job: JobState) -> JobStatus {
    JobStatus {
        next_run: job.next_run,
        last_run: job.last_run,
        last_success: job.last_success,
        last_error: job.last_error,
        attempts: job.attempts,
    }
}

#[async_trait]
impl JobRegistry for MountJobs {
    fn validate(&self, schedule: &JobSchedule) -> Result<()> {
        let schedule = to_schedule(schedule)?;
        schedule.next_after(self.scheduler.clock.now())?;
        Ok(())
    }

    async fn schedule(&self, job: &str, kind: &str, schedule: &JobSchedule) -> Result<JobStatus> {
        let spec = JobSpec {
            id: self.id(job),
            kind: kind.to_owned(),
            schedule: to_schedule(schedule)?,
        };
        Ok(to_status(self.scheduler.upsert(spec).await?))
    }

    async fn restart(&self, job: &str) -> Result<()> {
        self.scheduler.restart(&self.id(job)).await?;
        Ok(())
    }

    async fn due_now(&self, job: &str) -> Result<()> {
        let now = self.scheduler.clock.now();
        self.scheduler.set_next_run(&self.id(job), now).await?;
        Ok(())
    }

    async fn unschedule(&self, job: &str) -> Result<()> {
        Ok(self.scheduler.remove(&self.id(job)).await?)
    }

    async fn status(&self, job: &str) -> Result<Option<JobStatus>> {
        Ok(self.scheduler.get(&self.id(job)).await?.map(to_status))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use coffer_sdk::{Clock, ManualClock};
    use coffer_storage::{MemoryStorage, Prefix, View};

    use super::*;

    #[tokio::test]
    async fn prefixes_ids_and_moves_due_times() {
        let clock = Arc::new(ManualClock::new(
            UNIX_EPOCH + Duration::from_secs(1_000_000),
        ));
        let view = View::new(
            Arc::new(MemoryStorage::new()),
            Prefix::new("sys/scheduler/").unwrap(),
        );
        let scheduler = Scheduler::load(view, clock.clone()).await.unwrap();
        let jobs = MountJobs::new(scheduler.clone(), "database/");
        let hourly = JobSchedule::Every(Duration::from_secs(3600));
        let first = jobs
            .schedule("static-roles/web", "static-role-rotation", &hourly)
            .await
            .unwrap();
        assert_eq!(first.next_run, clock.now() + Duration::from_secs(3600));
        assert!(
            scheduler
                .get("database/static-roles/web")
                .await
                .unwrap()
                .is_some()
        );

        jobs.due_now("static-roles/web").await.unwrap();
        let due = jobs.status("static-roles/web").await.unwrap().unwrap();
        assert_eq!(due.next_run, clock.now());

        clock.advance(Duration::from_secs(10));
        jobs.restart("static-roles/web").await.unwrap();
        let again = jobs.status("static-roles/web").await.unwrap().unwrap();
        assert_eq!(again.next_run, clock.now() + Duration::from_secs(3600));

        let bad = JobSchedule::Cron {
            expr: "61 * * * *".into(),
            window: None,
        };
        assert_eq!(jobs.validate(&bad).unwrap_err().status(), 400);
        assert_eq!(jobs.restart("nothing").await.unwrap_err().status(), 404);

        jobs.unschedule("static-roles/web").await.unwrap();
        assert_eq!(jobs.status("static-roles/web").await.unwrap(), None);
    }
}
