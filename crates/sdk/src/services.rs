//! Services the core lends to a backend through its [`Context`](crate::Context):
//! the scheduler (for rotations) and password generation (password policies).
//! Backends see only these traits, never the crates behind them.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use coffer_types::{Error, Result, Sensitive};

use crate::SdkError;

/// When a mount's job runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobSchedule {
    /// Every `period` after the previous run (Vault's `rotation_period`).
    Every(Duration),
    /// At the fire times of a 5-field cron expression in UTC (Vault's
    /// `rotation_schedule`), optionally only within `window` after each
    /// fire time (Vault's `rotation_window`).
    Cron {
        /// The cron expression.
        expr: String,
        /// How long after a fire time a run may still start.
        window: Option<Duration>,
    },
}

/// What the scheduler knows about one job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobStatus {
    /// When the job is next due (a schedule time, or a retry after failure).
    pub next_run: SystemTime,
    /// When it last ran, successfully or not.
    pub last_run: Option<SystemTime>,
    /// When it last succeeded.
    pub last_success: Option<SystemTime>,
    /// The error of its last run, if that failed.
    pub last_error: Option<String>,
    /// Consecutive failures.
    pub attempts: u32,
}

/// A mount's handle on the server's one scheduler. Job ids are relative to
/// the mount (`static-roles/web`); the scheduler runs a due job by calling the
/// mount's [`Backend::run_scheduled`](crate::Backend::run_scheduled).
#[async_trait]
pub trait JobRegistry: Send + Sync {
    /// Checks a schedule without registering anything (a cron expression
    /// that does not parse is a 400).
    fn validate(&self, schedule: &JobSchedule) -> Result<()>;

    /// Registers a job or changes its kind or schedule, keeping its history
    /// and an earlier due time.
    async fn schedule(&self, job: &str, kind: &str, schedule: &JobSchedule) -> Result<JobStatus>;

    /// Starts the job's schedule again from now (after it ran on demand).
    async fn restart(&self, job: &str) -> Result<()>;

    /// Makes the job due at once (a pending rotation to retry).
    async fn due_now(&self, job: &str) -> Result<()>;

    /// Removes the job; no error when there is none.
    async fn unschedule(&self, job: &str) -> Result<()>;

    /// The job's state, if it is registered.
    async fn status(&self, job: &str) -> Result<Option<JobStatus>>;
}

/// Generates passwords from the server's password policies.
#[async_trait]
pub trait PasswordSource: Send + Sync {
    /// A fresh password from the named policy, or from Vault's default
    /// policy (20 characters of `a-z A-Z 0-9 -`) when `policy` is `None` or
    /// empty. An unknown policy is a 400.
    async fn generate(&self, policy: Option<&str>) -> Result<Sensitive>;
}

/// What a context has when the core lends it nothing (unit tests of
/// backends that need neither): every call fails with a clear error.
#[derive(Clone, Copy, Debug, Default)]
pub struct Unavailable;

fn unavailable(what: &'static str) -> Error {
    SdkError::Unavailable(what).into()
}

#[async_trait]
impl JobRegistry for Unavailable {
    fn validate(&self, _schedule: &JobSchedule) -> Result<()> {
        Err(unavailable("the scheduler"))
    }
    async fn schedule(&self, _job: &str, _kind: &str, _s: &JobSchedule) -> Result<JobStatus> {
        Err(unavailable("the scheduler"))
    }
    async fn restart(&self, _job: &str) -> Result<()> {
        Err(unavailable("the scheduler"))
    }
    async fn due_now(&self, _job: &str) -> Result<()> {
        Err(unavailable("the scheduler"))
    }
    async fn unschedule(&self, _job: &str) -> Result<()> {
        Ok(())
    }
    async fn status(&self, _job: &str) -> Result<Option<JobStatus>> {
        Ok(None)
    }
}

#[async_trait]
impl PasswordSource for Unavailable {
    async fn generate(&self, _policy: Option<&str>) -> Result<Sensitive> {
        Err(unavailable("password generation"))
    }
}

/// The services lent to one mount.
#[derive(Clone)]
pub struct Services {
    /// The scheduler, scoped to the mount.
    pub jobs: Arc<dyn JobRegistry>,
    /// Password generation.
    pub passwords: Arc<dyn PasswordSource>,
}

impl Default for Services {
    fn default() -> Self {
        Self {
            jobs: Arc::new(Unavailable),
            passwords: Arc::new(Unavailable),
        }
    }
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").finish_non_exhaustive()
    }
}
