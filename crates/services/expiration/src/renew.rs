//! Renewing a lease: Vault's checks, the max-TTL cap, and the backend call.

use coffer_types::duration::time_after;
use std::time::Duration;

use coffer_types::format_duration;

use crate::entry::{LeaseEntry, LeaseKind};
use crate::error::{ExpirationError, describe};
use crate::{ExpirationManager, Result};

impl ExpirationManager {
    /// Renews `lease_id` by `increment` (`None` or zero: the TTL it was last
    /// granted), capped so that the lease never outlives its max TTL, and
    /// returns the updated lease. Fails as Vault does: unknown lease (`lease
    /// not found`), irrevocable, expired, not renewable, or a token's lease.
    pub async fn renew(&self, lease_id: &str, increment: Option<Duration>) -> Result<LeaseEntry> {
        self.renew_with_warnings(lease_id, increment)
            .await
            .map(|(entry, _)| entry)
    }

    /// [`ExpirationManager::renew`], also returning Vault's warnings (the
    /// increment was capped by the max TTL).
    pub(crate) async fn renew_with_warnings(
        &self,
        lease_id: &str,
        increment: Option<Duration>,
    ) -> Result<(LeaseEntry, Vec<String>)> {
        let _lock = self.locks.lock(lease_id).await;
        let now = self.clock.now();
        let entry = self
            .lookup(lease_id)
            .await?
            .ok_or(ExpirationError::LeaseNotFound)?;
        if entry.irrevocable {
            return Err(ExpirationError::Irrevocable);
        }
        let Some(expire) = entry.expire_time else {
            return Err(ExpirationError::NotRenewable);
        };
        if expire < now {
            return Err(ExpirationError::Expired);
        }
        if !entry.renewable {
            return Err(ExpirationError::NotRenewable);
        }
        if entry.kind == LeaseKind::Token {
            return Err(ExpirationError::TokenLease);
        }

        let requested = increment.filter(|d| !d.is_zero()).unwrap_or(entry.ttl);
        let left = match entry.max_expire_time {
            None => None,
            Some(max) => match max.duration_since(now) {
                Ok(left) if !left.is_zero() => Some(left),
                _ => return Err(ExpirationError::PastMaxTtl),
            },
        };
        let mut warnings = Vec::new();
        let mut capped = requested;
        if let Some(left) = left.filter(|left| *left < requested) {
            warnings.push(format!(
                "TTL of {:?} exceeded the effective max_ttl of {:?}; TTL value is capped accordingly",
                format_duration(requested),
                format_duration(left)
            ));
            capped = left;
        }

        let granted = self
            .handler
            .renew(&entry, capped)
            .await
            .map_err(|e| ExpirationError::RenewFailed(describe(&e)))?;
        let mut ttl = if granted.is_zero() { capped } else { granted };
        if let Some(left) = left {
            ttl = ttl.min(left);
        }

        let mut renewed = entry.clone();
        renewed.ttl = ttl;
        renewed.expire_time = Some(time_after(now, ttl));
        renewed.last_renewal_time = Some(now);
        self.commit(Some(&entry), Some(&renewed)).await?;
        Ok((renewed, warnings))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use coffer_types::Error;

    use super::*;
    use crate::test_support::{Harness, secret};

    #[tokio::test]
    async fn renewal_extends_from_now_and_moves_the_time_index() {
        let h = Harness::new().await;
        let lease = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        h.clock.advance(Duration::from_secs(50));
        let renewed = h
            .mgr
            .renew(&lease.lease_id, Some(Duration::from_secs(120)))
            .await
            .unwrap();
        assert_eq!(
            renewed.expire_time,
            Some(h.now() + Duration::from_secs(120))
        );
        assert_eq!(renewed.last_renewal_time, Some(h.now()));
        assert_eq!(renewed.ttl, Duration::from_secs(120));
        assert_eq!(
            h.handler.renewed(),
            [(lease.lease_id.clone(), Duration::from_secs(120))]
        );
        // The old expiry passes: nothing happens.
        h.clock.advance(Duration::from_secs(60));
        assert_eq!(h.mgr.tick().await.unwrap().revoked, 0);
        // The new one does.
        h.clock.advance(Duration::from_secs(60));
        assert_eq!(h.mgr.tick().await.unwrap().revoked, 1);
    }

    #[tokio::test]
    async fn no_increment_reuses_the_last_ttl_and_the_backend_may_grant_less() {
        let h = Harness::new().await;
        let lease = h.mgr.register(secret("db/creds/a", 300)).await.unwrap();
        let renewed = h.mgr.renew(&lease.lease_id, None).await.unwrap();
        assert_eq!(renewed.ttl, Duration::from_secs(300));
        h.handler.grant(Duration::from_secs(30));
        let renewed = h
            .mgr
            .renew(&lease.lease_id, Some(Duration::ZERO))
            .await
            .unwrap();
        assert_eq!(renewed.ttl, Duration::from_secs(30));
        assert_eq!(renewed.expire_time, Some(h.now() + Duration::from_secs(30)));
    }

    #[tokio::test]
    async fn increment_is_capped_by_max_ttl_with_a_warning() {
        let h = Harness::new().await;
        let mut new = secret("db/creds/a", 60);
        new.max_ttl = Duration::from_secs(100);
        let lease = h.mgr.register(new).await.unwrap();
        h.clock.advance(Duration::from_secs(30));
        let (renewed, warnings) = h
            .mgr
            .renew_with_warnings(&lease.lease_id, Some(Duration::from_secs(3600)))
            .await
            .unwrap();
        assert_eq!(renewed.ttl, Duration::from_secs(70));
        assert_eq!(renewed.expire_time, lease.max_expire_time);
        assert_eq!(
            warnings,
            [
                "TTL of \"1h0m0s\" exceeded the effective max_ttl of \"1m10s\"; TTL value is capped accordingly"
            ]
        );
        // The backend was asked for the capped increment.
        assert_eq!(h.handler.renewed()[0].1, Duration::from_secs(70));
        // Even a backend granting more stays within the cap.
        h.handler.grant(Duration::from_secs(10_000));
        let renewed = h.mgr.renew(&lease.lease_id, None).await.unwrap();
        assert_eq!(renewed.expire_time, lease.max_expire_time);
    }

    #[tokio::test]
    async fn renewal_at_the_cap_is_refused() {
        let h = Harness::new().await;
        let mut new = secret("db/creds/a", 100);
        new.max_ttl = Duration::from_secs(100);
        let lease = h.mgr.register(new).await.unwrap();
        h.clock.advance(Duration::from_secs(100));
        let err = h.mgr.renew(&lease.lease_id, None).await.unwrap_err();
        assert!(matches!(err, ExpirationError::PastMaxTtl), "{err}");
    }

    #[tokio::test]
    async fn refusals_use_vaults_messages() {
        let h = Harness::new().await;
        let err = h.mgr.renew("db/creds/a/nope", None).await.unwrap_err();
        assert_eq!(Error::from(err).messages(), ["lease not found"]);

        let mut fixed = secret("db/creds/a", 60);
        fixed.renewable = false;
        let fixed = h.mgr.register(fixed).await.unwrap();
        let err = h.mgr.renew(&fixed.lease_id, None).await.unwrap_err();
        assert_eq!(Error::from(err).messages(), ["lease is not renewable"]);

        let mut token = secret("auth/userpass/login/bob", 60);
        token.kind = LeaseKind::Token;
        let token = h.mgr.register(token).await.unwrap();
        let err = h.mgr.renew(&token.lease_id, None).await.unwrap_err();
        let err = Error::from(err);
        assert_eq!(err.status(), 400);
        assert_eq!(
            err.messages(),
            ["tokens cannot be renewed through this endpoint"]
        );

        let lease = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        h.clock.advance(Duration::from_secs(61));
        let err = h.mgr.renew(&lease.lease_id, None).await.unwrap_err();
        assert_eq!(Error::from(err).messages(), ["lease expired"]);
        assert!(h.handler.renewed().is_empty());
    }

    #[tokio::test]
    async fn backend_refusal_is_a_400_and_changes_nothing() {
        struct Refuses;
        #[async_trait::async_trait]
        impl crate::LeaseHandler for Refuses {
            async fn revoke(&self, _l: &LeaseEntry) -> coffer_types::Result<()> {
                Ok(())
            }
            async fn renew(&self, _l: &LeaseEntry, _i: Duration) -> coffer_types::Result<Duration> {
                Err(Error::invalid("lease is not renewable"))
            }
        }
        let h = Harness::new().await;
        let lease = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        let view = coffer_storage::View::new(
            h.storage.clone(),
            coffer_storage::Prefix::new("sys/expire/").unwrap(),
        );
        let mgr = ExpirationManager::load(view, h.clock.clone(), std::sync::Arc::new(Refuses))
            .await
            .unwrap();
        let err = Error::from(mgr.renew(&lease.lease_id, None).await.unwrap_err());
        assert_eq!(err.status(), 400);
        assert_eq!(
            err.messages(),
            ["failed to renew entry: lease is not renewable"]
        );
        assert_eq!(mgr.lookup(&lease.lease_id).await.unwrap(), Some(lease));
    }
}
