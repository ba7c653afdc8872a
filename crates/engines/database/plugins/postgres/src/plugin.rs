//! The connected plugin: runs the statements of each operation in one
//! transaction on a pooled connection.

use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use async_trait::async_trait;
use coffer_database_plugin::{
    ConnectionSettings, DatabasePlugin, NewUser, Placeholders, PluginError,
};
use coffer_types::Sensitive;
use deadpool_postgres::{Object, Pool};
use tokio_postgres::Config;

use crate::errors::{pool_error, statement_error};
use crate::password::PasswordAuthentication;
use crate::pool::{self, Connector, PoolLimits};
use crate::statements::{
    DEFAULT_CREATION, DEFAULT_RENEW, DEFAULT_REVOCATION, DEFAULT_REVOCATION_DROP,
    DEFAULT_REVOCATION_OWNED, DEFAULT_ROLLBACK, DEFAULT_ROTATION, Statements, format_expiration,
};
use crate::tls::{MakeRustlsConnect, client_config};
use crate::url;

/// Every transaction's limit, so a statement stuck behind a lock fails
/// instead of holding the request (and a pooled connection) forever.
const STATEMENT_TIMEOUT: &str = "SET LOCAL statement_timeout = '60s'";

/// Ends every session of a role (by oid, so it still works once the role
/// is dropped), except the plugin's own.
const TERMINATE_SESSIONS: &str = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
     WHERE usesysid = $1 AND pid <> pg_backend_pid()";

/// A role's oid, and whether the connection has its privileges (needed to
/// reassign and drop what it owns).
const FIND_ROLE: &str = "SELECT oid, pg_has_role(oid, 'USAGE') FROM pg_roles WHERE rolname = $1";

/// The pool and the root credentials it connects with.
struct Connection {
    pool: Pool,
    config: Config,
    root_password: Sensitive,
}

impl Connection {
    fn new(config: Config, connector: &Connector, limits: PoolLimits) -> Result<Self, PluginError> {
        let root_password = Sensitive::new(
            config
                .get_password()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .unwrap_or_default(),
        );
        Ok(Self {
            pool: pool::build(config.clone(), connector, limits)?,
            config,
            root_password,
        })
    }
}

/// A PostgreSQL database of a `config/:name`.
pub(crate) struct PostgresPlugin {
    connection: RwLock<Arc<Connection>>,
    connector: Connector,
    limits: PoolLimits,
    password_authentication: PasswordAuthentication,
}

impl PostgresPlugin {
    /// Validates `settings` and builds the pool (without connecting).
    pub(crate) fn new(settings: &ConnectionSettings) -> Result<Self, PluginError> {
        let password_authentication = PasswordAuthentication::from_settings(settings)?;
        let target = url::parse(settings)?;
        let connector = match client_config(target.ssl_mode, &target.tls)? {
            None => Connector::Plain,
            Some(tls) => Connector::Tls(MakeRustlsConnect::new(tls)),
        };
        let limits = PoolLimits::from_settings(settings);
        let connection = Connection::new(target.config, &connector, limits)?;
        Ok(Self {
            connection: RwLock::new(Arc::new(connection)),
            connector,
            limits,
            password_authentication,
        })
    }

    fn current(&self) -> Arc<Connection> {
        // A poisoned lock still holds a whole Arc: the swap cannot panic midway.
        self.connection
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// A connection like `conn` with another root password (not connected
    /// yet: the pool connects on first use).
    fn with_root_password(
        &self,
        conn: &Connection,
        password: &Sensitive,
    ) -> Result<Connection, PluginError> {
        let mut config = conn.config.clone();
        config.password(password.expose());
        Connection::new(config, &self.connector, self.limits)
    }

    /// New requests use `fresh`; requests under way finish on `old`.
    fn replace(&self, old: &Connection, fresh: Connection) {
        *self
            .connection
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(fresh);
        old.pool.close();
    }
}

async fn client(conn: &Connection, secrets: &[&str]) -> Result<Object, PluginError> {
    conn.pool.get().await.map_err(|e| pool_error(&e, secrets))
}

/// Runs `statements` (each possibly several `;`-separated statements) in
/// one transaction: all of them, or none.
async fn run_in_transaction(
    client: &mut Object,
    statements: &[String],
    secrets: &[&str],
) -> Result<(), PluginError> {
    let fail = |e: tokio_postgres::Error| statement_error(&e, secrets);
    let tx = client.transaction().await.map_err(fail)?;
    tx.batch_execute(STATEMENT_TIMEOUT).await.map_err(fail)?;
    for statement in statements {
        if let Err(e) = tx.batch_execute(statement).await {
            let err = fail(e);
            // The server discards the transaction anyway; a failed rollback
            // only means the connection is gone.
            let _ = tx.rollback().await;
            return Err(err);
        }
    }
    tx.commit().await.map_err(fail)
}

fn require_username(username: &str) -> Result<(), PluginError> {
    if username.is_empty() {
        Err(PluginError::InvalidStatements(
            "the username is empty".into(),
        ))
    } else {
        Ok(())
    }
}

#[async_trait]
impl DatabasePlugin for PostgresPlugin {
    async fn verify(&self) -> Result<(), PluginError> {
        let conn = self.current();
        let secrets = [conn.root_password.expose()];
        let client = client(&conn, &secrets).await?;
        client
            .simple_query("SELECT 1")
            .await
            .map_err(|e| statement_error(&e, &secrets))?;
        Ok(())
    }

