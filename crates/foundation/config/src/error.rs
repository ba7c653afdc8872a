//! Configuration errors.

use std::path::PathBuf;

/// Why a configuration file could not be used. Messages name the setting and
/// the place, never a configured value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid HCL.
    #[error("invalid HCL at line {line}, column {column}: {message}")]
    Hcl {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// The HCL is well-formed but uses an expression that is not a plain value.
    #[error("unsupported HCL expression: {0}")]
    HclExpression(String),
    /// The text is not valid JSON.
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Json {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// No `storage` (or `backend`) stanza.
    #[error("A storage backend must be specified")]
    MissingStorage,
    /// A stanza that may appear once appears more than once.
    #[error("only one {0:?} block is permitted")]
    Duplicate(&'static str),
    /// A storage type Coffer does not support.
    #[error("storage type {0:?} is not supported by Coffer (supported: inmem, file, raft, redb)")]
    UnsupportedStorage(String),
    /// A required setting is missing.
    #[error("{stanza}: {key:?} must be set")]
    Missing {
        /// Where (`storage "raft"`).
        stanza: String,
        /// The missing key.
        key: &'static str,
    },
    /// A TLS listener without its certificate or key.
    #[error(
        "listener \"tcp\" on {address}: tls_cert_file and tls_key_file must be set \
         unless tls_disable = true"
    )]
    MissingTls {
        /// The listener's address.
        address: String,
    },
    /// A setting has a value of the wrong type or form.
    #[error("invalid value for {key}: {reason}")]
    InvalidValue {
        /// The setting, with its stanza (`listener "tcp" on 0.0.0.0:8200: tls_disable`).
        key: String,
        /// What was expected.
        reason: String,
    },
    /// A stanza has the wrong shape (missing type label, not a block).
    #[error("invalid {stanza} stanza: {reason}")]
    InvalidStanza {
        /// The stanza name.
        stanza: String,
        /// What is wrong.
        reason: String,
    },
    /// `default_lease_ttl` exceeds `max_lease_ttl`.
    #[error("default_lease_ttl ({default}) cannot be larger than max_lease_ttl ({max})")]
    LeaseTtlOrder {
        /// The default, Go-formatted.
        default: String,
        /// The maximum, Go-formatted.
        max: String,
    },
}

impl ConfigError {
    /// An [`ConfigError::InvalidValue`].
    pub(crate) fn invalid(key: impl Into<String>, reason: impl Into<String>) -> Self {
        ConfigError::InvalidValue {
            key: key.into(),
            reason: reason.into(),
        }
    }
}
