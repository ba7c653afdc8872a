//! The MySQL/MariaDB plugin of the `database` secrets engine, under Vault's
//! names `mysql-database-plugin` ([`MysqlFactory`]) and the Aurora, RDS and
//! legacy variants with 16-character user names ([`MysqlLegacyFactory`]).
//!
//! `connection_url` is Vault's Go DSN
//! (`{{username}}:{{password}}@tcp(127.0.0.1:3306)/`, optionally with a
//! database and `?timeout=5s&tls=true` parameters) or a `mysql://` URL.
//! TLS comes from Vault's `tls_ca` and `tls_certificate_key` fields (PEM;
//! RSA client keys only, a driver limit). Connections come from a pool of
//! at most `max_open_connections`; a new one that takes longer than the
//! connect timeout (10 s, or the DSN's `timeout`) fails instead of hanging.
//!
//! Statements: each list element may hold several `;`-separated
//! statements, run in order on one connection. The defaults
//! ([`DEFAULT_CREATION`], [`DEFAULT_REVOCATION`], [`DEFAULT_ROTATION`],
//! [`DEFAULT_ROLLBACK`]) are a read-everything user, Vault's revocation and
//! rotation statements, and a rollback that drops the user (MySQL's DDL commits as it goes, so a failed creation runs the
//! rollback statements). Revocation also ends the user's open sessions
//! (`KILL`), and revoking a user that is gone succeeds. MySQL users do not
//! expire: renewal runs the role's renew statements, if any. When the root
//! user changes its own password, the pool reconnects with the new one.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod dsn;
mod factory;
mod plugin;
mod statements;
mod tls;

pub use factory::{
    AURORA_PLUGIN_NAME, DEFAULT_USERNAME_TEMPLATE, LEGACY_PLUGIN_NAME, LEGACY_USERNAME_TEMPLATE,
    MysqlFactory, MysqlLegacyFactory, PLUGIN_NAME, RDS_PLUGIN_NAME, factories,
};
pub use statements::{DEFAULT_CREATION, DEFAULT_REVOCATION, DEFAULT_ROLLBACK, DEFAULT_ROTATION};
pub use tls::{TLS_CA, TLS_CERTIFICATE_KEY};
