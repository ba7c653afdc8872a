//! Leases: the core's side of the expiration manager. Secrets engines hand
//! out secrets with `internal_data`; the core registers a lease for them,
//! and the manager calls back here to revoke or renew through the backend
//! that issued the secret.

use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use coffer_expiration::{LeaseEntry, LeaseHandler, LeaseKind, NewLease};
use coffer_types::{Error, LeaseData, Response, Result};

use crate::router::{Route, Router};
use crate::unsealed::Unsealed;

/// Revokes and renews leases through the backend mounted at the lease's
/// path. Holds the router weakly (the router's backends outlive no seal).
pub(crate) struct RouterLeaseHandler {
    pub router: Weak<RwLock<Arc<Router>>>,
}

impl RouterLeaseHandler {
    fn route(&self, lease: &LeaseEntry) -> Result<(Arc<Route>, LeaseData)> {
        if lease.kind != LeaseKind::Secret {
            return Err(Error::invalid(
                "token leases are managed by the token store",
            ));
        }
        let router = self.router.upgrade().ok_or_else(Error::sealed)?;
        let snapshot = router.read().unwrap_or_else(|p| p.into_inner()).clone();
        let route = snapshot
            .lookup(&lease.path)
            .filter(|r| r.backend.is_some() && r.entry.accessor == lease.mount_accessor)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "no mount serves lease {:?} any more",
                    lease.lease_id
                ))
            })?;
        let data = LeaseData {
            lease_id: lease.lease_id.clone(),
            path: lease
                .path
                .strip_prefix(route.prefix.as_str())
                .unwrap_or("")
                .to_owned(),
            internal_data: lease.internal_data.clone(),
            issue_time: lease.issue_time,
            ttl: lease.ttl,
        };
        Ok((route, data))
    }
}

#[async_trait::async_trait]
impl LeaseHandler for RouterLeaseHandler {
    async fn revoke(&self, lease: &LeaseEntry) -> Result<()> {
        let (route, data) = self.route(lease)?;
        match &route.backend {
            Some(backend) => backend.revoke_lease(&route.ctx, &data).await,
            None => Err(Error::internal("lease on a mount without backend")),
        }
    }

    async fn renew(&self, lease: &LeaseEntry, increment: Duration) -> Result<Duration> {
        let (route, data) = self.route(lease)?;
        match &route.backend {
            Some(backend) => backend.renew_lease(&route.ctx, &data, increment).await,
            None => Err(Error::internal("lease on a mount without backend")),
        }
    }
}

impl Unsealed {
    /// Registers a lease for a secret that carries `internal_data`, and fills
    /// in its lease id. TTLs are resolved against the mount: zero means the
    /// mount's default, and nothing outlives the mount's maximum.
    pub(crate) async fn register_lease(
        &self,
        route: &Route,
        full_path: &str,
        token_ref: &str,
        response: &mut Response,
    ) -> Result<()> {
        let Some(secret) = response.secret.as_mut() else {
            return Ok(());
        };
        let Some(internal_data) = secret.internal_data.take() else {
            return Ok(());
        };
        let mount_max = route.ctx.config.max_lease_ttl;
        let ttl = match secret.ttl {
            t if t.is_zero() => route.ctx.config.default_lease_ttl,
            t => t.min(mount_max),
        };
        let max_ttl = match secret.max_ttl {
            m if m.is_zero() => mount_max,
            m => m.min(mount_max),
        };
        let lease = self
            .expiration
            .register(NewLease {
                path: full_path.to_owned(),
                kind: LeaseKind::Secret,
                mount_accessor: route.entry.accessor.clone(),
                ttl,
                max_ttl,
                renewable: secret.renewable,
                internal_data,
                token_ref: token_ref.to_owned(),
            })
            .await?;
        secret.lease_id = lease.lease_id;
        secret.ttl = ttl;
        Ok(())
    }
}
