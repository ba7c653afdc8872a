//! What the expiration manager calls to act on a lease. The core implements
//! it: secrets go to the backend that issued them, tokens to the token store.

use std::time::Duration;

use async_trait::async_trait;

use crate::LeaseEntry;

/// Revokes and renews the thing behind a lease.
#[async_trait]
pub trait LeaseHandler: Send + Sync {
    /// Revokes the secret or token behind `lease`. An error keeps the lease
    /// and schedules a retry with back-off.
    async fn revoke(&self, lease: &LeaseEntry) -> coffer_types::Result<()>;

    /// Extends the secret behind `lease` by `increment` (already capped by
    /// the lease's max TTL) and returns the TTL the backend granted; zero
    /// means "as asked".
    async fn renew(
        &self,
        lease: &LeaseEntry,
        increment: Duration,
    ) -> coffer_types::Result<Duration>;

    /// Whether the token with id `token_ref` still exists (used by
    /// `sys/leases/tidy`, which revokes leases whose token is gone). The
    /// default says yes, so tidy then only repairs the indexes.
    async fn token_exists(&self, _token_ref: &str) -> coffer_types::Result<bool> {
        Ok(true)
    }
}
