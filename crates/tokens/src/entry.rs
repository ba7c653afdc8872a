//! What the store keeps about a token. The token itself is never stored.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The only token type this store issues.
pub const TOKEN_TYPE_SERVICE: &str = "service";

/// A token's stored state. Built only by the [`TokenStore`](crate::TokenStore);
/// the raw token is never part of it (it is identified by `id_hash`, an HMAC of
/// the token under a per-store salt). `Debug` prints no identifier.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TokenEntry {
    /// Hex HMAC-SHA256 of the token under the store's salt: the storage id.
    pub id_hash: String,
    /// The token's accessor.
    pub accessor: String,
    /// The parent token's `id_hash`; `None` for orphans.
    pub parent: Option<String>,
    /// Sorted, deduplicated policies.
    pub policies: Vec<String>,
    /// Metadata given at creation.
    pub meta: BTreeMap<String, String>,
    /// `token`, `token-<name>`, `root`, or the auth method's display name.
    pub display_name: String,
    /// Remaining uses; 0 means unlimited.
    pub num_uses: u64,
    /// When the token was created.
    pub creation_time: SystemTime,
    /// The TTL given at creation (zero: never expires).
    pub creation_ttl: Duration,
    /// The TTL set by the last creation or renewal (the base of renewals
    /// without an increment).
    pub ttl: Duration,
    /// When the token stops working; `None` for non-expiring (root) tokens.
    pub expire_time: Option<SystemTime>,
    /// When the token was last renewed.
    pub last_renewal_time: Option<SystemTime>,
    /// Hard lifetime cap counted from creation (zero: none).
    pub explicit_max_ttl: Duration,
    /// Renewal period of a periodic token (zero: not periodic).
    pub period: Duration,
    /// Whether the token may be renewed.
    pub renewable: bool,
    /// Always `service`.
    pub token_type: String,
    /// The path that created the token (`auth/token/create`, `auth/userpass/login/bob`).
    pub path: String,
    /// The identity entity, "" when none.
    pub entity_id: String,
    /// The token role it was created against, "" when none.
    pub role: String,
    /// A random id that scopes the token's cubbyhole; not derived from the token.
    pub cubbyhole_id: String,
    /// Set while the token is being revoked (its last use was spent, or a
    /// revocation is in progress): the token no longer authenticates.
    #[serde(default)]
    pub(crate) revocation_pending: bool,
}

impl TokenEntry {
    /// A stable id for cubbyhole scoping; never the token, never its hash.
    pub fn scope_id(&self) -> &str {
        &self.cubbyhole_id
    }

    /// True for tokens with exactly the `root` policy.
    pub fn is_root(&self) -> bool {
        self.policies.len() == 1 && self.policies[0] == "root"
    }

    /// True when the token has no parent.
    pub fn is_orphan(&self) -> bool {
        self.parent.is_none()
    }

    /// True when the token has expired at `now`.
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        self.expire_time.is_some_and(|t| t <= now)
    }

    /// Seconds left until expiry at `now`, rounded to the nearest second (0
    /// for non-expiring or expired tokens).
    pub fn ttl_remaining(&self, now: SystemTime) -> u64 {
        match self.expire_time.map(|t| t.duration_since(now)) {
            Some(Ok(left)) => (left + Duration::from_millis(500)).as_secs(),
            _ => 0,
        }
    }
}

impl std::fmt::Debug for TokenEntry {
    /// Shows the shape of the entry; the accessor and the token's hash are
    /// not printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenEntry")
            .field("accessor", &"[redacted]")
            .field("policies", &self.policies)
            .field("display_name", &self.display_name)
            .field("path", &self.path)
            .field("orphan", &self.is_orphan())
            .field("num_uses", &self.num_uses)
            .field("creation_ttl", &self.creation_ttl)
            .field("expire_time", &self.expire_time)
            .field("renewable", &self.renewable)
            .field("token_type", &self.token_type)
            .finish_non_exhaustive()
    }
}

/// Seconds since the Unix epoch (0 for times before it).
pub(crate) fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// RFC 3339 with nanoseconds in UTC, as Vault prints times.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> TokenEntry {
        TokenEntry {
            id_hash: "ab".repeat(32),
            accessor: "AccessorCanary123".into(),
            parent: None,
            policies: vec!["default".into(), "web".into()],
            meta: BTreeMap::new(),
            display_name: "token".into(),
            num_uses: 0,
            creation_time: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            creation_ttl: Duration::from_secs(3600),
            ttl: Duration::from_secs(3600),
            expire_time: Some(UNIX_EPOCH + Duration::from_secs(1_700_003_600)),
            last_renewal_time: None,
            explicit_max_ttl: Duration::ZERO,
            period: Duration::ZERO,
            renewable: true,
            token_type: TOKEN_TYPE_SERVICE.into(),
            path: "auth/token/create".into(),
            entity_id: String::new(),
            role: String::new(),
            cubbyhole_id: "cubby".into(),
            revocation_pending: false,
        }
    }

    #[test]
    fn debug_shows_no_identifiers() {
        let e = sample();
        let shown = format!("{e:?}");
        assert!(!shown.contains("AccessorCanary"));
        assert!(!shown.contains(&e.id_hash));
        assert!(shown.contains("web"));
    }

    #[test]
    fn expiry_and_remaining_ttl() {
        let e = sample();
        let created = e.creation_time;
        assert!(!e.is_expired_at(created + Duration::from_secs(3599)));
        assert!(e.is_expired_at(created + Duration::from_secs(3600)));
        assert_eq!(e.ttl_remaining(created + Duration::from_secs(600)), 3000);
        assert_eq!(e.ttl_remaining(created + Duration::from_secs(4000)), 0);
        assert_eq!(unix_secs(created), 1_700_000_000);
        assert_eq!(rfc3339(created), "2023-11-14T22:13:20Z");
    }
}
