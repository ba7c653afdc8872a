//! Vault's rate-limit quotas (`sys/quotas/rate-limit/*`, `sys/quotas/config`).
//!
//! The core calls [`QuotaManager::check`] for every request before
//! authentication, and the manager is the quotas' piece of the `sys/`
//! backend: it implements [`coffer_sdk::Backend`] over its declared
//! `sys/quotas/*` paths. Everything is persisted in the storage view
//! given to [`QuotaManager::load`].
//!
//! # Semantics
//!
//! - **Buckets.** Each quota keeps one token bucket per client IP address
//!   (IPv4-mapped IPv6 addresses count as their IPv4 address; requests
//!   without an address share one bucket). A bucket holds `rate` tokens
//!   (rounded, at least one) and refills continuously at `rate / interval`
//!   per second; each request takes one token. Vault refills the whole
//!   bucket at each interval boundary instead; the long-run rate and the
//!   burst are the same, Coffer's never allows two bursts back to back.
//! - **Blocking.** With a `block_interval`, a client that exceeds the quota
//!   is refused for that long, whatever its bucket holds.
//! - **Retry-After.** A refusal is `Error::rate_limited(path, retry_after)`
//!   (429, Vault's message); `retry_after` is the time until the next token,
//!   or until the block ends, in whole seconds (at least one).
//! - **Precedence** (Vault's): a quota on exactly the request path, then
//!   quotas on a path ending in `*` (longest prefix first), then the quota
//!   on the request's mount, then the global quota (`path` ""). Only the
//!   most specific quota is applied. `role` quotas and namespaces are not
//!   supported (`role` is refused with Vault's messages); `inheritable` is
//!   validated as Vault does without namespaces (global quotas only).
//! - **Exempt paths.** Vault's defaults ([`DEFAULT_EXEMPT_PATHS`]) until an
//!   operator writes `sys/quotas/config`, which replaces the list (an entry
//!   ending in `*` exempts a prefix).
//! - **Default login quota.** On the very first load a quota named
//!   [`DEFAULT_LOGIN_QUOTA`] is created: `rate` 20, `interval` 2s (a burst of
//!   20 logins, then 10 per second), `block_interval` 1m, per client
//!   address. It applies only to login requests (`is_login`) that no other
//!   quota covers, and it is a normal quota otherwise: it can be read, tuned
//!   (its `path` must stay "") and deleted through the same endpoints, and
//!   once deleted it is not created again.
//! - **Memory.** Buckets of clients idle for three intervals (and long
//!   enough to have refilled, and not blocked) are swept once a minute of
//!   clock time; the table never holds more than
//!   [`QuotaOptions::max_clients`] buckets, forgetting the longest-idle
//!   clients first and blocked ones last.
//! - **Time** comes only from the injected [`coffer_sdk::Clock`].
//! - **Mounts.** The core installs a [`MountResolver`] so that `path` is
//!   validated against real mounts (`invalid mount path "x"`) and split at
//!   the mount as Vault does; without one, any well-formed path is accepted.
//!   When a mount moves (`sys/remount`), the core calls
//!   [`QuotaManager::handle_remount`] and the quotas on it follow it.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bucket;
mod clients;
mod config;
mod error;
mod manager;
mod path_config;
mod path_rate_limit;
mod quota;
mod remount;
mod rules;
mod store;
mod sys;

#[cfg(test)]
mod test_support;

pub use clients::DEFAULT_MAX_CLIENTS;
pub use config::DEFAULT_EXEMPT_PATHS;
pub use error::QuotaError;
pub use manager::{
    DEFAULT_LOGIN_BLOCK_INTERVAL, DEFAULT_LOGIN_INTERVAL, DEFAULT_LOGIN_QUOTA, DEFAULT_LOGIN_RATE,
    MountResolver, QuotaManager, QuotaOptions, RateLimitStatus,
};
