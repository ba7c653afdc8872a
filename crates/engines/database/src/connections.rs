//! Connected plugins, one per `config/:name`, reused across requests and
//! replaced when the config changes (its generation moves).

use std::sync::Arc;
use std::time::Duration;

use coffer_database_plugin::{ConnectionSettings, DatabasePlugin, PluginFactory};
use coffer_types::{Result, Sensitive};

use crate::DatabaseBackend;
use crate::error::DatabaseError;
use crate::model::DbConfig;

/// A plugin connected with one generation of a config.
pub(crate) struct Cached {
    pub generation: u64,
    pub plugin: Arc<dyn DatabasePlugin>,
}

/// The settings a plugin connects with, using `password` for the root user.
pub(crate) fn settings(config: &DbConfig, password: &Sensitive) -> ConnectionSettings {
    ConnectionSettings {
        connection_url: config.connection_url.clone(),
        username: config.username.clone(),
        password: password.clone(),
        max_open_connections: config.max_open_connections,
        max_idle_connections: config.max_idle_connections,
        max_connection_lifetime: Duration::from_secs(config.max_connection_lifetime),
        options: config.options.clone(),
    }
}

impl DatabaseBackend {
    /// The plugin called `name`; an unknown one is a 400.
    pub(crate) fn factory(&self, name: &str) -> Result<&Arc<dyn PluginFactory>> {
        self.factories
            .iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                DatabaseError::PluginNotFound {
                    name: name.to_owned(),
                    known: self.factories.iter().map(|f| f.name().to_owned()).collect(),
                }
                .into()
            })
    }

    /// A fresh plugin connected with `password`, proven by a round trip.
    pub(crate) async fn connect_verified(
        &self,
        config: &DbConfig,
        password: &Sensitive,
    ) -> Result<Arc<dyn DatabasePlugin>> {
        let plugin = self
            .factory(&config.plugin_name)?
            .connect(&settings(config, password))
            .await?;
        if let Err(e) = plugin.verify().await {
            plugin.close().await;
            return Err(e.into());
        }
        Ok(plugin)
    }

    /// The connection for the config `name`. A config with a root rotation
    /// in flight connects with whichever password the database has.
    pub(crate) async fn connection(
        &self,
        name: &str,
        config: &DbConfig,
    ) -> Result<Arc<dyn DatabasePlugin>> {
        let mut cache = self.connections.lock().await;
        if let Some(c) = cache.get(name)
            && c.generation == config.generation
        {
            return Ok(c.plugin.clone());
        }
        if let Some(old) = cache.remove(name) {
            old.plugin.close().await;
        }
        let plugin = match &config.pending {
            None => {
                self.factory(&config.plugin_name)?
                    .connect(&settings(config, &config.password))
                    .await?
            }
            Some(pending) => match self.connect_verified(config, &config.password).await {
                Ok(p) => p,
                Err(current) => self
                    .connect_verified(config, &pending.password)
                    .await
                    .map_err(|_| current)?,
            },
        };
        cache.insert(
            name.to_owned(),
            Cached {
                generation: config.generation,
                plugin: plugin.clone(),
            },
        );
        Ok(plugin)
    }

    /// Closes and forgets the connection of `name` (config changed or removed, `reset`).
    pub(crate) async fn drop_connection(&self, name: &str) {
        let old = self.connections.lock().await.remove(name);
        if let Some(old) = old {
            old.plugin.close().await;
        }
    }
}
