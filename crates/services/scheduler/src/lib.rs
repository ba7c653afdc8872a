//! One scheduler for every periodic job in the server: static role rotation,
//! root rotation and, later, anything else that runs on a schedule.
//!
//! Jobs live in a storage [`View`](coffer_storage::View) (behind the barrier),
//! one record per job plus a next-run time index, so the schedule survives a
//! restart and a seal/unseal and nothing heavy is kept in memory. Time comes
//! only from the injected [`Clock`](coffer_sdk::Clock). [`Scheduler::tick`]
//! runs every due job once (a job that missed several runs during downtime runs
//! once), never runs one job twice at the same time, and keeps a failing job
//! with exponential back-off. `sys/rotation` lists the jobs
//! ([`RotationSys`], the scheduler's piece of the `sys/` backend).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backoff;
mod civil;
mod error;
mod guard;
mod job;
mod keys;
mod mount_jobs;
mod run;
mod schedule;
mod scheduler;
mod sys;

pub use error::{Result, SchedulerError};
pub use job::{JobSpec, JobState};
pub use mount_jobs::MountJobs;
pub use run::{JobRunner, TickReport};
pub use schedule::{MIN_ROTATION_WINDOW, Schedule};
pub use scheduler::Scheduler;
pub use sys::RotationSys;
