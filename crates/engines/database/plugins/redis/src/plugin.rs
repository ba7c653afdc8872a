//! The connected plugin: one auto-reconnecting connection and the ACL
//! user operations.

use std::sync::RwLock;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use coffer_database_plugin::{ConnectionSettings, DatabasePlugin, NewUser, PluginError, redact};
use coffer_types::Sensitive;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{
    Client, ConnectionAddr, ConnectionInfo, ProtocolVersion, RedisConnectionInfo, TlsCertificates,
    Value,
};

use crate::options::Options;
use crate::rules::acl_rules;

/// Longest wait for a new connection (TCP, TLS, `AUTH`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for a reply.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);

/// A Redis server for one `config/:name`, managed through its ACL.
pub(crate) struct RedisPlugin {
    options: Options,
    /// The root ACL user (empty: `default`).
    username: String,
    /// Built from the current root password; rebuilt on root rotation.
    client: RwLock<Client>,
    /// Connected on first use; `None` again after a root rotation.
    connection: tokio::sync::Mutex<Option<ConnectionManager>>,
    /// Root passwords this plugin has known: removed from every error.
    secrets: RwLock<Vec<Sensitive>>,
}

impl RedisPlugin {
    /// Checks the settings and prepares the client, without connecting.
    pub(crate) fn new(settings: &ConnectionSettings) -> Result<Self, PluginError> {
        if !settings.connection_url.trim().is_empty() {
            return Err(PluginError::InvalidSettings(
                "the redis plugin takes host and port, not connection_url".into(),
            ));
        }
        let options = Options::from_map(&settings.options).map_err(PluginError::InvalidSettings)?;
        let client = build_client(&options, &settings.username, &settings.password)?;
        Ok(Self {
            options,
            username: settings.username.clone(),
            client: RwLock::new(client),
            connection: tokio::sync::Mutex::new(None),
            secrets: RwLock::new(vec![settings.password.clone()]),
        })
    }

    /// `message` without any password this plugin knows or `extra`.
    fn redacted(&self, message: &str, extra: &[&str]) -> String {
        let secrets = self.secrets.read().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<&str> = secrets.iter().map(Sensitive::expose).collect();
        all.extend_from_slice(extra);
        redact(message, &all).into_owned()
    }

    fn statement_error(&self, err: &redis::RedisError, extra: &[&str]) -> PluginError {
        if is_connection_error(err) {
            PluginError::Connect(self.redacted(&err.to_string(), extra))
        } else {
            PluginError::Statement(self.redacted(&err.to_string(), extra))
        }
    }

    /// The shared connection, connecting first if needed; fails promptly
    /// when the server cannot be reached.
    async fn conn(&self) -> Result<ConnectionManager, PluginError> {
        let mut slot = self.connection.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let client = self
            .client
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(CONNECT_TIMEOUT)
            .set_response_timeout(RESPONSE_TIMEOUT)
            .set_number_of_retries(0);
        let connecting = ConnectionManager::new_with_config(client, config);
        let conn = match tokio::time::timeout(CONNECT_TIMEOUT + Duration::from_secs(1), connecting)
            .await
        {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return Err(PluginError::Connect(self.redacted(&e.to_string(), &[]))),
            Err(_) => {
                return Err(PluginError::Connect(format!(
                    "no connection to {}:{} within {}s",
                    self.options.host,
                    self.options.port,
                    CONNECT_TIMEOUT.as_secs()
                )));
            }
        };
        *slot = Some(conn.clone());
        Ok(conn)
    }

    /// Whether `username` is the ACL user this plugin logs in as.
    fn is_root(&self, username: &str) -> bool {
        let root = if self.username.is_empty() {
            "default"
        } else {
            &self.username
        };
        root == username
    }

    /// Logs in with `password` from now on (after the root user's own
    /// password changed).
    async fn rotate_root(&self, password: &Sensitive) -> Result<(), PluginError> {
        self.secrets
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(password.clone());
        let client = build_client(&self.options, &self.username, password)?;
        *self.client.write().unwrap_or_else(|p| p.into_inner()) = client;
        // The old connection closes when its last user drops it.
        self.connection.lock().await.take();
        Ok(())
    }

    /// Whether the ACL user exists.
    async fn user_exists(
        &self,
        conn: &mut ConnectionManager,
        username: &str,
    ) -> Result<bool, PluginError> {
        let reply: Value = redis::cmd("ACL")
            .arg("GETUSER")
            .arg(username)
            .query_async(conn)
            .await
            .map_err(|e| self.statement_error(&e, &[]))?;
        Ok(!matches!(reply, Value::Nil))
    }
}

/// A client for the server, logging in as `username` (empty: `default`)
/// with `password` (empty: none).
fn build_client(
    options: &Options,
    username: &str,
    password: &Sensitive,
) -> Result<Client, PluginError> {
    let redis = RedisConnectionInfo {
        db: 0,
        username: (!username.is_empty()).then(|| username.to_owned()),
        password: (!password.is_empty()).then(|| password.expose().to_owned()),
        protocol: ProtocolVersion::RESP2,
    };
    let host = options.host.clone();
    let port = options.port;
    let built = match &options.tls {
        None => Client::open(ConnectionInfo {
            addr: ConnectionAddr::Tcp(host, port),
            redis,
        }),
        Some(tls) => {
            // The driver builds its TLS config with rustls' process-wide
            // provider, which rustls cannot pick by itself when a build
            // enables more than one: make it aws-lc-rs unless the process
            // chose one already (an error means it did).
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
            let info = ConnectionInfo {
                addr: ConnectionAddr::TcpTls {
                    host,
                    port,
                    insecure: tls.insecure,
                    tls_params: None,
                },
                redis,
            };
            match &tls.ca_cert {
                None => Client::open(info),
                Some(pem) => Client::build_with_tls(
                    info,
                    TlsCertificates {
                        client_tls: None,
                        root_cert: Some(pem.as_bytes().to_vec()),
                    },
                ),
            }
        }
    };
    built.map_err(|e| {
        PluginError::InvalidSettings(redact(&e.to_string(), &[password.expose()]).into_owned())
    })
}