    async fn create_user(&self, user: &NewUser<'_>) -> Result<(), PluginError> {
        require_username(user.username)?;
        let conn = self.current();
        let password = self.password_authentication.value(user.password);
        let expiration = format_expiration(user.expiration)?;
        let secrets = [
            user.password.expose(),
            password.expose(),
            conn.root_password.expose(),
        ];
        let values = Placeholders {
            name: Some(user.username),
            username: Some(user.username),
            password: Some(password.expose()),
            expiration: Some(&expiration),
        };
        let creation =
            Statements::choose(user.creation_statements, &[DEFAULT_CREATION]).render(&values);
        let mut client = client(&conn, &secrets).await?;
        let Err(err) = run_in_transaction(&mut client, &creation, &secrets).await else {
            return Ok(());
        };
        // Undo whatever was made (the transaction covers the statements,
        // not what a lost connection may have committed).
        let rollback =
            Statements::choose(user.rollback_statements, &[DEFAULT_ROLLBACK]).render(&values);
        if client.is_closed() {
            match self::client(&conn, &secrets).await {
                Ok(fresh) => client = fresh,
                Err(_) => return Err(err),
            }
        }
        // The creation's error is the one to report.
        let _ = run_in_transaction(&mut client, &rollback, &secrets).await;
        Err(err)
    }

    async fn renew_user(
        &self,
        username: &str,
        expiration: SystemTime,
        statements: &[String],
    ) -> Result<(), PluginError> {
        require_username(username)?;
        let conn = self.current();
        let secrets = [conn.root_password.expose()];
        let expiration = format_expiration(expiration)?;
        let values = Placeholders {
            name: Some(username),
            username: Some(username),
            expiration: Some(&expiration),
            ..Placeholders::default()
        };
        let renew = Statements::choose(statements, &[DEFAULT_RENEW]).render(&values);
        let mut client = client(&conn, &secrets).await?;
        run_in_transaction(&mut client, &renew, &secrets).await
    }

    async fn set_password(
        &self,
        username: &str,
        password: &Sensitive,
        statements: &[String],
    ) -> Result<(), PluginError> {
        require_username(username)?;
        let conn = self.current();
        let value = self.password_authentication.value(password);
        let secrets = [
            password.expose(),
            value.expose(),
            conn.root_password.expose(),
        ];
        let values = Placeholders {
            name: Some(username),
            username: Some(username),
            password: Some(value.expose()),
            ..Placeholders::default()
        };
        let rotation = Statements::choose(statements, &[DEFAULT_ROTATION]).render(&values);
        // Rotating the root user's own password: prepared before the change,
        // so that nothing can fail after it.
        let root_rotation = (conn.config.get_user() == Some(username))
            .then(|| self.with_root_password(&conn, password))
            .transpose()?;
        let mut client = client(&conn, &secrets).await?;
        run_in_transaction(&mut client, &rotation, &secrets).await?;
        if let Some(fresh) = root_rotation {
            self.replace(&conn, fresh);
        }
        Ok(())
    }

    async fn revoke_user(&self, username: &str, statements: &[String]) -> Result<(), PluginError> {
        require_username(username)?;
        let conn = self.current();
        let secrets = [conn.root_password.expose()];
        let fail = |e: tokio_postgres::Error| statement_error(&e, &secrets);
        let mut client = client(&conn, &secrets).await?;
        let Some(row) = client
            .query_opt(FIND_ROLE, &[&username])
            .await
            .map_err(fail)?
        else {
            // Already gone.
            return Ok(());
        };
        let oid: u32 = row.try_get(0).map_err(fail)?;
        let has_privileges: bool = row.try_get(1).map_err(fail)?;
        let values = Placeholders {
            name: Some(username),
            username: Some(username),
            ..Placeholders::default()
        };
        let mut defaults = vec![DEFAULT_REVOCATION];
        if has_privileges {
            defaults.push(DEFAULT_REVOCATION_OWNED);
        }
        defaults.push(DEFAULT_REVOCATION_DROP);
        let revocation = Statements::choose(statements, &defaults).render(&values);

        let tx = client.transaction().await.map_err(fail)?;
        tx.batch_execute(STATEMENT_TIMEOUT).await.map_err(fail)?;
        // End the sessions first: they may hold locks the drop needs.
        tx.execute(TERMINATE_SESSIONS, &[&oid])
            .await
            .map_err(fail)?;
        for statement in &revocation {
            tx.batch_execute(statement).await.map_err(fail)?;
        }
        tx.commit().await.map_err(fail)?;
        // And any session that began before the role was gone.
        client
            .execute(TERMINATE_SESSIONS, &[&oid])
            .await
            .map_err(fail)?;
        Ok(())
    }

    async fn close(&self) {
        self.current().pool.close();
    }
}
