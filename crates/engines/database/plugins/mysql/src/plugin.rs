//! The connected plugin: a connection pool and the user operations.

use std::sync::RwLock;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use coffer_database_plugin::{
    ConnectionSettings, DatabasePlugin, NewUser, Placeholders, PluginError, redact, render,
};
use coffer_types::Sensitive;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Pool, PoolConstraints, PoolOpts};

use crate::dsn::{self, Target};
use crate::statements::{
    DEFAULT_CREATION, DEFAULT_REVOCATION, DEFAULT_ROLLBACK, DEFAULT_ROTATION, or_default, split,
};
use crate::tls;

/// Server error codes that mean "that user does not exist" during
/// revocation: `ER_CANNOT_USER` (`Operation DROP USER failed`),
/// `ER_NONEXISTING_GRANT`, `ER_REVOKE_GRANTS`, `ER_PASSWORD_NO_MATCH`.
const MISSING_USER_CODES: &[u16] = &[1396, 1141, 1269, 1133];

/// `ER_NO_SUCH_THREAD`: the session ended before `KILL` reached it.
const NO_SUCH_THREAD: u16 = 1094;

/// The pool and what is needed to rebuild it after a root rotation.
struct Connection {
    pool: Pool,
    /// Every option (the password is replaced on a root rotation).
    opts: OptsBuilder,
    /// The user the pool logs in as.
    user: String,
    connect_timeout: Duration,
}

/// A MySQL/MariaDB connection pool for one `config/:name`.
pub(crate) struct MysqlPlugin {
    connection: RwLock<Connection>,
    /// Root passwords this plugin has known (the configured one, the one in
    /// the URL, rotated ones): removed from every error message.
    secrets: RwLock<Vec<Sensitive>>,
}

impl MysqlPlugin {
    /// Builds the pool from `settings` without connecting.
    pub(crate) fn new(settings: &ConnectionSettings) -> Result<Self, PluginError> {
        let url = coffer_database_plugin::substitute_credentials(
            &settings.connection_url,
            &settings.username,
            settings.password.expose(),
        );
        let mut secrets = vec![settings.password.clone()];
        let Target {
            opts,
            user,
            connect_timeout,
            tls: dsn_tls,
        } = dsn::parse(&url).map_err(|e| {
            PluginError::InvalidSettings(redact(&e.0, &[settings.password.expose()]).into_owned())
        })?;
        let parsed = mysql_async::Opts::from(opts.clone());
        if let Some(pass) = parsed.pass() {
            secrets.push(Sensitive::from(pass));
        }
        let ssl =
            tls::ssl_opts(&settings.options, dsn_tls).map_err(PluginError::InvalidSettings)?;
        let max = usize::try_from(settings.max_open_connections.max(1)).unwrap_or(usize::MAX);
        let idle = match settings.max_idle_connections {
            0 => max,
            n => usize::try_from(n).unwrap_or(usize::MAX).min(max),
        };
        // `new` only returns None when min > max or max == 0; both are
        // excluded above, and the default is a safe fallback anyway.
        let constraints = PoolConstraints::new(idle, max).unwrap_or_default();
        let lifetime = (!settings.max_connection_lifetime.is_zero())
            .then_some(settings.max_connection_lifetime);
        let pool_opts = PoolOpts::default()
            .with_constraints(constraints)
            .with_abs_conn_ttl(lifetime);
        let opts = opts.pool_opts(pool_opts).ssl_opts(ssl);
        let pool = Pool::new(opts.clone());
        Ok(Self {
            connection: RwLock::new(Connection {
                pool,
                opts,
                user,
                connect_timeout,
            }),
            secrets: RwLock::new(secrets),
        })
    }

    /// `message` without any password this plugin knows or `extra`.
    fn redacted(&self, message: &str, extra: &[&str]) -> String {
        let secrets = self.secrets.read().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<&str> = secrets.iter().map(Sensitive::expose).collect();
        all.extend_from_slice(extra);
        redact(message, &all).into_owned()
    }

    fn statement_error(&self, err: &mysql_async::Error, extra: &[&str]) -> PluginError {
        PluginError::Statement(self.redacted(&describe(err), extra))
    }

