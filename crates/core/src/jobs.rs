//! Scheduled jobs: the scheduler calls back here, and the job goes to the
//! engine mounted at the job's path (`database/static-roles/web` goes to the
//! mount `database/` as `static-roles/web`).

use crate::error::CoreError;
use coffer_scheduler::{JobRunner, JobState};
use coffer_types::Result;

use crate::router::RouterHandle;

/// Runs jobs through the backend that owns them.
#[async_trait::async_trait]
impl JobRunner for RouterHandle {
    async fn run(&self, job: &JobState) -> Result<()> {
        let served = self
            .route_for(&job.id)?
            .ok_or_else(|| CoreError::JobMountGone(job.id.clone()))?;
        served
            .backend
            .run_scheduled(&served.ctx, served.relative(&job.id), &job.kind)
            .await
    }
}
