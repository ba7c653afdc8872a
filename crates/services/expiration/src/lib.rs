//! The expiration manager: it owns every lease (Vault's `vault/expiration.go`).
//!
//! The core registers a lease for every secret it hands out with a lease
//! and for every token; [`ExpirationManager`] stores it, renews it through
//! the issuing backend, revokes it on request, with its token, or when it
//! expires, and answers the `sys/leases/*` endpoints (and the legacy
//! `sys/renew`, `sys/revoke*`) exactly as Vault does: it is the
//! [`coffer_sdk::Backend`] of those paths, the core's `sys/` piece for
//! leases, whose declarations carry their fields and sudo flags. The core
//! supplies a [`LeaseHandler`] that routes revocations and renewals to the
//! right backend or to the token store.
//!
//! Scale: nothing is kept in memory per lease. Each lease is one record plus
//! index entries in storage (layout below); [`ExpirationManager::tick`] reads
//! the time index from its start up to now in bounded batches, so a million
//! live leases cost no memory here, loading after a restart or unseal reads
//! nothing, and revoking one lease is a handful of key operations.
//!
//! Storage layout (in the view given to [`ExpirationManager::load`]):
//! - `id/<lease_id>`: the lease record (lease ids contain `/`, so `id/` is a
//!   real tree and listing by prefix is a storage list);
//! - `exp/<20-digit unix seconds>/<escaped lease id>`: when each lease is
//!   next due (its expiry, or the retry after a failed revocation);
//! - `token/<escaped token ref>/<escaped lease id>`: secret leases by
//!   creating token;
//! - `irr/<escaped lease id>`: leases whose revocation failed for good.
//!
//! (Escaped: `%`, `/`, `.` and NUL as `%25`, `%2F`, `%2E`, `%00`, so that an
//! id is one path segment.)
//!
//! Every change writes the record and its index entries in one atomic batch.
//!
//! Failed revocations keep the lease, record the error and retry with
//! exponential back-off (20 s, 40 s, ... up to [`MAX_REVOKE_ATTEMPTS`]
//! attempts); then, or at once for errors retrying cannot fix, the lease
//! becomes irrevocable: kept, listed by `sys/leases?type=irrevocable`, and
//! removed by an explicit revoke that succeeds or by `revoke-force`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod entry;
mod error;
mod handler;
mod keys;
mod locks;
mod manager;
mod renew;
mod revoke;
mod sys;
mod tick;
mod tidy;
mod walk;

#[cfg(test)]
mod test_support;

pub use entry::{LeaseEntry, LeaseKind, NewLease};
pub use error::ExpirationError;
pub use handler::LeaseHandler;
pub use manager::ExpirationManager;
pub use revoke::{MAX_REVOKE_ATTEMPTS, REVOKE_RETRY_BASE, revoke_backoff};
pub use tick::TickReport;
pub use tidy::{IrrevocableLease, LeaseCountType, TidyReport};

/// Result with the expiration manager's [`ExpirationError`] (which converts
/// into `coffer_types::Error` with `?`).
pub type Result<T, E = ExpirationError> = std::result::Result<T, E>;
