//! Database and pool failures as [`PluginError`]s, with every password the
//! plugin knows removed.

use coffer_database_plugin::{PluginError, redact};
use deadpool_postgres::{PoolError, TimeoutType};

/// The database's own words for a failure: the server's message and
/// SQLSTATE when the server answered, the client's description otherwise.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut msg = db.message().to_owned();
            if let Some(detail) = db.detail() {
                msg.push_str(": ");
                msg.push_str(detail);
            }
            msg.push_str(&format!(" (SQLSTATE {})", db.code().code()));
            msg
        }
        None => with_causes(e),
    }
}

/// An error and its causes, `outer: inner: innermost` (tokio-postgres
/// prints only the outermost).
pub(crate) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !msg.ends_with(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        cause = c.source();
    }
    msg
}

/// A failed statement: [`PluginError::Statement`] when the server refused
/// it, [`PluginError::Connect`] when the connection failed under it.
pub(crate) fn statement_error(e: &tokio_postgres::Error, secrets: &[&str]) -> PluginError {
    let msg = redact(&describe(e), secrets).into_owned();
    if e.as_db_error().is_some() {
        PluginError::Statement(msg)
    } else {
        PluginError::Connect(msg)
    }
}

/// No connection from the pool: the database is unreachable, refused the
/// credentials, or is too slow.
pub(crate) fn pool_error(e: &PoolError, secrets: &[&str]) -> PluginError {
    let msg = match e {
        PoolError::Backend(e) => describe(e),
        PoolError::Timeout(TimeoutType::Create) => "timed out connecting to the database".into(),
        PoolError::Timeout(TimeoutType::Wait) => {
            "timed out waiting for a free connection (max_open_connections are all busy)".into()
        }
        PoolError::Timeout(TimeoutType::Recycle) => "timed out checking a pooled connection".into(),
        PoolError::Closed => "the connection was closed".into(),
        other => other.to_string(),
    };
    PluginError::Connect(redact(&msg, secrets).into_owned())
}
