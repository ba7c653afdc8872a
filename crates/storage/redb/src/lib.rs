//! Embedded single-node storage on a redb file, durable on commit.
//!
//! [`RedbStorage`] keeps every key in one redb table (key string -> value
//! bytes). It owns:
//! - durability: every write transaction commits with
//!   [`redb::Durability::Immediate`] (an fsync) before the write is
//!   acknowledged;
//! - group commit: one dedicated writer thread takes writes from a queue;
//!   writes that arrive while a commit is in flight go into the next
//!   transaction together and are all acknowledged after its single fsync;
//! - non-blocking reads: every read runs on `tokio::task::spawn_blocking` in
//!   its own read transaction, so readers never wait for the writer;
//! - listing by range scan, skipping over whole sub-folders.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod open;
mod scan;
mod storage;
mod writer;

pub use storage::{DEFAULT_PAGE_CACHE_BYTES, RedbStorage};

/// The one table every key lives in.
pub(crate) const TABLE: redb::TableDefinition<'static, &'static str, &'static [u8]> =
    redb::TableDefinition::new("coffer");
