//! The plugin trait.

use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use coffer_types::Sensitive;

use crate::error::PluginError;
use crate::settings::ConnectionSettings;

/// A user to create for a dynamic credential.
pub struct NewUser<'a> {
    /// The generated user name.
    pub username: &'a str,
    /// The generated password.
    pub password: &'a Sensitive,
    /// When the credential's lease ends (PostgreSQL's `VALID UNTIL`).
    pub expiration: SystemTime,
    /// The role's `creation_statements`; empty: the plugin's default.
    pub creation_statements: &'a [String],
    /// The role's `rollback_statements`, run when creation fails midway;
    /// empty: the plugin's default (drop whatever was created).
    pub rollback_statements: &'a [String],
}

/// A connection to one database, shared by every request on a
/// `config/:name`. Each method renders its statements (the role's, or the
/// plugin's defaults when the list is empty) and runs them; a failure leaves
/// no half-made change behind (creation runs the rollback statements, the
/// others run in a transaction where the database has them).
#[async_trait]
pub trait DatabasePlugin: Send + Sync {
    /// A round trip to the database with the root credentials.
    async fn verify(&self) -> Result<(), PluginError>;

    /// Creates a user for a dynamic credential.
    async fn create_user(&self, user: &NewUser<'_>) -> Result<(), PluginError>;

    /// Extends a dynamic user's validity to `expiration` (the role's
    /// `renew_statements`). Databases without user expiry succeed doing nothing.
    async fn renew_user(
        &self,
        username: &str,
        expiration: SystemTime,
        statements: &[String],
    ) -> Result<(), PluginError>;

    /// Sets a user's password (static-role `rotation_statements`, or the
    /// config's `root_rotation_statements` for the root user itself).
    async fn set_password(
        &self,
        username: &str,
        password: &Sensitive,
        statements: &[String],
    ) -> Result<(), PluginError>;

    /// Drops a user and ends its sessions (the role's
    /// `revocation_statements`). A user that is already gone is not an error.
    async fn revoke_user(&self, username: &str, statements: &[String]) -> Result<(), PluginError>;

    /// Closes every connection.
    async fn close(&self);
}

/// One kind of database: makes [`DatabasePlugin`]s from settings.
#[async_trait]
pub trait PluginFactory: Send + Sync {
    /// Vault's plugin name (`postgresql-database-plugin`).
    fn name(&self) -> &'static str;

    /// The username template used when a config sets none (Vault's
    /// template syntax; see the engine's username templates).
    fn default_username_template(&self) -> &'static str;

    /// The plugin's own config fields, beyond the common ones
    /// (`connection_url`, `username`, `password`, pool limits); they arrive
    /// in [`ConnectionSettings::options`].
    fn option_fields(&self) -> &'static [&'static str];

    /// Those of [`PluginFactory::option_fields`] that hold secrets (a client
    /// private key): stored like the root password and never returned by a
    /// read of the config.
    fn secret_option_fields(&self) -> &'static [&'static str] {
        &[]
    }

    /// Builds a connection (pool) from `settings`. May connect lazily: the
    /// engine calls [`DatabasePlugin::verify`] when it needs proof.
    async fn connect(
        &self,
        settings: &ConnectionSettings,
    ) -> Result<Arc<dyn DatabasePlugin>, PluginError>;
}
