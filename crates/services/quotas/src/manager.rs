//! The quota manager: loads quotas, checks every request against them and
//! owns the client buckets.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use coffer_sdk::Clock;
use coffer_storage::View;
use coffer_types::{Error, Result};

use crate::bucket::Verdict;
use crate::clients::{ClientTable, DEFAULT_MAX_CLIENTS};
use crate::quota::QuotaRecord;
use crate::rules::{ActiveQuota, Rules};
use crate::store;

/// The name of the built-in login quota.
pub const DEFAULT_LOGIN_QUOTA: &str = "default-login";
/// Its `rate`: the bucket holds 20 tokens, so a client may burst 20 logins.
pub const DEFAULT_LOGIN_RATE: f64 = 20.0;
/// Its `interval`: 20 tokens per 2 s refill at 10 logins per second.
pub const DEFAULT_LOGIN_INTERVAL: Duration = Duration::from_secs(2);
/// Its `block_interval`: a client that exceeds it waits a minute.
pub const DEFAULT_LOGIN_BLOCK_INTERVAL: Duration = Duration::from_secs(60);

/// Tells the manager which mount serves a path, so a quota's `path` is
/// validated and split into mount and suffix exactly as Vault does. The core
/// implements it over its router.
pub trait MountResolver: Send + Sync {
    /// The mount (with its trailing `/`: `secret/`, `auth/userpass/`) whose
    /// prefix `path` starts with, or `None` when no mount serves `path`.
    fn matching_mount(&self, path: &str) -> Option<String>;
}

/// Tuning for a [`QuotaManager`].
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct QuotaOptions {
    /// Most (quota, client) buckets kept in memory; beyond it the longest
    /// idle clients are forgotten first.
    pub max_clients: usize,
}

impl Default for QuotaOptions {
    fn default() -> Self {
        Self {
            max_clients: DEFAULT_MAX_CLIENTS,
        }
    }
}

impl QuotaOptions {
    /// Options with a different client cap.
    pub fn with_max_clients(mut self, max_clients: usize) -> Self {
        self.max_clients = max_clients;
        self
    }
}

/// The state of the bucket that allowed a request, for Vault's optional
/// `X-Ratelimit-Limit`, `X-Ratelimit-Remaining` and `X-Ratelimit-Reset`
/// headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitStatus {
    /// The bucket's capacity.
    pub limit: u64,
    /// Whole tokens left.
    pub remaining: u64,
    /// Time until the bucket is full again.
    pub reset: Duration,
}

/// Vault's rate-limit quotas: token buckets per client address, configured
/// through `sys/quotas/*` and persisted in the manager's storage view.
pub struct QuotaManager {
    pub(crate) view: View,
    clock: Arc<dyn Clock>,
    rules: RwLock<Arc<Rules>>,
    clients: Mutex<ClientTable>,
    /// Serialises configuration writes across their storage awaits.
    pub(crate) writes: tokio::sync::Mutex<()>,
    mounts: RwLock<Option<Arc<dyn MountResolver>>>,
    generations: AtomicU64,
}

impl std::fmt::Debug for QuotaManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuotaManager")
            .field("view", &self.view)
            .field("quotas", &self.rules().quotas.len())
            .finish_non_exhaustive()
    }
}

/// The built-in login quota as first stored.
pub(crate) fn default_login_record() -> QuotaRecord {
    QuotaRecord {
        name: DEFAULT_LOGIN_QUOTA.to_owned(),
        mount_path: String::new(),
        path_suffix: String::new(),
        rate: DEFAULT_LOGIN_RATE,
        interval_seconds: DEFAULT_LOGIN_INTERVAL.as_secs(),
        block_interval_seconds: DEFAULT_LOGIN_BLOCK_INTERVAL.as_secs(),
        login_default: true,
    }
}

impl QuotaManager {
    /// Loads the configuration and quotas persisted in `view`. On the very
    /// first load it creates the default login quota
    /// ([`DEFAULT_LOGIN_QUOTA`]); once deleted, it is not created again.
    pub async fn load(view: View, clock: Arc<dyn Clock>) -> Result<Self> {
        Self::load_with_options(view, clock, QuotaOptions::default()).await
    }

