//! The method's typed errors and their mapping onto Coffer's error kinds.

use coffer_storage::StorageError;

/// Why an AppRole request failed. Messages are Vault's and never contain a
/// secret id (role names, accessors and CIDR blocks are not secret).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppRoleError {
    /// A required field was absent or empty (`missing role_id`).
    #[error("missing {0}")]
    Missing(&'static str),
    /// A login failed: unknown role id, unknown, expired or exhausted secret
    /// id. Deliberately says nothing about which.
    #[error("invalid role or secret ID")]
    InvalidCredentials,
    /// The role named in the path does not exist (secret-id generation).
    #[error("role {0:?} does not exist")]
    RoleNotFound(String),
    /// The role named in the path does not exist (listing, lookups).
    #[error("role {0:?} does not exist")]
    RoleDoesNotExist(String),
    /// A secret-id accessor whose secret id is gone.
    #[error("invalid secret id accessor")]
    InvalidAccessor,
    /// A secret id whose accessor index is gone (it is removed).
    #[error("invalid secret id")]
    InvalidSecretId,
    /// `token_bound_cidrs` on the field endpoint did not parse.
    #[error("failed to parse token_bound_cidrs: {0}")]
    TokenBoundCidrs(String),
    /// A field update of a role that does not exist, or an invalid role name.
    #[error("unsupported path")]
    UnsupportedPath,
    /// The role name is longer than Vault accepts.
    #[error("role_name is longer than maximum of 4096 bytes")]
    RoleNameTooLong,
    /// A value is longer than the HMAC input limit.
    #[error("value is longer than maximum of 4096 bytes")]
    ValueTooLong,
    /// A role was written without bind_secret_id or any CIDR binding.
    #[error("at least one constraint should be enabled on the role")]
    NoConstraint,
    /// The requested role id belongs to another role.
    #[error("role_id already in use")]
    RoleIdInUse,
    /// `local_secret_ids` was sent on an update.
    #[error("local_secret_ids can only be modified during role creation")]
    LocalSecretIdsImmutable,
    /// A number that must not be negative was.
    #[error("{0} cannot be negative")]
    Negative(&'static str),
    /// `num_uses` on a secret id exceeds the role's limit.
    #[error("num_uses cannot be higher than the role's secret_id_num_uses")]
    NumUsesTooHigh,
    /// `ttl` on a secret id exceeds the role's limit.
    #[error("ttl cannot be longer than the role's secret_id_ttl")]
    TtlTooLong,
    /// A secret id was requested for a role that does not bind one.
    #[error("bind_secret_id is not set on the role")]
    BindSecretIdNotSet,
    /// A list of CIDR blocks did not parse (role field).
    #[error("invalid CIDR blocks")]
    InvalidRoleCidrs,
    /// A list of CIDR blocks did not parse (secret id `cidr_list`).
    #[error("failed to validate CIDR blocks")]
    InvalidCidrs,
    /// A list of CIDR blocks did not parse (secret id `token_bound_cidrs`).
    #[error("failed to validate token CIDR blocks")]
    InvalidTokenCidrs,
    /// The secret id's CIDR blocks are not inside the role's.
    #[error(
        "failed to verify subset relationship between CIDR blocks on the role {role:?} and CIDR blocks on the secret ID {secret_id:?}"
    )]
    CidrNotSubset {
        /// The role's blocks.
        role: Vec<String>,
        /// The secret id's blocks.
        secret_id: Vec<String>,
    },
    /// The client address is outside the secret id's `cidr_list`.
    #[error("source address {0:?} unauthorized by CIDR restrictions on the secret ID")]
    SecretIdCidr(String),
    /// The client address is outside the role's `secret_id_bound_cidrs`.
    #[error("source address {0:?} unauthorized by CIDR restrictions on the role")]
    RoleCidr(String),
    /// A CIDR binding applies but the request carries no client address.
    #[error("failed to get connection information")]
    NoConnectionInfo,
    /// The secret id metadata did not parse.
    #[error("failed to parse metadata: {0}")]
    Metadata(String),
    /// A custom secret id that is already registered for the role.
    #[error("SecretID is already registered")]
    SecretIdExists,
    /// No secret id has this accessor.
    #[error("failed to find accessor entry for secret_id_accessor: {0:?}")]
    AccessorNotFound(String),
    /// The period is above the mount's maximum lease TTL.
    #[error("period of {period:?} is greater than the backend's maximum lease TTL of {max:?}")]
    PeriodTooLong {
        /// The period, Go-formatted.
        period: String,
        /// The mount maximum, Go-formatted.
        max: String,
    },
    /// `token_ttl` above `token_max_ttl` on the field endpoint.
    #[error("token_ttl should not be greater than token_max_ttl")]
    TtlAboveMax,
    /// `token_max_ttl` below `token_ttl` on the field endpoint.
    #[error("token_max_ttl should be greater than or equal to token_ttl")]
    MaxBelowTtl,
    /// A token issued by this method is renewed after its role was deleted.
    #[error("role {0:?} does not exist during renewal")]
    RoleGoneDuringRenewal(String),
    /// The grant being renewed has no role name (not issued by this method).
    #[error("failed to fetch role_name during renewal")]
    NoRoleInGrant,
    /// A stored record did not decode (its content is not echoed).
    #[error("stored {0} could not be decoded")]
    Corrupt(&'static str),
    /// A record could not be encoded for storage.
    #[error("could not encode {0} for storage")]
    Encode(&'static str),
    /// The random generator failed.
    #[error("failed to generate {0}")]
    Random(&'static str),
    /// The storage layer failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

coffer_types::error_kinds! {
    AppRoleError {
        Missing(_)
        | InvalidCredentials
        | RoleNameTooLong
        | ValueTooLong
        | NoConstraint
        | RoleIdInUse
        | LocalSecretIdsImmutable
        | Negative(_)
        | NumUsesTooHigh
        | TtlTooLong
        | BindSecretIdNotSet
        | InvalidRoleCidrs
        | InvalidCidrs
        | InvalidTokenCidrs
        | CidrNotSubset { .. }
        | SecretIdCidr(_)
        | RoleCidr(_)
        | Metadata(_)
        | SecretIdExists
        | PeriodTooLong { .. }
        | TtlAboveMax
        | MaxBelowTtl
        | RoleGoneDuringRenewal(_)
        | NoRoleInGrant
        | RoleDoesNotExist(_)
        | InvalidSecretId
        | TokenBoundCidrs(_) => InvalidRequest,
        InvalidAccessor => PermissionDenied,
        RoleNotFound(_) | UnsupportedPath | AccessorNotFound(_) => NotFound,
        NoConnectionInfo | Corrupt(_) | Encode(_) | Random(_) => Internal,
        Storage(e) => e.kind(),
    }
}

impl From<coffer_crypto::CryptoError> for AppRoleError {
    fn from(_: coffer_crypto::CryptoError) -> Self {
        AppRoleError::Random("random bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_types::Error;

    #[test]
    fn kinds_map_to_vault_status_codes() {
        assert_eq!(Error::from(AppRoleError::InvalidCredentials).status(), 400);
        assert_eq!(
            Error::from(AppRoleError::InvalidCredentials).messages(),
            ["invalid role or secret ID"]
        );
        assert_eq!(
            Error::from(AppRoleError::RoleNotFound("web".into())).status(),
            404
        );
        assert_eq!(Error::from(AppRoleError::NoConnectionInfo).status(), 500);
        assert_eq!(
            Error::from(AppRoleError::Missing("role_id")).messages(),
            ["missing role_id"]
        );
    }
}
