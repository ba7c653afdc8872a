//! The scheduler's errors and their mapping onto Coffer's error kinds.

use coffer_storage::StorageError;
use coffer_types::Error;

/// Result with a [`SchedulerError`].
pub type Result<T, E = SchedulerError> = std::result::Result<T, E>;

/// Why a scheduler operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchedulerError {
    /// A cron expression that does not parse (400).
    #[error("invalid cron expression {expr:?}: {reason}")]
    InvalidCron {
        /// The expression as given.
        expr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A schedule that cannot be used (zero period, short window) (400).
    #[error("{0}")]
    InvalidSchedule(String),
    /// A job id that is empty or cannot be stored (400).
    #[error("invalid job id {0:?}")]
    InvalidId(String),
    /// No job with this id (404).
    #[error("no scheduled job {0:?}")]
    NotFound(String),
    /// The job is being run by someone else right now (400).
    #[error("job {0:?} is already running")]
    Busy(String),
    /// The job ran and failed; it stays scheduled with back-off.
    #[error("job {id:?} failed: {source}")]
    RunFailed {
        /// The job.
        id: String,
        /// The runner's error.
        source: Error,
    },
    /// A stored record that does not decode (500).
    #[error("corrupt scheduler record {key}: {reason}")]
    Corrupt {
        /// The storage key.
        key: String,
        /// The decoding error.
        reason: String,
    },
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

coffer_types::error_kinds! {
    SchedulerError {
        InvalidCron { .. } | InvalidSchedule(_) | InvalidId(_) | Busy(_) => InvalidRequest,
        NotFound(_) => NotFound,
        RunFailed { source, .. } => source.kind(),
        Corrupt { .. } => Internal,
        Storage(e) => e.kind(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_types::ErrorKind;

    #[test]
    fn kinds_map_to_statuses() {
        let bad = SchedulerError::InvalidCron {
            expr: "x".into(),
            reason: "no".into(),
        };
        assert_eq!(Error::from(bad).status(), 400);
        assert_eq!(
            Error::from(SchedulerError::NotFound("a".into())).status(),
            404
        );
        let failed = SchedulerError::RunFailed {
            id: "a".into(),
            source: Error::internal("db down"),
        };
        assert_eq!(failed.kind(), ErrorKind::Internal);
        assert_eq!(failed.to_string(), "job \"a\" failed: db down");
        assert_eq!(
            Error::from(SchedulerError::Storage(StorageError::Sealed)).status(),
            503
        );
    }
}
