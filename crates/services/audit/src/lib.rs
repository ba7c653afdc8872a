//! Coffer's Vault-compatible audit devices.
//!
//! This crate owns what Vault calls audit devices and the broker in front of
//! them:
//!
//! - **Records** ([`Formatter`]): Vault's JSON lines, a `request` record
//!   before a request is served and a `response` record before its response
//!   leaves, paired by `request.id`. Every string value in request and
//!   response data is replaced by `hmac-sha256:<hex>` under the device's salt
//!   (32 random bytes kept in the barrier), as Vault's `hashstructure` does;
//!   tokens are always HMAC-ed and accessors when `hmac_accessor` (the
//!   default), unless `log_raw`. `elide_list_responses` and `prefix` behave
//!   as in Vault.
//! - **Devices**: `file` (append-only, fsync'ed before a write counts,
//!   `stdout`, `discard`, reopened on SIGHUP), `socket` (TCP, UDP, UNIX, with
//!   `write_timeout`) and `syslog` (the local `/dev/log`). Each device has a
//!   writer thread that seals every record into coffer-audit-log's
//!   tamper-evident log (sequence number, hash chain, Merkle leaf, signed
//!   checkpoints) and publishes the new log head only once the write is
//!   durable; a failed write rolls the sealer back and cuts any partial line.
//! - **Fail closed** ([`AuditBroker`]): records go to every device at once,
//!   each with a deadline; when devices are enabled and none recorded a
//!   record, logging fails and the core must refuse the request.
//! - **The manager** ([`AuditManager`]): the device table, salts, the
//!   checkpoint signing key and log heads in the barrier; devices declared
//!   in the server configuration; the `sys/audit*` endpoints; and tamper
//!   detection (deleted, replaced or truncated files) at start-up and in
//!   `sys/audit-log/status`, counted in [`TAMPER_METRIC`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod broker;
mod device;
mod error;
mod format;
mod hash;
mod input;
mod manager;
mod options;
mod salt;
mod sink;
mod status;
mod store;
mod sys;
mod tamper;
mod writer;

pub use broker::AuditBroker;
pub use device::DeviceEntry;
pub use error::AuditError;
pub use format::Formatter;
pub use hash::{elide_list_response, hash_map};
pub use input::{AuditAuth, AuditHeader, AuditRequest, AuditResponse};
pub use manager::{
    API_ENABLE_DISABLED, AuditManager, AuditManagerOptions, DeviceConfig, TAMPER_METRIC,
};
pub use options::{
    DEFAULT_SOCKET_WRITE_TIMEOUT, DEVICE_TYPES, DeviceOptions, FileTarget, FormatOptions,
    SinkOptions, SocketType,
};
pub use salt::{HMAC_PREFIX, SALT_LEN, Salt};
