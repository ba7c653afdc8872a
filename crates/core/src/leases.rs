//! Leases: the core's side of the expiration manager. Secrets engines hand
//! out secrets with `internal_data`; the core registers a lease for them,
//! and the manager calls back here to revoke or renew through the backend
//! that issued the secret.

use crate::error::CoreError;
use std::sync::{Arc, Weak};
use std::time::Duration;

use coffer_expiration::{LeaseEntry, LeaseHandler, LeaseKind, NewLease};
use coffer_sdk::Clock;
use coffer_tokens::{TokenEntry, TokenStore};
use coffer_types::{Error, LeaseData, Response, Result};

use crate::router::{Route, RouterHandle};
use crate::unsealed::Unsealed;

/// Key of a token lease's `internal_data` holding the token's storage id.
const TOKEN_HASH: &str = "token_hash";

/// Revokes and renews leases: secrets through the backend mounted at the
/// lease's path, tokens through the token store. Holds both weakly (the
/// unsealed state owns them and the expiration manager that owns this
/// handler; see [`RouterHandle`]).
pub(crate) struct RouterLeaseHandler {
    pub router: RouterHandle,
    pub tokens: Weak<TokenStore>,
    pub clock: Arc<dyn Clock>,
}

impl RouterLeaseHandler {
    /// The mount that issued the secret behind `lease` (the same mount:
    /// one replaced at the same path has another accessor) and what its
    /// backend is told about the lease.
    fn route(&self, lease: &LeaseEntry) -> Result<(Arc<Route>, LeaseData)> {
        if lease.kind != LeaseKind::Secret {
            return Err(CoreError::TokenLease.into());
        }
        let served = self
            .router
            .route_for(&lease.path)?
            .filter(|s| s.entry.accessor == lease.mount_accessor)
            .ok_or_else(|| CoreError::LeaseMountGone(lease.lease_id.clone()))?;
        let data = LeaseData {
            lease_id: lease.lease_id.clone(),
            path: served.relative(&lease.path).to_owned(),
            internal_data: lease.internal_data.clone(),
            issue_time: lease.issue_time,
            ttl: lease.ttl,
        };
        Ok((served, data))
    }
}

impl RouterLeaseHandler {
    /// Revokes the token behind a token lease. A token renewed since its
    /// lease fell due keeps living (the token store still enforces its own
    /// expiry); a token already gone needs nothing.
    async fn revoke_token(&self, lease: &LeaseEntry) -> Result<()> {
        let tokens = self.tokens.upgrade().ok_or_else(Error::sealed)?;
        let hash = lease
            .internal_data
            .get(TOKEN_HASH)
            .and_then(|v| v.as_str())
            .unwrap_or("");
        let Some(entry) = tokens.lookup_by_hash(hash).await? else {
            return Ok(());
        };
        let now = self.clock.now();
        let due = lease.expire_time.is_some_and(|t| t <= now);
        if due && entry.expire_time.is_some_and(|t| t > now) {
            return Ok(());
        }
        Ok(tokens.revoke_tree(&entry).await?)
    }
}

#[async_trait::async_trait]
impl LeaseHandler for RouterLeaseHandler {
    async fn revoke(&self, lease: &LeaseEntry) -> Result<()> {
        if lease.kind == LeaseKind::Token {
            return self.revoke_token(lease).await;
        }
        let (served, data) = self.route(lease)?;
        served.backend.revoke_lease(&served.ctx, &data).await
    }

    async fn renew(&self, lease: &LeaseEntry, increment: Duration) -> Result<Duration> {
        let (served, data) = self.route(lease)?;
        served
            .backend
            .renew_lease(&served.ctx, &data, increment)
            .await
    }
}

/// The lease a service token with an expiry gets (none for batch and
/// non-expiring tokens).
pub(crate) fn token_lease(entry: &TokenEntry) -> Option<NewLease> {
    if entry.is_batch() || entry.expire_time.is_none() {
        return None;
    }
    let mut internal_data = serde_json::Map::new();
    internal_data.insert(TOKEN_HASH.into(), entry.id_hash.clone().into());
    Some(NewLease {
        path: entry.path.clone(),
        kind: LeaseKind::Token,
        ttl: entry.ttl,
        renewable: entry.renewable,
        internal_data,
        id_suffix: Some(entry.id_hash.clone()),
        ..NewLease::default()
    })
}

/// The lease id of a service token: its creation path and storage id.
fn token_lease_id(entry: &TokenEntry) -> String {
    format!("{}/{}", entry.path.trim_matches('/'), entry.id_hash)
}

impl Unsealed {
    /// Gives a newly minted service token its lease, so the expiration
    /// manager revokes it (with its cubbyhole and leases) when it expires
    /// and `sys/leases` shows it. Tokens without a TTL (root) and batch
    /// tokens have none, as in Vault.
    pub(crate) async fn register_token_lease(&self, token: &str) -> Result<()> {
        match self.tokens.lookup(token).await? {
            Some(entry) => self.register_token_lease_of(&entry).await,
            None => Ok(()),
        }
    }

