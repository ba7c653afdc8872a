//! The SDK's one typed error, so that every failure the SDK reports (routing,
//! field conversion, the plugin catalog, token fields, a missing service)
//! carries its [`ErrorKind`](coffer_types::ErrorKind), declared once, and
//! converts into Coffer's [`Error`](coffer_types::Error) with `?` or
//! `.into()`. The messages are Vault's, word for word: clients and tests
//! match them.

use coffer_types::DurationError;

/// Why the SDK refused a request or failed. No variant carries a secret:
/// they hold names (fields, plugins, jobs), paths and client-given
/// non-secret values (a CIDR block, a token type), never a token, password
/// or key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SdkError {
    /// No path of the backend matches the request (404, Vault's text).
    #[error("unsupported path")]
    UnsupportedPath,
    /// The path matches but has no handler for the operation (405).
    #[error("unsupported operation")]
    UnsupportedOperation,
    /// The mount was asked to run a scheduled job it does not know.
    #[error("this mount runs no scheduled job {kind:?} at {job:?}")]
    NoScheduledJob {
        /// The job id, relative to the mount.
        job: String,
        /// What the job was meant to do.
        kind: String,
    },
    /// The backend does not renew leases (the default of `renew_lease`).
    #[error("lease is not renewable")]
    LeaseNotRenewable,
    /// The catalog has no plugin of that name for the mount kind.
    #[error("plugin not found in the catalog: {0}")]
    PluginNotFound(String),
    /// A secrets engine type that only the core mounts (`cubbyhole`, `system`).
    #[error("mount type of {0:?} is not mountable")]
    SecretNotMountable(String),
    /// An auth method type that only the core mounts (`token`).
    #[error("{0} credential backend cannot be instantiated")]
    AuthNotInstantiable(String),
    /// An alias that keeps its name fixes this option; the request set it.
    #[error("secrets engine {engine:?} does not allow setting a {option}")]
    AliasOptionFixed {
        /// The requested (alias) type.
        engine: String,
        /// The option the alias fixes.
        option: String,
    },
    /// A CIDR block that does not parse.
    #[error("invalid CIDR block {0:?}")]
    InvalidCidr(String),
    /// A field value of the wrong JSON type (Vault's framework wording).
    #[error("error converting input for field {field:?}: expected {expected}")]
    FieldType {
        /// The field name.
        field: String,
        /// What the field's type accepts ("a string", "a boolean", ...).
        expected: &'static str,
    },
    /// A duration field whose value does not parse as a duration.
    #[error("error converting input for field {field:?}: {source}")]
    FieldDuration {
        /// The field name.
        field: String,
        /// Why the value did not parse.
        source: DurationError,
    },
    /// A required string field is absent or empty.
    #[error("missing {0}")]
    MissingField(String),
    /// A handler read fields its path does not declare (a programming
    /// error, reported in debug builds).
    #[error("handler read undeclared fields: {}", .0.join(", "))]
    UndeclaredReads(Vec<String>),
    /// A backend implements neither `Backend::routes` nor `Backend::handle`.
    #[error(
        "this backend has no path table: it must implement Backend::routes (self.table.bind(self)) or Backend::handle"
    )]
    NoPathTable,
    /// A core service (the scheduler, the password source) that the context
    /// does not provide.
    #[error("{0} is not available to this mount")]
    Unavailable(&'static str),
    /// `token_type` is not one of Vault's values.
    #[error("invalid 'token_type' value {0:?}")]
    InvalidTokenType(String),
    /// `token_num_uses` is negative.
    #[error("'token_num_uses' cannot be negative")]
    NegativeTokenNumUses,
    /// Batch tokens cannot be periodic.
    #[error(
        "'token_type' cannot be 'batch' or 'default_batch' when set to generate periodic tokens"
    )]
    BatchTokenPeriodic,
    /// Batch tokens cannot have a limited use count.
    #[error(
        "'token_type' cannot be 'batch' or 'default_batch' when set to generate tokens with limited use count"
    )]
    BatchTokenNumUses,
    /// `token_ttl` is above `token_max_ttl`.
    #[error("'token_ttl' cannot be greater than 'token_max_ttl'")]
    TokenTtlAboveMax,
}

