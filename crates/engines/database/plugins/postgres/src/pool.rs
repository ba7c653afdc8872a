//! The connection pool (deadpool): at most `max_open_connections`
//! connections, each dropped once older than `max_connection_lifetime`,
//! and bounded waits so an unreachable database fails promptly.

use std::time::Duration;

use coffer_database_plugin::{ConnectionSettings, PluginError};
use deadpool_postgres::{Hook, HookError, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::{Config, NoTls};

use crate::tls::MakeRustlsConnect;
use crate::url::DEFAULT_CONNECT_TIMEOUT;

/// Vault's default `max_open_connections`, used when the config says 0.
const DEFAULT_MAX_OPEN: u32 = 4;

/// The shortest time allowed for a whole connection (TCP, TLS, login).
const MIN_CREATE_TIMEOUT: Duration = Duration::from_secs(1);

/// Longest wait for a free connection when all are busy.
const WAIT_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest check of a pooled connection before reuse.
const RECYCLE_TIMEOUT: Duration = Duration::from_secs(10);

/// How connections are encrypted.
#[derive(Clone)]
pub(crate) enum Connector {
    /// `sslmode=disable`.
    Plain,
    /// Any other `sslmode`.
    Tls(MakeRustlsConnect),
}

/// The pool limits of a config.
#[derive(Clone, Copy)]
pub(crate) struct PoolLimits {
    max_open: usize,
    max_lifetime: Duration,
}

impl PoolLimits {
    /// The limits of `settings`.
    pub(crate) fn from_settings(settings: &ConnectionSettings) -> Self {
        let max_open = match settings.max_open_connections {
            0 => DEFAULT_MAX_OPEN,
            n => n,
        };
        Self {
            max_open: usize::try_from(max_open).unwrap_or(usize::MAX),
            max_lifetime: settings.max_connection_lifetime,
        }
    }
}

/// A pool connecting with `config`. Connects lazily, on first use.
pub(crate) fn build(
    config: Config,
    connector: &Connector,
    limits: PoolLimits,
) -> Result<Pool, PluginError> {
    let connect_timeout = config
        .get_connect_timeout()
        .copied()
        .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    let manager_config = ManagerConfig {
        // Statements may change session state (SET ROLE, SET search_path):
        // reset it before a connection serves the next request.
        recycling_method: RecyclingMethod::Clean,
    };
    let manager = match connector {
        Connector::Plain => Manager::from_config(config, NoTls, manager_config),
        Connector::Tls(tls) => Manager::from_config(config, tls.clone(), manager_config),
    };
    let mut builder = Pool::builder(manager)
        .max_size(limits.max_open)
        .runtime(Runtime::Tokio1)
        // As libpq's connect_timeout: the whole connection, login included
        // (tokio-postgres' covers the TCP connect only).
        .create_timeout(Some(connect_timeout.max(MIN_CREATE_TIMEOUT)))
        .wait_timeout(Some(WAIT_TIMEOUT))
        .recycle_timeout(Some(RECYCLE_TIMEOUT));
    if !limits.max_lifetime.is_zero() {
        let max = limits.max_lifetime;
        builder = builder.pre_recycle(Hook::sync_fn(move |_, metrics| {
            if metrics.age() >= max {
                Err(HookError::message("max_connection_lifetime reached"))
            } else {
                Ok(())
            }
        }));
    }
    builder
        .build()
        .map_err(|e| PluginError::InvalidSettings(format!("connection pool: {e}")))
}
