//! Revoking leases: one, by prefix, by token, lazily, and what happens when
//! the backend fails (the lease is kept and retried with back-off).

use coffer_types::duration::time_after;
use std::time::{Duration, SystemTime};

use coffer_types::{Error, ErrorKind};

use crate::entry::LeaseEntry;
use crate::error::{ExpirationError, describe};
use crate::keys;
use crate::walk::Walk;
use crate::{ExpirationManager, Result};

/// Revocation attempts before a lease is declared irrevocable (Vault's
/// `maxRevokeAttempts`).
pub const MAX_REVOKE_ATTEMPTS: u32 = 6;

/// The base of the retry back-off (Vault's `revokeRetryBase`).
pub const REVOKE_RETRY_BASE: Duration = Duration::from_secs(10);

/// Longest kept revocation error text (Vault's `maxIrrevocableErrorLength`).
const MAX_ERROR_LEN: usize = 240;

/// How long to wait after the `attempts`-th failed revocation:
/// `REVOKE_RETRY_BASE * 2^attempts` (20 s, 40 s, 80 s, ...). Vault adds
/// ±50 % jitter; this schedule is deterministic so that it can be tested
/// against a manual clock.
pub fn revoke_backoff(attempts: u32) -> Duration {
    REVOKE_RETRY_BASE.saturating_mul(1u32 << attempts.min(16))
}

/// What became of one revocation attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Revoked and removed.
    Revoked,
    /// Failed; a retry is scheduled.
    Failed,
    /// Failed for good; kept as irrevocable.
    Irrevocable,
}

/// What a revoke-prefix argument names.
enum Resolved {
    /// Exactly this lease.
    Lease(String),
    /// Every lease below this prefix (ending in `/`, or empty), walked.
    Tree(String, Walk),
    /// Nothing (not a valid prefix).
    Nothing,
}

/// Errors that retrying will not fix (Vault's `errIsUnrecoverable`).
fn unrecoverable(err: &Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::InvalidRequest | ErrorKind::UnsupportedOperation | ErrorKind::NotFound
    )
}

