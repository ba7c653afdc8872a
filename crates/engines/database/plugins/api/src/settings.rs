//! What a plugin connects with.

use std::time::Duration;

use coffer_types::Sensitive;
use serde_json::{Map, Value};

/// A connection's settings, from the engine's `config/:name`.
#[derive(Clone)]
pub struct ConnectionSettings {
    /// The connection URL or DSN, with `{{username}}` and `{{password}}`
    /// placeholders for the root credentials (see
    /// [`substitute_credentials`](crate::substitute_credentials)). Empty for
    /// plugins that take `host`/`port` options instead (Redis).
    pub connection_url: String,
    /// The root (management) user.
    pub username: String,
    /// The root user's password.
    pub password: Sensitive,
    /// Most connections open at once (Vault's default: 4).
    pub max_open_connections: u32,
    /// Most idle connections kept (0: as many as `max_open_connections`).
    pub max_idle_connections: u32,
    /// Longest a connection is reused (zero: no limit).
    pub max_connection_lifetime: Duration,
    /// The plugin's own fields (`host`, `port`, `tls`, `insecure_tls`,
    /// `ca_cert` for Redis; `tls_ca`, ... for MySQL), as sent to `config/:name`.
    pub options: Map<String, Value>,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self {
            connection_url: String::new(),
            username: String::new(),
            password: Sensitive::from(""),
            max_open_connections: 4,
            max_idle_connections: 0,
            max_connection_lifetime: Duration::ZERO,
            options: Map::new(),
        }
    }
}

impl std::fmt::Debug for ConnectionSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionSettings")
            .field("connection_url", &self.connection_url)
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("max_open_connections", &self.max_open_connections)
            .field("options", &self.options.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let s = ConnectionSettings {
            password: Sensitive::from("canary-root-pw"),
            ..ConnectionSettings::default()
        };
        assert!(!format!("{s:?}").contains("canary-root-pw"));
    }
}
