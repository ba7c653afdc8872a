//! The plugin's entry point for the engine.

use std::sync::Arc;

use async_trait::async_trait;
use coffer_database_plugin::{ConnectionSettings, DatabasePlugin, PluginError, PluginFactory};

use crate::plugin::PostgresPlugin;

/// Vault's name of this plugin.
pub const PLUGIN_NAME: &str = "postgresql-database-plugin";

/// Vault's default username template for PostgreSQL (at most 63
/// characters, PostgreSQL's limit on names).
pub const DEFAULT_USERNAME_TEMPLATE: &str = r#"{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 8) (.RoleName | truncate 8) (random 20) (unix_time) | truncate 63 }}"#;

/// The config fields of this plugin beyond the common ones:
/// `password_authentication` (`password` or `scram-sha-256`), and the PEM
/// `tls_ca`, `tls_certificate` and `private_key` (which take precedence
/// over the files named by the URL's `sslrootcert`, `sslcert`, `sslkey`).
pub const OPTION_FIELDS: &[&str] = &[
    "password_authentication",
    "tls_ca",
    "tls_certificate",
    "private_key",
];

/// Makes PostgreSQL plugins (`postgresql-database-plugin`).
///
/// `connection_url` is a `postgres://` or `postgresql://` URL (or a libpq
/// `key=value` string) with `{{username}}` and `{{password}}` placeholders
/// for the root credentials, e.g.
/// `postgresql://{{username}}:{{password}}@127.0.0.1:5432/postgres?sslmode=disable`.
/// `sslmode` may be `disable`, `prefer` (the default), `require`,
/// `verify-ca` or `verify-full`.
#[derive(Clone, Copy, Debug, Default)]
pub struct PostgresFactory;

#[async_trait]
impl PluginFactory for PostgresFactory {
    fn name(&self) -> &'static str {
        PLUGIN_NAME
    }

    fn default_username_template(&self) -> &'static str {
        DEFAULT_USERNAME_TEMPLATE
    }

    fn option_fields(&self) -> &'static [&'static str] {
        OPTION_FIELDS
    }

    fn secret_option_fields(&self) -> &'static [&'static str] {
        &["private_key"]
    }

    /// Checks the settings and builds the pool; connects on first use.
    async fn connect(
        &self,
        settings: &ConnectionSettings,
    ) -> Result<Arc<dyn DatabasePlugin>, PluginError> {
        Ok(Arc::new(PostgresPlugin::new(settings)?))
    }
}
