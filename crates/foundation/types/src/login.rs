//! What an auth method grants on a successful login. The core turns a
//! [`LoginGrant`] into a token (and an identity alias), so auth methods never
//! create tokens themselves.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The identity a login asserts: the alias name within the auth mount
/// (a username, a role id), with metadata copied onto the alias.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasGrant {
    /// The alias name (unique within the auth mount).
    pub name: String,
    /// Metadata recorded on the alias.
    pub metadata: BTreeMap<String, String>,
}

/// A successful login, as the auth method reports it.
///
/// Stored inside token entries: times as integer nanoseconds, empty fields
/// left out (and read back as their defaults).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoginGrant {
    /// Shown in token lookups (`<mount>-<name>`); the core prefixes the mount.
    pub display_name: String,
    /// Policies attached to the token (`token_policies`).
    pub policies: Vec<String>,
    /// Do not add the `default` policy.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_default_policy: bool,
    /// Token metadata (`username`, `role_name`, ...). Never secret.
    pub metadata: BTreeMap<String, String>,
    /// Token TTL; zero means the mount's default.
    #[serde(
        with = "crate::stored_time::duration",
        skip_serializing_if = "Duration::is_zero"
    )]
    pub ttl: Duration,
    /// Cap on the token's life through renewals; zero means the mount's max.
    #[serde(
        with = "crate::stored_time::duration",
        skip_serializing_if = "Duration::is_zero"
    )]
    pub max_ttl: Duration,
    /// Periodic token period; zero for none.
    #[serde(
        with = "crate::stored_time::duration",
        skip_serializing_if = "Duration::is_zero"
    )]
    pub period: Duration,
    /// Hard cap regardless of renewals; zero for none.
    #[serde(
        with = "crate::stored_time::duration",
        skip_serializing_if = "Duration::is_zero"
    )]
    pub explicit_max_ttl: Duration,
    /// Number of uses; zero for unlimited.
    pub num_uses: u64,
    /// Whether the token may be renewed.
    pub renewable: bool,
    /// Client networks the token may be used from (CIDR blocks); empty for any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bound_cidrs: Vec<String>,
    /// `service`, `batch`, or `default` (service unless the mount says otherwise).
    pub token_type: String,
    /// The identity alias this login asserts, if the method has one.
    pub alias: Option<AliasGrant>,
    /// The auth method's own data, kept with the token and handed back to it on
    /// renewal. Never shown to clients or written to audit logs in clear.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub internal_data: Map<String, Value>,
}

impl std::fmt::Debug for LoginGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginGrant")
            .field("display_name", &self.display_name)
            .field("policies", &self.policies)
            .field("ttl", &self.ttl)
            .field("alias", &self.alias.as_ref().map(|a| &a.name))
            .field(
                "internal_data_keys",
                &self.internal_data.keys().collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// A lease as the expiration manager hands it back to the backend that
/// issued it (for renewal and revocation).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseData {
    /// The lease id (`<mount path><request path>/<random>`).
    pub lease_id: String,
    /// The request path (relative to the mount) that created the secret.
    pub path: String,
    /// The backend's own data about the secret (a database user name, ...).
    pub internal_data: Map<String, Value>,
    /// When the lease was issued.
    pub issue_time: std::time::SystemTime,
    /// Its current TTL.
    pub ttl: Duration,
}

impl std::fmt::Debug for LeaseData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaseData")
            .field("lease_id", &self.lease_id)
            .field("path", &self.path)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}
