//! The `sys/` backend's core pieces, one path family per file. `sys/` is
//! an [`coffer_sdk::Assembly`] of pieces ([`crate::unsealed::Unsealed::sys_backend`]):
//! these, and the services' (leases, quotas, audit, password policies,
//! rotation). Each declares its paths, fields, help, sudo and
//! unauthenticated flags on the sdk's path table; the router serves the
//! assembly at `sys/` like any mount, so the pipeline has no `sys/` case
//! but one: the seal lifecycle's paths ([`lifecycle`]) answer before the
//! seal check.

pub(crate) mod capabilities;
pub(crate) mod cors;
mod host_info;
pub(crate) mod internal;
pub(crate) mod keys;
pub(crate) mod lifecycle;
pub(crate) mod mounts;
mod openapi;
mod plugins;
pub(crate) mod policies;
pub(crate) mod rekey_backup;
pub(crate) mod remount;
pub(crate) mod status;
pub(crate) mod tools;
pub(crate) mod version_history;
pub(crate) mod wrapping;

use crate::error::CoreError;
use std::sync::{Arc, Weak};

use coffer_types::{Operation, Result};

use crate::Core;

/// The version string the status endpoints report.
pub(crate) const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "+coffer");
/// Build date reported by the status endpoints.
pub(crate) const BUILD_DATE: &str = "2026-11-26T00:00:00Z";

/// Where the `sys/` backend is mounted.
pub(crate) const MOUNT: &str = "sys/";

/// The core, as the pieces the core owns (seal lifecycle, keys) hold it:
/// weakly, since the core owns them.
pub(crate) struct CoreHandle(Weak<Core>);

impl CoreHandle {
    /// A handle on `core`.
    pub(crate) fn new(core: Weak<Core>) -> Self {
        Self(core)
    }

    /// The core, while it exists (always, while a request is in flight).
    pub(crate) fn get(&self) -> Result<Arc<Core>> {
        self.0.upgrade().ok_or_else(|| CoreError::CoreGone.into())
    }
}

/// Fails with 405 unless `op` is one of `allowed`.
pub(crate) fn allow(op: Operation, allowed: &[Operation]) -> Result<()> {
    let op = if op == Operation::Create {
        Operation::Update
    } else {
        op
    };
    if allowed.contains(&op) {
        Ok(())
    } else {
        Err(CoreError::UnsupportedOperation.into())
    }
}
