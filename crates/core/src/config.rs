//! Settings the core is built with.

use std::sync::Arc;
use std::time::Duration;

use coffer_sdk::catalog::{Catalog, Entry, Kind};
use coffer_sdk::{Clock, SystemClock};

/// Vault's default for both the default and the maximum lease TTL: 32 days.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(768 * 3600);

/// How the core is configured.
#[derive(Clone)]
pub struct CoreConfig {
    /// System-wide default lease TTL.
    pub default_lease_ttl: Duration,
    /// System-wide maximum lease TTL.
    pub max_lease_ttl: Duration,
    /// The clock every TTL is measured with.
    pub clock: Arc<dyn Clock>,
    /// The storage type reported by `sys/seal-status` (`inmem`, `redb`).
    pub storage_type: String,
    /// Cluster name reported by the status endpoints.
    pub cluster_name: String,
    /// The address reported by `sys/leader`.
    pub api_addr: Option<String>,
    /// Audit devices declared in the configuration file: started at every
    /// unseal and not removable over the API.
    pub audit_devices: Vec<coffer_audit::DeviceConfig>,
    /// Whether `sys/audit/:path` may enable devices (false when the
    /// configuration says `disable_api_audit_creation = true`).
    pub audit_api_creation: bool,
    /// The secrets engines and auth methods this server can mount. The
    /// default knows only the core's own singletons ([`core_catalog`]); a
    /// server passes `coffer_builtins::catalog()`. A mount whose type the
    /// catalog cannot build stays in the table and answers every request
    /// with an error.
    pub catalog: Catalog,
}

/// The types the core wires itself, without a factory: the `system` and
/// `identity` secrets engines and the `token` auth method. Every catalog a
/// server uses should list them, so that enabling one is refused as Vault
/// refuses it rather than as an unknown type.
pub fn core_catalog() -> Catalog {
    Catalog::new()
        .with(Entry::singleton(Kind::Secret, "system", None))
        .with(Entry::singleton(Kind::Secret, "identity", None))
        .with(Entry::singleton(Kind::Auth, "token", None))
}

impl Default for CoreConfig {
    fn default() -> Self {
        Self {
            default_lease_ttl: DEFAULT_LEASE_TTL,
            max_lease_ttl: DEFAULT_LEASE_TTL,
            clock: Arc::new(SystemClock),
            storage_type: "inmem".to_owned(),
            cluster_name: "coffer-cluster".to_owned(),
            api_addr: None,
            audit_devices: Vec::new(),
            audit_api_creation: true,
            catalog: core_catalog(),
        }
    }
}

impl std::fmt::Debug for CoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoreConfig")
            .field("default_lease_ttl", &self.default_lease_ttl)
            .field("max_lease_ttl", &self.max_lease_ttl)
            .field("storage_type", &self.storage_type)
            .finish_non_exhaustive()
    }
}
