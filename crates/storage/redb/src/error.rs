//! Mapping redb's errors to [`StorageError`]. Messages say what failed and
//! never contain a stored value.

use std::fmt::Display;
use std::path::Path;

use coffer_storage::StorageError;

/// A backend error: `"<context>: <redb's message>"`.
pub(crate) fn backend(context: &str, err: impl Display) -> StorageError {
    StorageError::Backend(format!("redb: {context}: {err}"))
}

/// The writer thread is gone (the store was closed or the thread failed).
pub(crate) fn writer_stopped() -> StorageError {
    StorageError::Backend("redb: the storage writer has stopped; no write was made".into())
}

/// A read task did not finish (it panicked or the runtime is shutting down).
pub(crate) fn read_task_failed() -> StorageError {
    StorageError::Backend("redb: the storage read task did not complete".into())
}

/// Why the database file at `path` could not be opened.
pub(crate) fn open_failed(path: &Path, err: redb::DatabaseError) -> StorageError {
    let path = path.display();
    let msg = match err {
        redb::DatabaseError::DatabaseAlreadyOpen | redb::DatabaseError::LockProtocolMismatch => {
            format!(
                "storage file {path} is locked by another process \
                 (is another Coffer server using it?)"
            )
        }
        redb::DatabaseError::UpgradeRequired(version) => format!(
            "storage file {path} uses redb file format version {version}, \
             which this build cannot open without a manual upgrade"
        ),
        redb::DatabaseError::Storage(redb::StorageError::Corrupted(reason)) => {
            format!("storage file {path} is not a redb database or is corrupted: {reason}")
        }
        redb::DatabaseError::Storage(redb::StorageError::Io(io))
            if io.kind() == std::io::ErrorKind::InvalidData =>
        {
            format!("storage file {path} is not a redb database or is corrupted: {io}")
        }
        other => format!("cannot open storage file {path}: {other}"),
    };
    StorageError::Backend(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_error_names_the_file_and_the_cause() {
        let err = open_failed(
            Path::new("/d/x.redb"),
            redb::DatabaseError::DatabaseAlreadyOpen,
        );
        let msg = err.to_string();
        assert!(
            msg.contains("/d/x.redb") && msg.contains("locked by another process"),
            "{msg}"
        );
        assert_eq!(err.kind(), coffer_types::ErrorKind::Internal);
    }

    #[test]
    fn corruption_is_reported_as_not_a_database() {
        let err = open_failed(
            Path::new("/d/x.redb"),
            redb::DatabaseError::Storage(redb::StorageError::Corrupted("bad magic".into())),
        );
        assert!(
            err.to_string()
                .contains("is not a redb database or is corrupted")
        );
    }

    #[test]
    fn backend_messages_carry_context() {
        let msg = backend("commit", "I/O error").to_string();
        assert_eq!(msg, "storage backend error: redb: commit: I/O error");
    }
}