    /// Registers the lease of a token whose entry is at hand, without
    /// looking it up again.
    pub(crate) async fn register_token_lease_of(&self, entry: &TokenEntry) -> Result<()> {
        if let Some(lease) = token_lease(entry) {
            self.expiration.register(lease).await?;
        }
        Ok(())
    }

    /// Moves a renewed token's lease to its new expiry.
    pub(crate) async fn extend_token_lease(&self, token: &str, ttl: Duration) -> Result<()> {
        if let Some(entry) = self.tokens.lookup(token).await? {
            self.expiration
                .set_expiry(&token_lease_id(&entry), ttl)
                .await?;
        }
        Ok(())
    }

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
                id_suffix: None,
            })
            .await?;
        secret.lease_id = lease.lease_id;
        secret.ttl = ttl;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Mutex, RwLock};
    use std::time::SystemTime;

    use coffer_sdk::{Backend, Context, MountConfig, SystemClock};
    use coffer_storage::{MemoryStorage, Prefix, View};
    use coffer_types::Request;

    use super::*;
    use crate::mounts::{MountEntry, Table};
    use crate::router::Router;

    /// A secrets engine that records what it is asked to revoke and renew.
    #[derive(Default)]
    struct Recording {
        revoked: Mutex<Vec<LeaseData>>,
    }

    #[async_trait::async_trait]
    impl Backend for Recording {
        async fn handle(&self, _ctx: &Context, _req: &Request) -> Result<Option<Response>> {
            Ok(None)
        }
        async fn revoke_lease(&self, _ctx: &Context, lease: &LeaseData) -> Result<()> {
            self.revoked.lock().unwrap().push(lease.clone());
            Ok(())
        }
        async fn renew_lease(
            &self,
            _ctx: &Context,
            _lease: &LeaseData,
            increment: Duration,
        ) -> Result<Duration> {
            Ok(increment / 2)
        }
    }

    fn lease(path: &str, accessor: &str) -> LeaseEntry {
        let mut internal = serde_json::Map::new();
        internal.insert("username".into(), "v-app-1".into());
        LeaseEntry {
            lease_id: format!("{path}/abc"),
            path: path.into(),
            kind: LeaseKind::Secret,
            mount_accessor: accessor.into(),
            internal_data: internal,
            token_ref: String::new(),
            issue_time: SystemTime::now(),
            expire_time: None,
            last_renewal_time: None,
            ttl: Duration::from_secs(60),
            renewable: true,
            max_expire_time: None,
            revoke_attempts: 0,
            next_attempt: None,
            last_error: None,
            irrevocable: false,
        }
    }

    #[tokio::test]
    async fn secret_leases_go_back_to_the_issuing_mount() {
        let backend = Arc::new(Recording::default());
        let entry = MountEntry::new("database/", "database", "").unwrap();
        let accessor = entry.accessor.clone();
        let mut router = Router::default();
        router.insert_route(Route {
            prefix: "database/".into(),
            table: Table::Secrets,
            entry,
            backend: backend.clone(),
            special: Default::default(),
            ctx: Context {
                storage: View::new(Arc::new(MemoryStorage::new()), Prefix::root()),
                config: MountConfig::default(),
                clock: Arc::new(SystemClock),
                services: coffer_sdk::Services::default(),
            },
        });
        let router = Arc::new(RwLock::new(Arc::new(router)));
        let handler = RouterLeaseHandler {
            router: RouterHandle::new(&router),
            tokens: Weak::new(),
            clock: Arc::new(SystemClock),
        };

        handler
            .revoke(&lease("database/creds/app", &accessor))
            .await
            .unwrap();
        let revoked = backend.revoked.lock().unwrap().clone();
        assert_eq!(revoked.len(), 1);
        assert_eq!(
            revoked[0].path, "creds/app",
            "the backend sees the path relative to its mount"
        );
        assert_eq!(revoked[0].internal_data["username"], "v-app-1");
        assert_eq!(
            handler
                .renew(
                    &lease("database/creds/app", &accessor),
                    Duration::from_secs(100)
                )
                .await
                .unwrap(),
            Duration::from_secs(50)
        );

        // A lease from a mount that was replaced (other accessor) or removed is refused, so it is retried, not lost.
        assert!(
            handler
                .revoke(&lease("database/creds/app", "database_other"))
                .await
                .is_err()
        );
        assert!(
            handler
                .revoke(&lease("nothing/creds/app", &accessor))
                .await
                .is_err()
        );
        drop(router);
        assert_eq!(
            handler
                .revoke(&lease("database/creds/app", &accessor))
                .await
                .unwrap_err()
                .status(),
            503
        );
    }
}
