//! The plugin factory.

use std::sync::Arc;

use async_trait::async_trait;
use coffer_database_plugin::{ConnectionSettings, DatabasePlugin, PluginError, PluginFactory};

use crate::options::FIELDS;
use crate::plugin::RedisPlugin;

/// Vault's name for the Redis plugin.
pub const PLUGIN_NAME: &str = "redis-database-plugin";

/// The username template of Vault's Redis plugin, whose names are
/// `V_<DISPLAY>_<ROLE>_<RANDOM>_<UNIX TIME>` in upper case (display and
/// role names cut to 64 characters, the whole to 100).
pub const DEFAULT_USERNAME_TEMPLATE: &str = r#"{{ printf "v_%s_%s_%s_%s" (.DisplayName | truncate 64) (.RoleName | truncate 64) (random 20) (unix_time) | truncate 100 | uppercase }}"#;

/// `redis-database-plugin`: ACL users on a Redis 6+ server.
#[derive(Clone, Copy, Debug, Default)]
pub struct RedisFactory;

#[async_trait]
impl PluginFactory for RedisFactory {
    fn name(&self) -> &'static str {
        PLUGIN_NAME
    }

    fn default_username_template(&self) -> &'static str {
        DEFAULT_USERNAME_TEMPLATE
    }

    fn option_fields(&self) -> &'static [&'static str] {
        FIELDS
    }

    async fn connect(
        &self,
        settings: &ConnectionSettings,
    ) -> Result<Arc<dyn DatabasePlugin>, PluginError> {
        Ok(Arc::new(RedisPlugin::new(settings)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vaults_names() {
        assert_eq!(RedisFactory.name(), "redis-database-plugin");
        assert_eq!(
            RedisFactory.option_fields(),
            ["host", "port", "tls", "insecure_tls", "ca_cert"]
        );
        assert!(
            RedisFactory
                .default_username_template()
                .contains("uppercase")
        );
    }
}
