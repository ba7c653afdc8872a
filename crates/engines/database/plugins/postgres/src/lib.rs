//! The PostgreSQL plugin of the `database` secrets engine
//! (`postgresql-database-plugin`).
//!
//! [`PostgresFactory`] turns a `config/:name` into a pooled connection
//! (tokio-postgres and deadpool; TLS with rustls) that creates, renews,
//! re-passwords and drops PostgreSQL roles. Each operation runs its
//! statements in one transaction, so a failing statement changes nothing;
//! a failed creation also runs the rollback statements. Revocation ends the
//! role's sessions before dropping it. Every error passes through
//! [`redact`](coffer_database_plugin::redact) with the passwords involved.
//!
//! When a role gives no statements, the defaults below apply
//! ([`DEFAULT_CREATION`], [`DEFAULT_RENEW`], [`DEFAULT_ROTATION`],
//! [`DEFAULT_ROLLBACK`], and for revocation: end the sessions,
//! [`DEFAULT_REVOCATION`], [`DEFAULT_REVOCATION_OWNED`] when the connection
//! has the role's privileges, [`DEFAULT_REVOCATION_DROP`]).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod channel_binding;
mod errors;
mod factory;
mod password;
mod plugin;
mod pool;
mod statements;
mod tls;
mod url;

pub use factory::{DEFAULT_USERNAME_TEMPLATE, OPTION_FIELDS, PLUGIN_NAME, PostgresFactory};
pub use statements::{
    DEFAULT_CREATION, DEFAULT_RENEW, DEFAULT_REVOCATION, DEFAULT_REVOCATION_DROP,
    DEFAULT_REVOCATION_OWNED, DEFAULT_ROLLBACK, DEFAULT_ROTATION,
};
