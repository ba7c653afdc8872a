//! What the store keeps about a token. The token itself is never stored.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use coffer_types::LoginGrant;
use serde::{Deserialize, Serialize};

/// The `token_type` of stored (service) tokens.
pub const TOKEN_TYPE_SERVICE: &str = "service";
/// The `token_type` of batch tokens (never stored; see [`TokenType::Batch`]).
pub const TOKEN_TYPE_BATCH: &str = "batch";

/// The two kinds of token the store issues.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenType {
    /// `hvs.` tokens: stored, with an accessor, a cubbyhole, children,
    /// renewals and revocation.
    #[default]
    Service,
    /// `hvb.` tokens: an encrypted, self-contained entry that is never
    /// stored. No accessor, no cubbyhole, no children, no renewal, no
    /// individual revocation; they die at their TTL or with their parent.
    Batch,
}

impl TokenType {
    /// `service` or `batch`, as Vault prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::Service => TOKEN_TYPE_SERVICE,
            TokenType::Batch => TOKEN_TYPE_BATCH,
        }
    }

    /// Parses `service` or `batch` (`None` for anything else, including
    /// the role-only `default-service`/`default-batch`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            TOKEN_TYPE_SERVICE => Some(TokenType::Service),
            TOKEN_TYPE_BATCH => Some(TokenType::Batch),
            _ => None,
        }
    }
}

impl std::fmt::Display for TokenType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Sorted, deduplicated policies.
    pub policies: Vec<String>,
    /// Metadata given at creation.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub meta: BTreeMap<String, String>,
    /// `token`, `token-<name>`, `root`, or the auth method's display name.
    pub display_name: String,
    /// Remaining uses; 0 means unlimited.
    pub num_uses: u64,
    /// When the token was created.
    #[serde(with = "coffer_types::stored_time::time")]
    pub creation_time: SystemTime,
    /// The TTL given at creation (zero: never expires).
    #[serde(with = "coffer_types::stored_time::duration")]
    pub creation_ttl: Duration,
    /// The TTL set by the last creation or renewal (the base of renewals
    /// without an increment).
    #[serde(with = "coffer_types::stored_time::duration")]
    pub ttl: Duration,
    /// When the token stops working; `None` for non-expiring (root) tokens.
    #[serde(with = "coffer_types::stored_time::option_time")]
    pub expire_time: Option<SystemTime>,
    /// When the token was last renewed.
    #[serde(
        default,
        with = "coffer_types::stored_time::option_time",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_renewal_time: Option<SystemTime>,
    /// Hard lifetime cap counted from creation (zero: none).
    #[serde(
        default,
        with = "coffer_types::stored_time::duration",
        skip_serializing_if = "Duration::is_zero"
    )]
    pub explicit_max_ttl: Duration,
    /// Renewal period of a periodic token (zero: not periodic).
    #[serde(
        default,
        with = "coffer_types::stored_time::duration",
        skip_serializing_if = "Duration::is_zero"
    )]
    pub period: Duration,
    /// Whether the token may be renewed.
    pub renewable: bool,
    /// `service` or `batch` ([`TokenType::as_str`]).
    pub token_type: String,
    /// The path that created the token (`auth/token/create`, `auth/userpass/login/bob`).
    pub path: String,
    /// The identity entity, "" when none.
    pub entity_id: String,
    /// The token role it was created against, "" when none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub role: String,
    /// A random id that scopes the token's cubbyhole; not derived from the
    /// token. Empty for batch tokens, which have no cubbyhole.
    pub cubbyhole_id: String,
    /// CIDR blocks the token may be used from, as given (empty: anywhere).
    /// Checked by [`TokenEntry::cidr_allowed`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bound_cidrs: Vec<String>,
    /// The auth method's login grant for tokens minted by a login (kept in
    /// the barrier with the entry, handed back to the method on renewal).
    /// `None` for tokens from `auth/token/` and for batch tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_grant: Option<LoginGrant>,
    /// The backend's cap on the token's lifetime through renewals (a login's
    /// `max_ttl`); zero: only the system max applies.
    #[serde(
        default,
        with = "coffer_types::stored_time::duration",
        skip_serializing_if = "Duration::is_zero"
    )]
    pub max_ttl: Duration,
    /// Set while the token is being revoked (its last use was spent, or a
    /// revocation is in progress): the token no longer authenticates.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) revocation_pending: bool,
}

impl TokenEntry {
    /// A stable id for cubbyhole scoping; never the token, never its hash.
    ///
    /// Batch tokens have no cubbyhole (as in Vault): their scope id is the
    /// empty string, which the cubbyhole backend refuses, so the core must
    /// refuse cubbyhole requests made with a batch token (see
    /// [`TokenEntry::is_batch`]).
    pub fn scope_id(&self) -> &str {
        &self.cubbyhole_id
    }

    /// True for batch (`hvb.`) tokens.
    pub fn is_batch(&self) -> bool {
        self.token_type == TOKEN_TYPE_BATCH
    }

    /// The token's type.
    pub fn token_kind(&self) -> TokenType {
        TokenType::from_name(&self.token_type).unwrap_or_default()
    }

