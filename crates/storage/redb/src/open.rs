//! Opening (or creating) the database file.

use std::fs::{DirBuilder, File, OpenOptions};
use std::path::Path;

use coffer_storage::StorageError;

use crate::TABLE;
use crate::error::{backend, open_failed};

/// Opens the file for the database, creating it (mode 0600) and its missing
/// parent directories (mode 0700) as needed.
fn open_file(path: &Path) -> Result<File, StorageError> {
    let shown = path.display();
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let mut dirs = DirBuilder::new();
        dirs.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut dirs, 0o700);
        dirs.create(parent).map_err(|e| {
            StorageError::Backend(format!(
                "cannot create the directory of storage file {shown}: {e}"
            ))
        })?;
    }
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .map_err(|e| StorageError::Backend(format!("cannot open storage file {shown}: {e}")))
}

/// Opens the database at `path` (creating an empty one if the file is new or
/// empty) with a page cache of `cache_bytes`, and makes sure the table
/// exists. Blocking.
pub(crate) fn open_database(
    path: &Path,
    cache_bytes: usize,
) -> Result<redb::Database, StorageError> {
    let file = open_file(path)?;
    // A damaged file can make redb panic while opening; report that as a
    // corrupted database rather than taking the caller down.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        open_in(path, file, cache_bytes)
    }))
    .unwrap_or_else(|_| {
        Err(StorageError::Backend(format!(
            "storage file {} is not a redb database or is corrupted",
            path.display()
        )))
    })
}

fn open_in(path: &Path, file: File, cache_bytes: usize) -> Result<redb::Database, StorageError> {
    let file_backend = redb::backends::FileBackend::new(file).map_err(|e| open_failed(path, e))?;
    let db = redb::Builder::new()
        .set_cache_size(cache_bytes)
        .create_with_backend(file_backend)
        .map_err(|e| open_failed(path, e))?;
    let mut txn = db
        .begin_write()
        .map_err(|e| backend("begin write transaction", e))?;
    txn.set_durability(redb::Durability::Immediate)
        .map_err(|e| backend("set immediate durability", e))?;
    txn.open_table(TABLE)
        .map_err(|e| backend("create table", e))?;
    txn.commit().map_err(|e| backend("commit", e))?;
    Ok(db)
}
