//! The typed configuration.

use std::path::PathBuf;
use std::time::Duration;

/// Vault's default for both `default_lease_ttl` and `max_lease_ttl`: 768h.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(768 * 3600);

/// A server configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// Where data is kept.
    pub storage: StorageConfig,
    /// The `listener "tcp"` stanzas, in file order.
    pub listeners: Vec<ListenerConfig>,
    /// `default_lease_ttl` (768h if unset or zero).
    pub default_lease_ttl: Duration,
    /// `max_lease_ttl` (768h if unset or zero).
    pub max_lease_ttl: Duration,
    /// `disable_mlock`.
    pub disable_mlock: bool,
    /// `disable_cache`: no read cache in front of the physical storage.
    pub disable_cache: bool,
    /// `cache_size`: the most entries the physical read cache holds
    /// (Vault's default, 131072, when unset).
    pub cache_size: u64,
    /// `api_addr`: the address advertised to clients.
    pub api_addr: Option<String>,
    /// `cluster_addr`.
    pub cluster_addr: Option<String>,
    /// `ui`.
    pub ui: bool,
    /// `log_level`, lower-cased (`trace`, `debug`, `info`, `warn`, `error`, ...).
    pub log_level: Option<String>,
    /// One line per stanza or setting that Coffer does not support yet and
    /// Audit devices declared in the file (`audit "file" { ... }`); the API
    /// cannot disable them.
    pub audit_devices: Vec<AuditDeviceConfig>,
    /// `disable_api_audit_creation = true`: audit devices may only be
    /// declared here, never enabled over the API.
    pub disable_api_audit_creation: bool,
    /// ignored. The server should log each.
    pub warnings: Vec<String>,
}

/// Where data is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageConfig {
    /// In memory only (`storage "inmem"`): nothing survives a restart.
    InMemory,
    /// A redb file: `storage "redb" { path = "<file>" }`, or
    /// `<path>/coffer.redb` for Vault's `storage "file"` and `storage "raft"`.
    Redb {
        /// The database file.
        path: PathBuf,
        /// `page_cache_mb`: redb's own page cache, in MiB
        /// ([`DEFAULT_REDB_PAGE_CACHE_MB`] when unset).
        page_cache_mb: u64,
    },
}

/// Vault's default `cache_size`: entries in the physical read cache.
pub const DEFAULT_CACHE_SIZE: u64 = 131_072;

/// redb's page cache when `page_cache_mb` is unset: enough for the hot
/// pages of millions of keys without holding the database in memory.
pub const DEFAULT_REDB_PAGE_CACHE_MB: u64 = 32;

/// A `listener "tcp"` stanza.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenerConfig {
    /// `address` (default `127.0.0.1:8200`).
    pub address: String,
    /// `tls_disable`: serve plain HTTP.
    pub tls_disable: bool,
    /// `tls_cert_file`: PEM certificate chain (required unless `tls_disable`).
    pub tls_cert_file: Option<PathBuf>,
    /// `tls_key_file`: PEM private key (required unless `tls_disable`).
    pub tls_key_file: Option<PathBuf>,
    /// `tls_client_ca_file`: CA bundle for client certificates.
    pub tls_client_ca_file: Option<PathBuf>,
    /// `tls_require_and_verify_client_cert`.
    pub tls_require_and_verify_client_cert: bool,
    /// `x_forwarded_for_authorized_addrs`: IPs or CIDRs whose
    /// `X-Forwarded-For` header is trusted.
    pub x_forwarded_for_authorized_addrs: Vec<String>,
    /// `http_read_timeout`: the longest a whole request (headers and body)
    /// may take to arrive ([`DEFAULT_HTTP_READ_TIMEOUT`] when unset; zero
    /// means no limit, as in Vault).
    pub http_read_timeout: Duration,
}

/// Vault's default `http_read_timeout`: 30 s.
pub const DEFAULT_HTTP_READ_TIMEOUT: Duration = Duration::from_secs(30);

impl Default for ListenerConfig {
    fn default() -> Self {
        Self {
            address: "127.0.0.1:8200".to_owned(),
            tls_disable: false,
            tls_cert_file: None,
            tls_key_file: None,
            tls_client_ca_file: None,
            tls_require_and_verify_client_cert: false,
            x_forwarded_for_authorized_addrs: Vec::new(),
            http_read_timeout: DEFAULT_HTTP_READ_TIMEOUT,
        }
    }
}

/// An audit device declared in the configuration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditDeviceConfig {
    /// `file`, `socket` or `syslog`.
    pub device_type: String,
    /// Where it is mounted (`file`, `audit/primary`).
    pub path: String,
    /// Free text.
    pub description: String,
    /// The device's options (`file_path`, `address`, `log_raw`, ...).
    pub options: std::collections::BTreeMap<String, String>,
}