    /// [`QuotaManager::load`] with tuning options.
    pub async fn load_with_options(
        view: View,
        clock: Arc<dyn Clock>,
        options: QuotaOptions,
    ) -> Result<Self> {
        let config = store::load_config(&view).await?;
        let mut records = store::load_quotas(&view).await?;
        if !store::default_login_created(&view).await? {
            let record = default_login_record();
            let taken = records.iter().any(|r| r.name == record.name);
            store::create_default_login(&view, (!taken).then_some(&record)).await?;
            if !taken {
                records.push(record);
            }
        }
        let generations = AtomicU64::new(0);
        let active = records
            .into_iter()
            .map(|r| ActiveQuota::new(r, generations.fetch_add(1, Ordering::Relaxed)));
        Ok(Self {
            view,
            clock,
            rules: RwLock::new(Arc::new(Rules::new(config, active))),
            clients: Mutex::new(ClientTable::new(options.max_clients)),
            writes: tokio::sync::Mutex::new(()),
            mounts: RwLock::new(None),
            generations,
        })
    }

    /// Installs the mount lookup used to validate quota paths. Without one,
    /// any well-formed path is accepted and split after its first segment
    /// (`auth/<name>/` for auth mounts).
    pub fn set_mount_resolver(&self, resolver: Arc<dyn MountResolver>) {
        *self.mounts.write().unwrap_or_else(|p| p.into_inner()) = Some(resolver);
    }

    /// Called by the core for every request BEFORE authentication: `path` is
    /// the full request path, `mount` the mount path that serves it ("" if
    /// none), `client_addr` the client's address, `is_login` true for an auth
    /// method's login path. Returns `Err(Error::rate_limited(path,
    /// retry_after))` (429 with `Retry-After`) when a quota is exceeded.
    pub fn check(
        &self,
        path: &str,
        mount: &str,
        client_addr: Option<IpAddr>,
        is_login: bool,
    ) -> Result<()> {
        self.check_status(path, mount, client_addr, is_login)
            .map(|_| ())
    }

    /// [`QuotaManager::check`], also returning the state of the bucket that
    /// allowed the request (`None` when no quota applies).
    pub fn check_status(
        &self,
        path: &str,
        mount: &str,
        client_addr: Option<IpAddr>,
        is_login: bool,
    ) -> Result<Option<RateLimitStatus>> {
        let rules = self.rules();
        if rules.exempt.contains(path) {
            return Ok(None);
        }
        let Some(quota) = rules.select(path, mount, is_login) else {
            return Ok(None);
        };
        let now = self.clock.now();
        let verdict = self
            .clients()
            .take(quota.generation, &quota.limit, client_addr, now);
        match verdict {
            Verdict::Allowed { remaining, reset } => Ok(Some(RateLimitStatus {
                limit: quota.limit.capacity as u64,
                remaining,
                reset,
            })),
            Verdict::Denied { retry_after } => Err(Error::rate_limited(path, retry_after)),
        }
    }

    /// Whether requests refused by a rate limit should be audited
    /// (`enable_rate_limit_audit_logging`).
    pub fn audit_logging_enabled(&self) -> bool {
        self.rules().config.enable_rate_limit_audit_logging
    }

    /// Whether `X-Ratelimit-*` headers should be added to responses
    /// (`enable_rate_limit_response_headers`).
    pub fn response_headers_enabled(&self) -> bool {
        self.rules().config.enable_rate_limit_response_headers
    }

    /// The names of every quota, sorted.
    pub fn quota_names(&self) -> Vec<String> {
        self.rules().quotas.keys().cloned().collect()
    }

