//! Scheduled jobs: the scheduler calls back here, and the job goes to the
//! engine mounted at the job's path (`database/static-roles/web` goes to the
//! mount `database/` as `static-roles/web`).

use std::sync::{Arc, RwLock, Weak};

use coffer_scheduler::{JobRunner, JobState};
use coffer_types::{Error, Result};

use crate::router::Router;

/// Runs jobs through the backend that owns them. Holds the router weakly.
pub(crate) struct RouterJobRunner {
    pub router: Weak<RwLock<Arc<Router>>>,
}

#[async_trait::async_trait]
impl JobRunner for RouterJobRunner {
    async fn run(&self, job: &JobState) -> Result<()> {
        let router = self.router.upgrade().ok_or_else(Error::sealed)?;
        let snapshot = router.read().unwrap_or_else(|p| p.into_inner()).clone();
        let route = snapshot
            .lookup(&job.id)
            .filter(|r| r.backend.is_some())
            .ok_or_else(|| Error::invalid(format!("no mount serves the job {:?}", job.id)))?;
        let relative = job.id.strip_prefix(route.prefix.as_str()).unwrap_or("");
        match &route.backend {
            Some(backend) => backend.run_scheduled(&route.ctx, relative, &job.kind).await,
            None => Err(Error::internal("job on a mount without backend")),
        }
    }
}