fn truncate(mut s: String) -> String {
    if s.len() > MAX_ERROR_LEN {
        let mut end = MAX_ERROR_LEN;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

impl ExpirationManager {
    /// Revokes `lease_id` now (Vault's synchronous revoke): the backend
    /// revokes the secret, then the lease is removed. An unknown lease is not
    /// an error. When the backend fails, the lease is kept, marked expired
    /// with the error, retried by [`ExpirationManager::tick`] with
    /// exponential back-off, and the error is returned.
    pub async fn revoke(&self, lease_id: &str) -> Result<()> {
        let _lock = self.locks.lock(lease_id).await;
        let Some(entry) = self.lookup(lease_id).await? else {
            return Ok(());
        };
        self.revoke_locked(entry, false).await.map(|_| ())
    }

    /// Queues `lease_id` for revocation (Vault's `sync=false`): it expires
    /// now and the next [`ExpirationManager::tick`] revokes it. Unknown and
    /// irrevocable leases are left alone.
    pub async fn revoke_lazy(&self, lease_id: &str) -> Result<()> {
        let _lock = self.locks.lock(lease_id).await;
        let Some(entry) = self.lookup(lease_id).await? else {
            return Ok(());
        };
        if entry.irrevocable {
            return Ok(());
        }
        let now = self.clock.now();
        let mut expired = entry.clone();
        expired.expire_time = Some(now);
        expired.next_attempt = None;
        self.commit(Some(&entry), Some(&expired)).await
    }

    /// Revokes every lease whose id starts with `prefix` (a whole path
    /// segment: `db/creds` covers `db/creds/...`; a `prefix` that is itself a
    /// lease id revokes that lease). Stops at the first backend failure and
    /// returns it (that lease is kept and retried). With `force`
    /// (`revoke-force`), backend failures are ignored and every lease is
    /// removed anyway.
    pub async fn revoke_prefix(&self, prefix: &str, force: bool) -> Result<()> {
        let (prefix, mut walk) = match self.resolve_prefix(prefix).await? {
            Resolved::Lease(lease_id) => return self.revoke_one(&lease_id, force).await,
            Resolved::Tree(prefix, walk) => (prefix, walk),
            Resolved::Nothing => return Ok(()),
        };
        while let Some(batch) = walk.next_batch(&self.view).await? {
            for rel in batch {
                self.revoke_one(&format!("{prefix}{rel}"), force).await?;
            }
        }
        Ok(())
    }

    /// Queues every lease under `prefix` for revocation (`revoke-prefix`
    /// with `sync=false`).
    pub async fn revoke_prefix_lazy(&self, prefix: &str) -> Result<()> {
        let (prefix, mut walk) = match self.resolve_prefix(prefix).await? {
            Resolved::Lease(lease_id) => return self.revoke_lazy(&lease_id).await,
            Resolved::Tree(prefix, walk) => (prefix, walk),
            Resolved::Nothing => return Ok(()),
        };
        while let Some(batch) = walk.next_batch(&self.view).await? {
            for rel in batch {
                self.revoke_lazy(&format!("{prefix}{rel}")).await?;
            }
        }
        Ok(())
    }

    /// Queues every secret lease created by the token `token_ref` for
    /// revocation (they expire now and `tick` revokes them), as Vault does
    /// when a token is revoked. Returns how many leases were queued.
    pub async fn revoke_by_token(&self, token_ref: &str) -> Result<u64> {
        let mut walk = Walk::new(keys::token_prefix(token_ref)?);
        let mut queued = 0u64;
        while let Some(batch) = walk.next_batch(&self.view).await? {
            for escaped in batch {
                if let Some(lease_id) = keys::unescape(&escaped) {
                    self.revoke_lazy(&lease_id).await?;
                    queued += 1;
                }
            }
        }
        Ok(queued)
    }

    /// Locks, loads and revokes one lease (absent: nothing to do).
    async fn revoke_one(&self, lease_id: &str, force: bool) -> Result<()> {
        let _lock = self.locks.lock(lease_id).await;
        if let Some(entry) = self.lookup(lease_id).await? {
            self.revoke_locked(entry, force).await?;
        }
        Ok(())
    }

    /// What a revoke-prefix `prefix` names: one lease (a prefix without a
    /// trailing `/` that is a lease id), or the tree below `prefix/`.
    async fn resolve_prefix(&self, prefix: &str) -> Result<Resolved> {
        let mut prefix = prefix.to_owned();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            if self.lookup(&prefix).await?.is_some() {
                return Ok(Resolved::Lease(prefix));
            }
            prefix.push('/');
        }
        Ok(match keys::id_prefix(&prefix) {
            Some(base) => Resolved::Tree(prefix, Walk::new(base)),
            None => Resolved::Nothing,
        })
    }

    /// Revokes `entry` with its lock held. On success the lease is removed.
    /// On failure: with `force` it is removed anyway; otherwise the failure
    /// is recorded (see [`ExpirationManager::record_failure`]) and returned.
    pub(crate) async fn revoke_locked(&self, entry: LeaseEntry, force: bool) -> Result<Outcome> {
        match self.handler.revoke(&entry).await {
            Ok(()) => {
                self.commit(Some(&entry), None).await?;
                Ok(Outcome::Revoked)
            }
            Err(err) if force => {
                tracing::warn!(
                    lease_id = %entry.lease_id,
                    error = %describe(&err),
                    "revocation from the backend failed, but in force mode so ignoring"
                );
                self.commit(Some(&entry), None).await?;
                Ok(Outcome::Revoked)
            }
            Err(err) => {
                let message = describe(&err);
                if !entry.irrevocable {
                    self.record_failure(&entry, &err, self.clock.now()).await?;
                }
                Err(ExpirationError::RevokeFailed(message))
            }
        }
    }

    /// Records a failed revocation of `entry` at `now`: the lease expires
    /// (if it had not), the error is kept, and the next attempt is scheduled
    /// after [`revoke_backoff`]; after [`MAX_REVOKE_ATTEMPTS`] failures, or
    /// an error retrying cannot fix, the lease becomes irrevocable.
    pub(crate) async fn record_failure(
        &self,
        entry: &LeaseEntry,
        err: &Error,
        now: SystemTime,
    ) -> Result<Outcome> {
        let mut failed = entry.clone();
        failed.revoke_attempts = entry.revoke_attempts.saturating_add(1);
        failed.expire_time = Some(entry.expire_time.map_or(now, |e| e.min(now)));
        let out_of_retries = failed.revoke_attempts >= MAX_REVOKE_ATTEMPTS;
        let outcome = if out_of_retries || unrecoverable(err) {
            let prefix = if out_of_retries {
                "out of retries: "
            } else {
                ""
            };
            failed.last_error = Some(truncate(format!("{prefix}{}", describe(err))));
            failed.irrevocable = true;
            failed.next_attempt = None;
            Outcome::Irrevocable
        } else {
            failed.last_error = Some(truncate(describe(err)));
            failed.next_attempt = Some(time_after(now, revoke_backoff(failed.revoke_attempts)));
            Outcome::Failed
        };
        tracing::warn!(
            lease_id = %entry.lease_id,
            attempts = failed.revoke_attempts,
            irrevocable = failed.irrevocable,
            error = %describe(err),
            "failed to revoke lease"
        );
        self.commit(Some(entry), Some(&failed)).await?;
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{Harness, secret};

    #[test]
    fn backoff_doubles_from_twenty_seconds() {
        assert_eq!(revoke_backoff(1), Duration::from_secs(20));
        assert_eq!(revoke_backoff(2), Duration::from_secs(40));
        assert_eq!(revoke_backoff(5), Duration::from_secs(320));
        assert!(revoke_backoff(u32::MAX) > Duration::ZERO);
    }

    #[tokio::test]
    async fn revoke_calls_the_handler_and_removes_everything() {
        let h = Harness::new().await;
        let lease = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        h.mgr.revoke(&lease.lease_id).await.unwrap();
        assert_eq!(h.handler.revoked(), std::slice::from_ref(&lease.lease_id));
        assert!(h.mgr.lookup(&lease.lease_id).await.unwrap().is_none());
        assert_eq!(
            h.keys().await,
            ["meta/format"],
            "no index entry left behind"
        );
        // Revoking again is not an error and calls nobody.
        h.mgr.revoke(&lease.lease_id).await.unwrap();
        assert_eq!(h.handler.revoked().len(), 1);
    }

    #[tokio::test]
    async fn failed_revoke_keeps_the_lease_and_returns_the_error() {
        let h = Harness::new().await;
        let lease = h.mgr.register(secret("db/creds/a", 3600)).await.unwrap();
        h.handler
            .fail_with(Some(Error::internal("connection refused")));
        let err = h.mgr.revoke(&lease.lease_id).await.unwrap_err();
        assert_eq!(
            Error::from(err).messages(),
            ["failed to revoke entry: connection refused"]
        );
        let kept = h.mgr.lookup(&lease.lease_id).await.unwrap().unwrap();
        assert_eq!(kept.revoke_attempts, 1);
        assert_eq!(kept.last_error.as_deref(), Some("connection refused"));
        assert_eq!(
            kept.expire_time,
            Some(h.now()),
            "expired, not renewable any more"
        );
        assert_eq!(kept.next_attempt, Some(h.now() + Duration::from_secs(20)));
        // The backend recovers: the retry revokes it.
        h.handler.fail_with(None);
        h.clock.advance(Duration::from_secs(20));
        assert_eq!(h.mgr.tick().await.unwrap().revoked, 1);
        assert!(h.mgr.lookup(&lease.lease_id).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn unrecoverable_errors_make_the_lease_irrevocable_at_once() {
        let h = Harness::new().await;
        let lease = h.mgr.register(secret("db/creds/a", 3600)).await.unwrap();
        h.handler.fail_with(Some(Error::invalid("role is gone")));
        assert!(h.mgr.revoke(&lease.lease_id).await.is_err());
        let kept = h.mgr.lookup(&lease.lease_id).await.unwrap().unwrap();
        assert!(kept.irrevocable);
        assert_eq!(kept.due(), None);
        // An explicit revoke still tries, and removes it once it works.
        h.handler.fail_with(None);
        h.mgr.revoke(&lease.lease_id).await.unwrap();
        assert!(h.mgr.lookup(&lease.lease_id).await.unwrap().is_none());
        assert_eq!(h.keys().await, ["meta/format"]);
    }

    #[tokio::test]
    async fn revoke_prefix_revokes_only_under_the_prefix() {
        let h = Harness::new().await;
        let a1 = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        let a2 = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        let deep = h.mgr.register(secret("db/creds/a/b", 60)).await.unwrap();
        let ab = h.mgr.register(secret("db/creds/ab", 60)).await.unwrap();
        let other = h.mgr.register(secret("aws/creds/x", 60)).await.unwrap();
        h.mgr.revoke_prefix("db/creds/a", false).await.unwrap();
        let mut revoked = h.handler.revoked();
        revoked.sort();
        let mut want = vec![a1.lease_id, a2.lease_id, deep.lease_id];
        want.sort();
        assert_eq!(revoked, want);
        assert!(h.mgr.lookup(&ab.lease_id).await.unwrap().is_some());
        assert!(h.mgr.lookup(&other.lease_id).await.unwrap().is_some());
        // A prefix that is a lease id revokes that lease.
        h.mgr.revoke_prefix(&ab.lease_id, false).await.unwrap();
        assert!(h.mgr.lookup(&ab.lease_id).await.unwrap().is_none());
        assert!(h.mgr.lookup(&other.lease_id).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn revoke_prefix_stops_at_a_failure_but_force_removes_despite_it() {
        let h = Harness::new().await;
        let a = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        let b = h.mgr.register(secret("db/creds/b", 60)).await.unwrap();
        h.handler.fail_with(Some(Error::internal("db down")));
        let err = h.mgr.revoke_prefix("db/", false).await.unwrap_err();
        assert!(matches!(err, ExpirationError::RevokeFailed(_)));
        assert!(h.mgr.lookup(&a.lease_id).await.unwrap().is_some());
        assert!(h.mgr.lookup(&b.lease_id).await.unwrap().is_some());

        h.mgr.revoke_prefix("db/", true).await.unwrap();
        assert!(h.mgr.lookup(&a.lease_id).await.unwrap().is_none());
        assert!(h.mgr.lookup(&b.lease_id).await.unwrap().is_none());
        assert_eq!(h.keys().await, ["meta/format"]);
        assert!(
            h.handler.revoked().is_empty(),
            "the backend never succeeded"
        );
    }

    #[tokio::test]
    async fn revoke_by_token_queues_that_tokens_secrets_for_the_next_tick() {
        let h = Harness::new().await;
        let mine1 = h.mgr.register(secret("db/creds/a", 3600)).await.unwrap();
        let mine2 = h.mgr.register(secret("aws/creds/b", 3600)).await.unwrap();
        let mut theirs = secret("db/creds/a", 3600);
        theirs.token_ref = "other".into();
        let theirs = h.mgr.register(theirs).await.unwrap();
        assert_eq!(h.mgr.revoke_by_token("tok").await.unwrap(), 2);
        assert!(h.handler.revoked().is_empty(), "lazy, like Vault");
        assert_eq!(h.mgr.tick().await.unwrap().revoked, 2);
        let mut revoked = h.handler.revoked();
        revoked.sort();
        let mut want = vec![mine1.lease_id, mine2.lease_id];
        want.sort();
        assert_eq!(revoked, want);
        assert!(h.mgr.lookup(&theirs.lease_id).await.unwrap().is_some());
        assert_eq!(h.mgr.revoke_by_token("tok").await.unwrap(), 0);
    }

    #[tokio::test]
    async fn lazy_revoke_and_lazy_prefix_expire_now() {
        let h = Harness::new().await;
        let a = h.mgr.register(secret("db/creds/a", 3600)).await.unwrap();
        let b = h.mgr.register(secret("db/creds/b", 3600)).await.unwrap();
        let c = h.mgr.register(secret("aws/creds/c", 3600)).await.unwrap();
        h.mgr.revoke_lazy(&a.lease_id).await.unwrap();
        h.mgr.revoke_prefix_lazy("db/creds/b").await.unwrap();
        h.mgr.revoke_lazy("db/creds/unknown/x").await.unwrap();
        assert!(h.handler.revoked().is_empty());
        assert_eq!(h.mgr.tick().await.unwrap().revoked, 2);
        assert!(h.mgr.lookup(&c.lease_id).await.unwrap().is_some());
        assert!(h.mgr.lookup(&b.lease_id).await.unwrap().is_none());
    }

    #[test]
    fn long_errors_are_cut_on_a_char_boundary() {
        let s = "é".repeat(200);
        let t = truncate(s);
        assert!(t.len() <= MAX_ERROR_LEN);
        assert!(t.chars().all(|c| c == 'é'));
    }
}
