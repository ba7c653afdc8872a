//! Errors of the audit-log layer. Messages never contain key material.

use coffer_crypto::CryptoError;

/// Why an audit-log operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditLogError {
    /// A cryptographic operation failed (key generation, a bad PKCS#8 key).
    #[error("audit log signing key: {0}")]
    Crypto(#[from] CryptoError),
    /// A key or log name is empty, contains whitespace or `+`.
    #[error("invalid key name {0:?}: it must be non-empty and contain no whitespace or '+'")]
    InvalidName(String),
    /// A verifier key string could not be parsed.
    #[error("invalid public key: {0}")]
    InvalidPublicKey(&'static str),
    /// A signed note or checkpoint could not be parsed or did not verify.
    #[error("invalid checkpoint: {0}")]
    InvalidCheckpoint(String),
    /// A persisted log head is internally inconsistent.
    #[error("invalid log head: {0}")]
    InvalidHead(&'static str),
    /// A proof was requested for a tree size or index the tree does not have.
    #[error("invalid proof request: {0}")]
    InvalidProofRequest(String),
    /// The requested record is not in the file.
    #[error("record {0} is not in the audit log")]
    RecordNotFound(u64),
    /// No checkpoint in the file covers the requested record.
    #[error("no checkpoint in the audit log covers record {0} yet")]
    NotCovered(u64),
    /// An inclusion proof did not verify.
    #[error("inclusion proof does not verify: {0}")]
    ProofFailed(&'static str),
    /// Reading the audit file failed.
    #[error("reading the audit log failed: {0}")]
    Io(String),
}

coffer_types::error_kinds! {
    /// The error kind, which decides the HTTP status when the error reaches a
    /// client: bad keys, notes and proof requests are the caller's fault (400),
    /// a missing record is 404, everything else is a server-side failure.
    AuditLogError {
        Crypto(e) => e.kind(),
        InvalidName(_)
        | InvalidPublicKey(_)
        | InvalidCheckpoint(_)
        | InvalidProofRequest(_)
        | ProofFailed(_) => InvalidRequest,
        RecordNotFound(_) | NotCovered(_) => NotFound,
        InvalidHead(_) | Io(_) => Internal,
    }
}

impl From<std::io::Error> for AuditLogError {
    fn from(err: std::io::Error) -> Self {
        AuditLogError::Io(err.to_string())
    }
}

/// Result alias for this crate.
pub type Result<T, E = AuditLogError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_statuses() {
        assert_eq!(AuditLogError::InvalidPublicKey("x").kind().status(), 400);
        assert_eq!(AuditLogError::RecordNotFound(3).kind().status(), 404);
        assert_eq!(AuditLogError::Io("disk".into()).kind().status(), 500);
        let e: coffer_types::Error = AuditLogError::NotCovered(7).into();
        assert_eq!(e.status(), 404);
        assert_eq!(
            e.messages(),
            ["no checkpoint in the audit log covers record 7 yet"]
        );
    }
}