    /// The rules in force.
    pub(crate) fn rules(&self) -> Arc<Rules> {
        self.rules.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the rules in force and forgets the buckets of quotas that
    /// were removed or replaced. Callers hold `writes`.
    pub(crate) fn install(&self, rules: Rules) {
        let live: std::collections::HashSet<u64> =
            rules.quotas.values().map(|q| q.generation).collect();
        *self.rules.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(rules);
        self.clients()
            .retain_generations(|generation| live.contains(&generation));
    }

    /// A generation number no quota has used.
    pub(crate) fn next_generation(&self) -> u64 {
        self.generations.fetch_add(1, Ordering::Relaxed)
    }

    /// The installed mount lookup, if any.
    pub(crate) fn mount_resolver(&self) -> Option<Arc<dyn MountResolver>> {
        self.mounts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn clients(&self) -> MutexGuard<'_, ClientTable> {
        // A panic while holding the lock cannot leave a bucket half-written
        // in a way that matters (worst case one token is miscounted).
        self.clients.lock().unwrap_or_else(|p| p.into_inner())
    }

    #[cfg(test)]
    pub(crate) fn tracked_clients(&self) -> usize {
        self.clients().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{Harness, ip};
    use coffer_types::ErrorKind;

    fn limited(r: Result<()>) -> Error {
        let err = r.expect_err("should be rate limited");
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        err
    }

    #[tokio::test]
    async fn default_login_quota_applies_to_uncovered_logins() {
        let h = Harness::new().await;
        let login = "auth/userpass/login/bob";
        for _ in 0..20 {
            h.mgr.check(login, "auth/userpass/", ip(1), true).unwrap();
        }
        let err = limited(h.mgr.check(login, "auth/userpass/", ip(1), true));
        assert_eq!(
            err.messages(),
            ["request path \"auth/userpass/login/bob\": rate limit quota exceeded"]
        );
        // Blocked for a minute, even though tokens come back meanwhile.
        assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
        h.clock.advance(Duration::from_secs(30));
        let err = limited(h.mgr.check(login, "auth/userpass/", ip(1), true));
        assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
        // Another client is unaffected; non-login paths are not limited.
        h.mgr.check(login, "auth/userpass/", ip(2), true).unwrap();
        for _ in 0..100 {
            h.mgr
                .check("auth/userpass/users/bob", "auth/userpass/", ip(1), false)
                .unwrap();
        }
        h.clock.advance(Duration::from_secs(30));
        h.mgr.check(login, "auth/userpass/", ip(1), true).unwrap();
    }

    #[tokio::test]
    async fn exempt_paths_are_never_limited() {
        let h = Harness::new().await;
        h.write("quotas/rate-limit/global", serde_json::json!({"rate": 1}))
            .await
            .unwrap();
        for _ in 0..10 {
            h.mgr.check("sys/health", "sys/", ip(1), false).unwrap();
            h.mgr.check("sys/unseal", "sys/", ip(1), false).unwrap();
            h.mgr
                .check("sys/seal-status", "sys/", ip(1), false)
                .unwrap();
        }
        h.mgr.check("sys/mounts", "sys/", ip(1), false).unwrap();
        limited(h.mgr.check("sys/mounts", "sys/", ip(1), false));
    }

    #[tokio::test]
    async fn status_reports_the_bucket() {
        let h = Harness::new().await;
        h.write(
            "quotas/rate-limit/kv",
            serde_json::json!({"path": "secret/", "rate": 4, "interval": "2s"}),
        )
        .await
        .unwrap();
        let status = h
            .mgr
            .check_status("secret/x", "secret/", ip(1), false)
            .unwrap()
            .unwrap();
        assert_eq!(
            status,
            RateLimitStatus {
                limit: 4,
                remaining: 3,
                reset: Duration::from_millis(500)
            }
        );
        assert_eq!(
            h.mgr
                .check_status("other/x", "other/", ip(1), false)
                .unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn buckets_of_idle_clients_are_evicted() {
        let h = Harness::with_max_clients(64).await;
        for n in 0..1000 {
            let _ = h
                .mgr
                .check("auth/userpass/login/x", "auth/userpass/", ip(n), true);
            assert!(h.mgr.tracked_clients() <= 64);
        }
        h.clock.advance(Duration::from_secs(600));
        h.mgr
            .check("auth/userpass/login/x", "auth/userpass/", ip(5000), true)
            .unwrap();
        assert_eq!(h.mgr.tracked_clients(), 1);
    }

    #[tokio::test]
    async fn updating_a_quota_resets_its_buckets() {
        let h = Harness::new().await;
        let body = serde_json::json!({"path": "secret/", "rate": 1, "interval": "1h"});
        h.write("quotas/rate-limit/kv", body.clone()).await.unwrap();
        h.mgr.check("secret/x", "secret/", ip(1), false).unwrap();
        limited(h.mgr.check("secret/x", "secret/", ip(1), false));
        h.write("quotas/rate-limit/kv", body).await.unwrap();
        h.mgr.check("secret/x", "secret/", ip(1), false).unwrap();
        h.delete("quotas/rate-limit/kv").await.unwrap();
        for _ in 0..5 {
            h.mgr.check("secret/x", "secret/", ip(1), false).unwrap();
        }
    }

    #[test]
    fn options() {
        assert_eq!(QuotaOptions::default().max_clients, DEFAULT_MAX_CLIENTS);
        assert_eq!(QuotaOptions::default().with_max_clients(5).max_clients, 5);
    }
}