coffer_types::error_kinds! {
    SdkError {
        UnsupportedPath => NotFound,
        UnsupportedOperation | NoScheduledJob { .. } | Unavailable(_) => UnsupportedOperation,
        LeaseNotRenewable
        | PluginNotFound(_)
        | SecretNotMountable(_)
        | AuthNotInstantiable(_)
        | AliasOptionFixed { .. }
        | InvalidCidr(_)
        | FieldType { .. }
        | FieldDuration { .. }
        | MissingField(_)
        | InvalidTokenType(_)
        | NegativeTokenNumUses
        | BatchTokenPeriodic
        | BatchTokenNumUses
        | TokenTtlAboveMax => InvalidRequest,
        UndeclaredReads(_) | NoPathTable => Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_types::{Error, duration::parse_duration_value};

    /// One of every variant with the status Vault answers it with.
    fn every_variant() -> Vec<(SdkError, u16)> {
        let bad_duration = parse_duration_value(&serde_json::json!("soon")).unwrap_err();
        vec![
            (SdkError::UnsupportedPath, 404),
            (SdkError::UnsupportedOperation, 405),
            (
                SdkError::NoScheduledJob {
                    job: "static-roles/web".into(),
                    kind: "rotate".into(),
                },
                405,
            ),
            (SdkError::Unavailable("the scheduler"), 405),
            (SdkError::LeaseNotRenewable, 400),
            (SdkError::PluginNotFound("x".into()), 400),
            (SdkError::SecretNotMountable("system".into()), 400),
            (SdkError::AuthNotInstantiable("token".into()), 400),
            (
                SdkError::AliasOptionFixed {
                    engine: "kv-v2".into(),
                    option: "version".into(),
                },
                400,
            ),
            (SdkError::InvalidCidr("1.2.3".into()), 400),
            (
                SdkError::FieldType {
                    field: "ttl".into(),
                    expected: "a string",
                },
                400,
            ),
            (
                SdkError::FieldDuration {
                    field: "ttl".into(),
                    source: bad_duration,
                },
                400,
            ),
            (SdkError::MissingField("name".into()), 400),
            (SdkError::InvalidTokenType("gold".into()), 400),
            (SdkError::NegativeTokenNumUses, 400),
            (SdkError::BatchTokenPeriodic, 400),
            (SdkError::BatchTokenNumUses, 400),
            (SdkError::TokenTtlAboveMax, 400),
            (SdkError::UndeclaredReads(vec!["a".into()]), 500),
            (SdkError::NoPathTable, 500),
        ]
    }

    #[test]
    fn each_variant_maps_to_its_status() {
        for (err, status) in every_variant() {
            let shown = err.to_string();
            let err = Error::from(err);
            assert_eq!(err.status(), status, "{shown}");
            assert_eq!(err.messages(), [shown]);
        }
    }

    #[test]
    fn messages_are_vaults() {
        let cases = [
            (
                SdkError::SecretNotMountable("cubbyhole".into()),
                "mount type of \"cubbyhole\" is not mountable",
            ),
            (
                SdkError::AliasOptionFixed {
                    engine: "kv-v2".into(),
                    option: "version".into(),
                },
                "secrets engine \"kv-v2\" does not allow setting a version",
            ),
            (
                SdkError::FieldType {
                    field: "ttl".into(),
                    expected: "a boolean",
                },
                "error converting input for field \"ttl\": expected a boolean",
            ),
            (
                SdkError::UndeclaredReads(vec!["a".into(), "b".into()]),
                "handler read undeclared fields: a, b",
            ),
            (
                SdkError::BatchTokenPeriodic,
                "'token_type' cannot be 'batch' or 'default_batch' when set to generate periodic tokens",
            ),
            (
                SdkError::Unavailable("the scheduler"),
                "the scheduler is not available to this mount",
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text);
        }
    }
}