/// Errors that mean the server was not reached, rather than that it
/// refused a command.
fn is_connection_error(err: &redis::RedisError) -> bool {
    err.is_io_error()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
        || err.is_timeout()
}

#[async_trait]
impl DatabasePlugin for RedisPlugin {
    async fn verify(&self) -> Result<(), PluginError> {
        let mut conn = self.conn().await?;
        let _: Value = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(|e| self.statement_error(&e, &[]))?;
        Ok(())
    }

    async fn create_user(&self, user: &NewUser<'_>) -> Result<(), PluginError> {
        let rules = acl_rules(user.creation_statements)?;
        let password = user.password.expose();
        if password.is_empty() {
            return Err(PluginError::InvalidStatements(
                "a password is required".into(),
            ));
        }
        let mut conn = self.conn().await?;
        // Never take over an existing user: the rollback would delete it.
        if self.user_exists(&mut conn, user.username).await? {
            return Err(PluginError::Statement(format!(
                "the ACL user {} already exists",
                user.username
            )));
        }
        let created: Result<Value, _> = redis::cmd("ACL")
            .arg("SETUSER")
            .arg(user.username)
            .arg("on")
            .arg(format!(">{password}"))
            .arg(&rules)
            .query_async(&mut conn)
            .await;
        let Err(e) = created else { return Ok(()) };
        // `ACL SETUSER` is atomic, but a reply lost on the way back may
        // hide a user that was made: delete it.
        let mut message = e.to_string();
        let rollback: Result<Value, _> = redis::cmd("ACL")
            .arg("DELUSER")
            .arg(user.username)
            .query_async(&mut conn)
            .await;
        if let Err(r) = rollback {
            message.push_str(&format!("; the rollback failed too: {r}"));
        }
        let message = self.redacted(&message, &[password]);
        Err(if is_connection_error(&e) {
            PluginError::Connect(message)
        } else {
            PluginError::Statement(message)
        })
    }

    async fn renew_user(
        &self,
        _username: &str,
        _expiration: SystemTime,
        _statements: &[String],
    ) -> Result<(), PluginError> {
        // Redis ACL users do not expire.
        Ok(())
    }

    async fn set_password(
        &self,
        username: &str,
        password: &Sensitive,
        _statements: &[String],
    ) -> Result<(), PluginError> {
        if username.is_empty() || password.is_empty() {
            return Err(PluginError::InvalidStatements(
                "a username and a password are required".into(),
            ));
        }
        let mut conn = self.conn().await?;
        // `ACL SETUSER` would create a missing user: a static role must
        // name one that exists.
        if !self.user_exists(&mut conn, username).await? {
            return Err(PluginError::Statement(format!(
                "the ACL user {username} does not exist"
            )));
        }
        let _: Value = redis::cmd("ACL")
            .arg("SETUSER")
            .arg(username)
            .arg("resetpass")
            .arg(format!(">{}", password.expose()))
            .query_async(&mut conn)
            .await
            .map_err(|e| self.statement_error(&e, &[password.expose()]))?;
        drop(conn);
        if self.is_root(username) {
            self.rotate_root(password).await?;
        }
        Ok(())
    }

    async fn revoke_user(&self, username: &str, _statements: &[String]) -> Result<(), PluginError> {
        let mut conn = self.conn().await?;
        // Deleting a user also disconnects its clients; a user that is
        // already gone counts 0, which is fine.
        let _: Value = redis::cmd("ACL")
            .arg("DELUSER")
            .arg(username)
            .query_async(&mut conn)
            .await
            .map_err(|e| self.statement_error(&e, &[]))?;
        Ok(())
    }

    async fn close(&self) {
        self.connection.lock().await.take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(options: serde_json::Value) -> ConnectionSettings {
        ConnectionSettings {
            username: "admin".into(),
            password: Sensitive::from("canary-root-pw"),
            options: options.as_object().cloned().unwrap_or_default(),
            ..ConnectionSettings::default()
        }
    }

    #[test]
    fn settings_are_checked_up_front() {
        assert!(RedisPlugin::new(&settings(json!({"host": "127.0.0.1"}))).is_ok());
        let mut with_url = settings(json!({"host": "127.0.0.1"}));
        with_url.connection_url = "redis://x".into();
        assert!(matches!(
            RedisPlugin::new(&with_url),
            Err(PluginError::InvalidSettings(_))
        ));
        let bad_ca = settings(json!({"host": "h", "tls": true, "ca_cert": "not a pem"}));
        let Err(err) = RedisPlugin::new(&bad_ca) else {
            panic!("accepted a bad CA")
        };
        assert!(matches!(err, PluginError::InvalidSettings(_)), "{err}");
        assert!(!err.to_string().contains("canary"));
    }

    #[test]
    fn root_is_the_default_user_when_unnamed() {
        let mut s = settings(json!({"host": "h"}));
        assert!(RedisPlugin::new(&s).unwrap().is_root("admin"));
        s.username.clear();
        let p = RedisPlugin::new(&s).unwrap();
        assert!(p.is_root("default"));
        assert!(!p.is_root("admin"));
    }
}