    /// A pooled connection, or a prompt error when the server cannot be
    /// reached within the connect timeout.
    async fn conn(&self) -> Result<Conn, PluginError> {
        let (pool, timeout) = {
            let c = self.connection.read().unwrap_or_else(|p| p.into_inner());
            (c.pool.clone(), c.connect_timeout)
        };
        match tokio::time::timeout(timeout, pool.get_conn()).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(PluginError::Connect(self.redacted(&describe(&e), &[]))),
            Err(_) => Err(PluginError::Connect(format!(
                "no connection within {}s",
                timeout.as_secs_f64()
            ))),
        }
    }

    /// Replaces the pool with one that logs in with `password` (after the
    /// root user's own password changed).
    fn rotate_root(&self, password: &Sensitive) {
        self.secrets
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(password.clone());
        let old = {
            let mut c = self.connection.write().unwrap_or_else(|p| p.into_inner());
            let pool = Pool::new(c.opts.clone().pass(Some(password.expose())));
            std::mem::replace(&mut c.pool, pool)
        };
        tokio::spawn(async move {
            // Closing the old pool only waits for connections in use.
            let _ = old.disconnect().await;
        });
    }

    fn is_root(&self, username: &str) -> bool {
        let c = self.connection.read().unwrap_or_else(|p| p.into_inner());
        c.user == username
    }

    /// Ends every session of `username` but this one. Errors (a missing
    /// privilege) are returned after trying every session.
    async fn kill_sessions(&self, conn: &mut Conn, username: &str) -> Result<(), PluginError> {
        let ids: Vec<u64> = conn
            .exec(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID()",
                (username,),
            )
            .await
            .map_err(|e| self.statement_error(&e, &[]))?;
        let mut first_error = None;
        for id in ids {
            match conn.query_drop(format!("KILL CONNECTION {id}")).await {
                Ok(()) => {}
                Err(mysql_async::Error::Server(e)) if e.code == NO_SUCH_THREAD => {}
                Err(e) => {
                    first_error.get_or_insert_with(|| {
                        PluginError::Statement(format!(
                            "could not end a session of {username} (the root user needs \
                             the PROCESS and CONNECTION ADMIN or SUPER privileges): {}",
                            self.redacted(&describe(&e), &[])
                        ))
                    });
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Runs rollback statements on `conn`, or on a fresh connection when
    /// that one broke; returns why it failed, if it did.
    async fn rollback(
        &self,
        conn: &mut Conn,
        statements: &[String],
        values: &Placeholders<'_>,
    ) -> Option<String> {
        let rollback = or_default(statements, DEFAULT_ROLLBACK);
        let first = run_all(conn, &rollback, values).await;
        let Err(e) = first else { return None };
        if !matches!(e, mysql_async::Error::Io(_) | mysql_async::Error::Driver(_)) {
            return Some(describe(&e));
        }
        let mut fresh = match self.conn().await {
            Ok(c) => c,
            Err(e) => return Some(e.to_string()),
        };
        run_all(&mut fresh, &rollback, values)
            .await
            .err()
            .map(|e| describe(&e))
    }
}

/// A server error's code and message; other errors as the driver words them.
fn describe(err: &mysql_async::Error) -> String {
    match err {
        mysql_async::Error::Server(e) => format!("ERROR {} ({}): {}", e.code, e.state, e.message),
        other => other.to_string(),
    }
}

/// Every statement of every template, rendered; none is an error.
fn rendered(templates: &[&str], values: &Placeholders<'_>) -> Result<Vec<String>, PluginError> {
    let all: Vec<String> = templates
        .iter()
        .flat_map(|t| split(t))
        .map(|s| render(&s, values))
        .collect();
    if all.is_empty() {
        return Err(PluginError::InvalidStatements(
            "the statements hold no SQL".into(),
        ));
    }
    Ok(all)
}

/// Runs the statements in order, stopping at the first failure.
async fn run(conn: &mut Conn, statements: &[String]) -> Result<(), mysql_async::Error> {
    for sql in statements {
        conn.query_drop(sql.as_str()).await?;
    }
    Ok(())
}

/// Runs every statement, going on past failures; returns the first.
async fn run_all(
    conn: &mut Conn,
    templates: &[&str],
    values: &Placeholders<'_>,
) -> Result<(), mysql_async::Error> {
    let mut first = Ok(());
    for template in templates {
        for sql in split(template) {
            if let Err(e) = conn.query_drop(render(&sql, values)).await
                && first.is_ok()
            {
                first = Err(e);
            }
        }
    }
    first
}

/// Vault's `{{expiration}}` format for MySQL, in UTC: `2006-01-02 15:04:05+0000`.
fn format_expiration(at: SystemTime) -> String {
    let since_epoch = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let datetime = time::Duration::try_from(since_epoch)
        .ok()
        .and_then(|d| time::OffsetDateTime::UNIX_EPOCH.checked_add(d))
        .unwrap_or(time::macros::datetime!(9999-12-31 23:59:59 UTC));
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]+0000");
    datetime
        .format(&format)
        .unwrap_or_else(|_| "9999-12-31 23:59:59+0000".to_owned())
}

#[async_trait]
impl DatabasePlugin for MysqlPlugin {
    async fn verify(&self) -> Result<(), PluginError> {
        let mut conn = self.conn().await?;
        conn.ping()
            .await
            .map_err(|e| PluginError::Connect(self.redacted(&describe(&e), &[])))
    }

    async fn create_user(&self, user: &NewUser<'_>) -> Result<(), PluginError> {
        let expiration = format_expiration(user.expiration);
        let values = Placeholders {
            name: Some(user.username),
            username: Some(user.username),
            password: Some(user.password.expose()),
            expiration: Some(&expiration),
        };
        let creation = rendered(
            &or_default(user.creation_statements, DEFAULT_CREATION),
            &values,
        )?;
        let mut conn = self.conn().await?;
        let Err(e) = run(&mut conn, &creation).await else {
            return Ok(());
        };
        // MySQL commits DDL as it goes: undo what the statements did.
        let mut message = describe(&e);
        if let Some(why) = self
            .rollback(&mut conn, user.rollback_statements, &values)
            .await
        {
            message.push_str(&format!("; the rollback failed too: {why}"));
        }
        Err(PluginError::Statement(
            self.redacted(&message, &[user.password.expose()]),
        ))
    }

    async fn renew_user(
        &self,
        username: &str,
        expiration: SystemTime,
        statements: &[String],
    ) -> Result<(), PluginError> {
        // MySQL users do not expire: only a role's own renew statements run.
        if statements.iter().all(|s| s.trim().is_empty()) {
            return Ok(());
        }
        let expiration = format_expiration(expiration);
        let values = Placeholders {
            name: Some(username),
            username: Some(username),
            expiration: Some(&expiration),
            ..Placeholders::default()
        };
        let renew = rendered(&or_default(statements, ""), &values)?;
        let mut conn = self.conn().await?;
        run(&mut conn, &renew)
            .await
            .map_err(|e| self.statement_error(&e, &[]))
    }

    async fn set_password(
        &self,
        username: &str,
        password: &Sensitive,
        statements: &[String],
    ) -> Result<(), PluginError> {
        if username.is_empty() || password.is_empty() {
            return Err(PluginError::InvalidStatements(
                "a username and a password are required".into(),
            ));
        }
        let values = Placeholders {
            name: Some(username),
            username: Some(username),
            password: Some(password.expose()),
            ..Placeholders::default()
        };
        let rotation = rendered(&or_default(statements, DEFAULT_ROTATION), &values)?;
        let mut conn = self.conn().await?;
        run(&mut conn, &rotation)
            .await
            .map_err(|e| self.statement_error(&e, &[password.expose()]))?;
        drop(conn);
        if self.is_root(username) {
            self.rotate_root(password);
        }
        Ok(())
    }

    async fn revoke_user(&self, username: &str, statements: &[String]) -> Result<(), PluginError> {
        let values = Placeholders {
            name: Some(username),
            username: Some(username),
            ..Placeholders::default()
        };
        let revocation = rendered(&or_default(statements, DEFAULT_REVOCATION), &values)?;
        let mut conn = self.conn().await?;
        // End the sessions first, run the statements (going on past "no
        // such user": revoking twice is fine), then end any session that
        // logged in meanwhile.
        let killed_before = self.kill_sessions(&mut conn, username).await;
        for sql in &revocation {
            match conn.query_drop(sql.as_str()).await {
                Ok(()) => {}
                Err(mysql_async::Error::Server(e)) if MISSING_USER_CODES.contains(&e.code) => {}
                Err(e) => return Err(self.statement_error(&e, &[])),
            }
        }
        let killed_after = self.kill_sessions(&mut conn, username).await;
        killed_before.and(killed_after)
    }

    async fn close(&self) {
        let pool = {
            let c = self.connection.read().unwrap_or_else(|p| p.into_inner());
            c.pool.clone()
        };
        let _ = pool.disconnect().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiration_is_vaults_format_in_utc() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_456_000);
        assert_eq!(format_expiration(at), "2030-01-01 00:00:00+0000");
        assert_eq!(
            format_expiration(SystemTime::UNIX_EPOCH),
            "1970-01-01 00:00:00+0000"
        );
    }

    #[test]
    fn statements_that_hold_nothing_are_refused() {
        let values = Placeholders::default();
        assert!(matches!(
            rendered(&[";", " -- nothing"], &values),
            Err(PluginError::InvalidStatements(_))
        ));
        assert_eq!(
            rendered(
                &["DROP USER '{{name}}'@'%'; "],
                &Placeholders {
                    name: Some("u"),
                    ..Placeholders::default()
                }
            )
            .unwrap(),
            vec!["DROP USER 'u'@'%'"]
        );
    }

    #[test]
    fn bad_settings_are_refused_without_the_password() {
        let settings = ConnectionSettings {
            connection_url: "{{username}}:{{password}}@ftp(h)/".into(),
            username: "root".into(),
            password: Sensitive::from("canary-root"),
            ..ConnectionSettings::default()
        };
        let Err(err) = MysqlPlugin::new(&settings) else {
            panic!("accepted")
        };
        assert!(matches!(err, PluginError::InvalidSettings(_)));
        assert!(!err.to_string().contains("canary-root"));
    }
}
