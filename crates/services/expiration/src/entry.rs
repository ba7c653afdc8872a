//! The lease record: what is stored per lease, and what a caller asks for
//! when registering one.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What a lease stands for, which decides who revokes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LeaseKind {
    /// A secret handed out by a secrets engine (a database user, ...).
    #[default]
    Secret,
    /// A token's own lease; revoking it revokes the token.
    Token,
}

/// A lease to register, as the core describes it.
#[derive(Clone, Default)]
pub struct NewLease {
    /// The full request path that created the secret (`database/creds/web`);
    /// the lease id is this path plus a random suffix.
    pub path: String,
    /// Secret or token.
    pub kind: LeaseKind,
    /// The accessor of the mount that issued it (shown by `sys/leases?type=irrevocable`).
    pub mount_accessor: String,
    /// Time to live. Zero gives a token lease that never expires (root
    /// tokens) and a secret lease that expires at once, as Vault does.
    pub ttl: Duration,
    /// The longest the lease may live through renewals (already resolved
    /// against the mount's and the system's maximum); zero for no cap.
    pub max_ttl: Duration,
    /// Whether the lease may be renewed.
    pub renewable: bool,
    /// The backend's data for revoking and renewing.
    pub internal_data: Map<String, Value>,
    /// An id of the token that created the lease (its hash, never the
    /// token): revoking that token revokes the lease. Empty for none.
    pub token_ref: String,
    /// A fixed last segment for the lease id instead of a random one: token
    /// leases use the token's hash, so the core can find a token's lease
    /// again (`auth/token/create/<hash>`, as Vault names them).
    pub id_suffix: Option<String>,
}

impl std::fmt::Debug for NewLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewLease")
            .field("path", &self.path)
            .field("kind", &self.kind)
            .field("ttl", &self.ttl)
            .field("max_ttl", &self.max_ttl)
            .field("renewable", &self.renewable)
            .field(
                "internal_data_keys",
                &self.internal_data.keys().collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// One lease, as stored under `id/<lease_id>`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaseEntry {
    /// `<path>/<24 random characters>`.
    pub lease_id: String,
    /// The full request path that created it.
    pub path: String,
    /// Secret or token.
    pub kind: LeaseKind,
    /// The issuing mount's accessor ("" when unknown).
    #[serde(default)]
    pub mount_accessor: String,
    /// The backend's data for revoking and renewing. Never printed.
    pub internal_data: Map<String, Value>,
    /// The creating token's id (hash); "" for none.
    pub token_ref: String,
    /// When the lease was issued.
    #[serde(with = "coffer_types::stored_time::time")]
    pub issue_time: SystemTime,
    /// When it expires; `None` for a lease that never does (root tokens).
    #[serde(with = "coffer_types::stored_time::option_time")]
    pub expire_time: Option<SystemTime>,
    /// When it was last renewed.
    #[serde(with = "coffer_types::stored_time::option_time")]
    pub last_renewal_time: Option<SystemTime>,
    /// The TTL last granted (at issue or renewal); the default increment of
    /// a renewal that names none.
    #[serde(with = "coffer_types::stored_time::duration")]
    pub ttl: Duration,
    /// Whether it may be renewed.
    pub renewable: bool,
    /// The absolute cap on its life through renewals (issue time plus the
    /// max TTL); `None` for no cap.
    #[serde(with = "coffer_types::stored_time::option_time")]
    pub max_expire_time: Option<SystemTime>,
    /// Failed revocation attempts so far.
    pub revoke_attempts: u32,
    /// When the next revocation attempt is due after a failure.
    #[serde(with = "coffer_types::stored_time::option_time")]
    pub next_attempt: Option<SystemTime>,
    /// The last revocation error (backend text, at most 240 characters).
    pub last_error: Option<String>,
    /// Revocation failed for good (out of retries, or the backend said the
    /// request is invalid): the lease is kept but no longer retried by
    /// `tick`; an explicit revoke or `revoke-force` removes it.
    pub irrevocable: bool,
}

impl LeaseEntry {
    /// When `tick` must look at this lease next: the pending retry after a
    /// failed revocation, else the expiry. `None` for leases `tick` never
    /// revokes (non-expiring or irrevocable).
    pub fn due(&self) -> Option<SystemTime> {
        if self.irrevocable {
            return None;
        }
        self.next_attempt.or(self.expire_time)
    }

    /// Vault's `renewable()`: renewable now, as lookups report it.
    pub fn renewable_at(&self, now: SystemTime) -> bool {
        !self.irrevocable && self.renewable && self.expire_time.is_some_and(|e| e >= now)
    }

    /// Seconds until expiry at `now` (negative once expired; 0 when it never
    /// expires), as Vault's lookup reports it.
    pub fn ttl_secs_at(&self, now: SystemTime) -> i64 {
        match self.expire_time {
            None => 0,
            Some(expire) => match expire.duration_since(now) {
                Ok(left) => i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
                Err(past) => -i64::try_from(past.duration().as_secs()).unwrap_or(i64::MAX),
            },
        }
    }
}

impl std::fmt::Debug for LeaseEntry {
    /// Everything but the backend's internal data, whose values may be secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaseEntry")
            .field("lease_id", &self.lease_id)
            .field("path", &self.path)
            .field("kind", &self.kind)
            .field(
                "internal_data_keys",
                &self.internal_data.keys().collect::<Vec<_>>(),
            )
            .field("issue_time", &self.issue_time)
            .field("expire_time", &self.expire_time)
            .field("last_renewal_time", &self.last_renewal_time)
            .field("renewable", &self.renewable)
            .field("max_expire_time", &self.max_expire_time)
            .field("revoke_attempts", &self.revoke_attempts)
            .field("next_attempt", &self.next_attempt)
            .field("last_error", &self.last_error)
            .field("irrevocable", &self.irrevocable)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(now: SystemTime) -> LeaseEntry {
        let mut internal_data = Map::new();
        internal_data.insert("password".into(), Value::String("canary-s3cr3t".into()));
        LeaseEntry {
            lease_id: "db/creds/web/abc".into(),
            path: "db/creds/web".into(),
            kind: LeaseKind::Secret,
            mount_accessor: String::new(),
            internal_data,
            token_ref: "t".into(),
            issue_time: now,
            expire_time: Some(now + Duration::from_secs(60)),
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

    #[test]
    fn debug_hides_internal_data_values() {
        let shown = format!("{:?}", entry(SystemTime::now()));
        assert!(shown.contains("password"));
        assert!(!shown.contains("canary"));
    }

    #[test]
    fn due_prefers_a_pending_retry_and_skips_irrevocable() {
        let now = SystemTime::now();
        let mut e = entry(now);
        assert_eq!(e.due(), e.expire_time);
        let retry = now + Duration::from_secs(20);
        e.next_attempt = Some(retry);
        assert_eq!(e.due(), Some(retry));
        e.irrevocable = true;
        assert_eq!(e.due(), None);
    }

    #[test]
    fn ttl_and_renewability_follow_the_clock() {
        let now = SystemTime::now();
        let e = entry(now);
        assert_eq!(e.ttl_secs_at(now), 60);
        assert!(e.renewable_at(now));
        let later = now + Duration::from_secs(90);
        assert_eq!(e.ttl_secs_at(later), -30);
        assert!(!e.renewable_at(later));
    }

    #[test]
    fn round_trips_through_json() {
        let e = entry(SystemTime::now());
        let bytes = serde_json::to_vec(&e).unwrap();
        let back: LeaseEntry = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, e);
    }
}
