//! Coffer's server configuration: reads a Vault server configuration file as
//! it is (HCL or JSON) into a typed [`ServerConfig`].
//!
//! What Coffer supports is mapped (`storage "inmem"`, `"file"`, `"raft"`,
//! `"redb"`, the legacy `backend` stanza, `listener "tcp"`, lease TTLs,
//! `ui`, `api_addr`, ...); what it does not support yet (`seal`, `telemetry`,
//! `ha_storage`, unknown keys, other listener types) adds one line to
//! [`ServerConfig::warnings`] and is otherwise ignored. Invalid files fail
//! with a [`ConfigError`] that says where and why; error messages never
//! repeat configuration values that could be secret.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod audit;
mod error;
mod listener;
mod model;
mod server;
mod source;
mod stanza;
mod storage;
mod value;

pub use error::ConfigError;
pub use model::{
    AuditDeviceConfig, DEFAULT_CACHE_SIZE, DEFAULT_HTTP_READ_TIMEOUT, DEFAULT_LEASE_TTL,
    DEFAULT_REDB_PAGE_CACHE_MB, ListenerConfig, ServerConfig, StorageConfig,
};
pub use source::{load, parse_hcl, parse_json};