    /// Whether a request from `client` may use this token: true when the
    /// token is not CIDR-bound; false when it is bound and the client
    /// address is unknown or outside every block (or a stored block no
    /// longer parses: fail closed). The core answers 403 when false.
    pub fn cidr_allowed(&self, client: Option<IpAddr>) -> bool {
        if self.bound_cidrs.is_empty() {
            return true;
        }
        match coffer_sdk::cidr::parse_cidrs(&self.bound_cidrs) {
            Ok(blocks) => coffer_sdk::cidr::allowed(&blocks, client),
            Err(_) => false,
        }
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
            .field("bound_cidrs", &self.bound_cidrs)
            .field("login", &self.login_grant.is_some())
            .finish_non_exhaustive()
    }
}

/// Seconds since the Unix epoch (0 for times before it).
pub(crate) fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

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
            bound_cidrs: Vec::new(),
            login_grant: None,
            max_ttl: Duration::ZERO,
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
    fn cidr_binding_in_out_and_absent() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        let mut e = sample();
        assert!(e.cidr_allowed(None), "unbound tokens work from anywhere");
        assert!(e.cidr_allowed(ip("8.8.8.8")));
        e.bound_cidrs = vec!["10.0.0.0/8".into(), "192.168.1.7".into()];
        assert!(e.cidr_allowed(ip("10.20.30.40")));
        assert!(e.cidr_allowed(ip("192.168.1.7")));
        assert!(e.cidr_allowed(ip("::ffff:10.0.0.1")), "v4-mapped v6");
        assert!(!e.cidr_allowed(ip("192.168.1.8")));
        assert!(!e.cidr_allowed(ip("11.0.0.1")));
        assert!(!e.cidr_allowed(None), "bound, address unknown");
        e.bound_cidrs = vec!["not-a-cidr".into()];
        assert!(
            !e.cidr_allowed(ip("10.0.0.1")),
            "corrupt binding fails closed"
        );
    }

    #[test]
    fn token_types() {
        assert_eq!(TokenType::from_name("batch"), Some(TokenType::Batch));
        assert_eq!(TokenType::from_name("service"), Some(TokenType::Service));
        assert_eq!(TokenType::from_name("default-batch"), None);
        assert_eq!(TokenType::Batch.to_string(), "batch");
        let mut e = sample();
        assert!(!e.is_batch() && e.token_kind() == TokenType::Service);
        e.token_type = TOKEN_TYPE_BATCH.into();
        assert!(e.is_batch() && e.token_kind() == TokenType::Batch);
    }

    /// A login token entry, with a grant, as a login stores it.
    fn login_sample() -> TokenEntry {
        let mut e = sample();
        e.meta.insert("role_name".into(), "web".into());
        e.last_renewal_time = Some(e.creation_time + Duration::from_secs(5));
        e.period = Duration::from_secs(60);
        e.login_grant = Some(LoginGrant {
            display_name: "approle".into(),
            policies: vec!["web".into()],
            ttl: Duration::from_secs(3600),
            max_ttl: Duration::from_secs(7200),
            renewable: true,
            ..LoginGrant::default()
        });
        e
    }

    #[test]
    fn entries_in_serdes_default_time_form_still_decode() {
        // How entries were written before times became nanoseconds.
        let secs = |d: Duration| json!({"secs": d.as_secs(), "nanos": d.subsec_nanos()});
        let at = |t: SystemTime| {
            let d = t.duration_since(UNIX_EPOCH).unwrap();
            json!({"secs_since_epoch": d.as_secs(), "nanos_since_epoch": d.subsec_nanos()})
        };
        let e = login_sample();
        let mut v = serde_json::to_value(&e).unwrap();
        v["creation_time"] = at(e.creation_time);
        v["expire_time"] = at(e.expire_time.unwrap());
        v["last_renewal_time"] = at(e.last_renewal_time.unwrap());
        v["creation_ttl"] = secs(e.creation_ttl);
        v["ttl"] = secs(e.ttl);
        v["period"] = secs(e.period);
        v["explicit_max_ttl"] = secs(Duration::ZERO);
        v["login_grant"]["ttl"] = secs(Duration::from_secs(3600));
        v["login_grant"]["max_ttl"] = secs(Duration::from_secs(7200));
        v["login_grant"]["period"] = secs(Duration::ZERO);
        v["login_grant"]["bound_cidrs"] = json!([]);
        v["login_grant"]["internal_data"] = json!({});
        let back: TokenEntry = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn entries_are_written_compactly_and_read_back() {
        let e = login_sample();
        let v = serde_json::to_value(&e).unwrap();
        assert!(v["creation_time"].is_u64() && v["ttl"].is_u64());
        for absent in [
            "parent",
            "role",
            "bound_cidrs",
            "max_ttl",
            "revocation_pending",
        ] {
            assert!(v.get(absent).is_none(), "{absent} is left out when empty");
        }
        assert!(v["login_grant"].get("internal_data").is_none());
        let back: TokenEntry = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
        let mut full = e.clone();
        full.parent = Some("cd".repeat(32));
        full.role = "r".into();
        full.bound_cidrs = vec!["10.0.0.0/8".into()];
        full.max_ttl = Duration::from_secs(9);
        full.revocation_pending = true;
        let back: TokenEntry = serde_json::from_slice(&serde_json::to_vec(&full).unwrap()).unwrap();
        assert_eq!(back, full);
    }

    #[test]
    fn entries_without_the_new_fields_still_decode() {
        let mut value = serde_json::to_value(sample()).unwrap();
        let obj = value.as_object_mut().unwrap();
        obj.remove("bound_cidrs");
        obj.remove("login_grant");
        obj.remove("max_ttl");
        let back: TokenEntry = serde_json::from_value(value).unwrap();
        assert_eq!(back, sample());
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
    }
}
