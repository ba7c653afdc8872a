//! The plugin factories: Vault's four MySQL plugin names.

use std::sync::Arc;

use async_trait::async_trait;
use coffer_database_plugin::{ConnectionSettings, DatabasePlugin, PluginError, PluginFactory};

use crate::plugin::MysqlPlugin;
use crate::tls::{TLS_CA, TLS_CERTIFICATE_KEY};

/// Vault's name for the MySQL/MariaDB plugin.
pub const PLUGIN_NAME: &str = "mysql-database-plugin";
/// Vault's name for the Aurora variant (16-character user names).
pub const AURORA_PLUGIN_NAME: &str = "mysql-aurora-database-plugin";
/// Vault's name for the RDS variant (16-character user names).
pub const RDS_PLUGIN_NAME: &str = "mysql-rds-database-plugin";
/// Vault's name for MySQL before 5.7 (16-character user names).
pub const LEGACY_PLUGIN_NAME: &str = "mysql-legacy-database-plugin";

/// Vault's default username template for `mysql-database-plugin`
/// (32 characters, MySQL 5.7's limit).
pub const DEFAULT_USERNAME_TEMPLATE: &str = r#"{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 10) (.RoleName | truncate 10) (random 20) (unix_time) | truncate 32 }}"#;

/// Vault's default username template for the Aurora, RDS and legacy
/// plugins (16 characters, the limit before MySQL 5.7).
pub const LEGACY_USERNAME_TEMPLATE: &str =
    r#"{{ printf "v-%s-%s" (.RoleName | truncate 4) (random 20) | truncate 16 }}"#;

/// The config fields of every MySQL plugin beyond the common ones.
const OPTION_FIELDS: &[&str] = &[TLS_CA, TLS_CERTIFICATE_KEY];

/// `mysql-database-plugin`: MySQL 5.7+ and MariaDB.
#[derive(Clone, Copy, Debug, Default)]
pub struct MysqlFactory;

/// The same plugin under Vault's other names, whose user names are at
/// most 16 characters: [`MysqlLegacyFactory::AURORA`],
/// [`MysqlLegacyFactory::RDS`], [`MysqlLegacyFactory::LEGACY`].
#[derive(Clone, Copy, Debug)]
pub struct MysqlLegacyFactory {
    name: &'static str,
}

impl MysqlLegacyFactory {
    /// `mysql-aurora-database-plugin`.
    pub const AURORA: Self = Self {
        name: AURORA_PLUGIN_NAME,
    };
    /// `mysql-rds-database-plugin`.
    pub const RDS: Self = Self {
        name: RDS_PLUGIN_NAME,
    };
    /// `mysql-legacy-database-plugin`.
    pub const LEGACY: Self = Self {
        name: LEGACY_PLUGIN_NAME,
    };
}

/// All four MySQL plugins, for the engine's plugin registry.
pub fn factories() -> Vec<Arc<dyn PluginFactory>> {
    vec![
        Arc::new(MysqlFactory),
        Arc::new(MysqlLegacyFactory::AURORA),
        Arc::new(MysqlLegacyFactory::RDS),
        Arc::new(MysqlLegacyFactory::LEGACY),
    ]
}

fn connect(settings: &ConnectionSettings) -> Result<Arc<dyn DatabasePlugin>, PluginError> {
    Ok(Arc::new(MysqlPlugin::new(settings)?))
}

#[async_trait]
impl PluginFactory for MysqlFactory {
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
        &[crate::TLS_CERTIFICATE_KEY]
    }

    async fn connect(
        &self,
        settings: &ConnectionSettings,
    ) -> Result<Arc<dyn DatabasePlugin>, PluginError> {
        connect(settings)
    }
}

#[async_trait]
impl PluginFactory for MysqlLegacyFactory {
    fn name(&self) -> &'static str {
        self.name
    }

    fn default_username_template(&self) -> &'static str {
        LEGACY_USERNAME_TEMPLATE
    }

    fn option_fields(&self) -> &'static [&'static str] {
        OPTION_FIELDS
    }

    fn secret_option_fields(&self) -> &'static [&'static str] {
        &[crate::TLS_CERTIFICATE_KEY]
    }

    async fn connect(
        &self,
        settings: &ConnectionSettings,
    ) -> Result<Arc<dyn DatabasePlugin>, PluginError> {
        connect(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_templates() {
        let names: Vec<_> = factories().iter().map(|f| f.name()).collect();
        assert_eq!(
            names,
            [
                PLUGIN_NAME,
                AURORA_PLUGIN_NAME,
                RDS_PLUGIN_NAME,
                LEGACY_PLUGIN_NAME
            ]
        );
        assert!(
            MysqlFactory
                .default_username_template()
                .contains("truncate 32")
        );
        for f in &factories()[1..] {
            assert!(f.default_username_template().contains("truncate 16"));
            assert_eq!(f.option_fields(), ["tls_ca", "tls_certificate_key"]);
        }
    }
}
