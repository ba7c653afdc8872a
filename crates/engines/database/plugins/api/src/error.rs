//! Why a plugin call failed.

/// A plugin failure. Messages never contain a password: plugins pass every
/// database message through [`redact`](crate::redact) first.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PluginError {
    /// The settings cannot be used (a connection URL that does not parse, an
    /// unknown option, a bad certificate).
    #[error("invalid connection settings: {0}")]
    InvalidSettings(String),
    /// The database could not be reached, or refused the credentials.
    #[error("error connecting to the database: {0}")]
    Connect(String),
    /// A statement failed (syntax error, missing privilege, unknown user).
    #[error("statement failed: {0}")]
    Statement(String),
    /// The statements given cannot be used (empty after rendering, not the
    /// JSON list a Redis role expects).
    #[error("invalid statements: {0}")]
    InvalidStatements(String),
}

coffer_types::error_kinds! {
    /// The error kind: every plugin failure is the client's to fix (wrong
    /// settings, unreachable database, bad statement), so a 400.
    PluginError {
        InvalidSettings(_) | Connect(_) | Statement(_) | InvalidStatements(_) => InvalidRequest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_types::Error;

    #[test]
    fn every_failure_is_a_400() {
        let e: Error = PluginError::Connect("refused".into()).into();
        assert_eq!(e.status(), 400);
        assert_eq!(e.to_string(), "error connecting to the database: refused");
    }
}
