//! The engine's typed errors: one variant per failure, each with its
//! [`ErrorKind`](coffer_types::ErrorKind) declared once, converting into
//! Coffer's [`Error`](coffer_types::Error) with `?`. The messages are
//! Vault's (or this engine's long-standing ones) word for word: clients and
//! tests match them.

use coffer_username_template::TemplateError;

/// Why a request to the database engine failed. The variants carry names
/// (connections, roles, plugins, fields, jobs) and error sources, never a
/// password or another credential.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatabaseError {
    /// A `:name` Vault's path pattern would not have matched.
    #[error("unsupported path")]
    UnsupportedPath,
    /// `plugin_name` names no plugin of the catalog.
    #[error("plugin {name:?} not found in the catalog (known: {})", known.join(", "))]
    PluginNotFound {
        /// The requested plugin.
        name: String,
        /// The plugins the catalog has.
        known: Vec<String>,
    },
    /// A statements field was neither a string nor a list of strings.
    #[error("error converting input for field {field:?}: expected {expected}")]
    InvalidStatements {
        /// The field name.
        field: String,
        /// What the field should have been.
        expected: &'static str,
    },
    /// Both `rotation_period` and `rotation_schedule` were set.
    #[error(
        "mutually exclusive fields rotation_period and rotation_schedule were both specified; only one of them can be provided"
    )]
    PeriodAndSchedule,
    /// `rotation_period` is below the minimum.
    #[error("rotation_period must be {0} seconds or more")]
    PeriodTooShort(u64),
    /// `rotation_window` without `rotation_schedule`.
    #[error("rotation_window is only valid with rotation_schedule, not with rotation_period")]
    WindowWithoutSchedule,
    /// A static role with neither a period nor a schedule.
    #[error("one of rotation_schedule or rotation_period must be provided")]
    RotationRequired,
    /// An integer field outside `0..=u32::MAX`.
    #[error("{0} must be between 0 and {max}", max = u32::MAX)]
    OutOfU32Range(String),
    /// A config without `plugin_name`.
    #[error("empty plugin name")]
    EmptyPluginName,
    /// The plugin could not connect with the given settings.
    #[error("error creating database object: {0}")]
    CreateDatabaseObject(String),
    /// No connection of that name.
    #[error("unable to find config: {0}")]
    ConfigNotFound(String),
    /// A role's connection is gone.
    #[error("unknown database connection: {0}")]
    UnknownConnection(String),
    /// No role (dynamic, or static for `static-creds`) of that name.
    #[error("unknown role: {0}")]
    UnknownRole(String),
    /// The role behind a lease is gone.
    #[error("could not find role {0:?}")]
    RoleNotFound(String),
    /// No static role of that name.
    #[error("unable to find static role {0:?}")]
    StaticRoleNotFound(String),
    /// The connection's `allowed_roles` does not include the role.
    #[error("{0:?} is not an allowed role")]
    RoleNotAllowed(String),
    /// A role without `db_name`.
    #[error("empty database name attribute")]
    EmptyDbName,
    /// A `credential_type` other than `password`.
    #[error("credential_type {0:?} is not supported: only \"password\"")]
    UnsupportedCredentialType(String),
    /// `default_ttl` above `max_ttl`.
    #[error("ttl cannot be greater than max_ttl")]
    TtlAboveMax,
    /// A static role's `username` cannot change.
    #[error("cannot update static account username")]
    UsernameImmutable,
    /// A static role's `db_name` cannot change.
    #[error("cannot update static role db_name")]
    DbNameImmutable,
    /// A new static role without `username`.
    #[error("username is a required field to create a static account")]
    UsernameRequired,
    /// A new static role without `db_name`.
    #[error("database name is required")]
    DbNameRequired,
    /// A static role whose rotation has no schedule (checked before).
    #[error("a static role without a schedule")]
    MissingSchedule,
    /// A lease of this engine without one of its internal fields.
    #[error("lease {lease_id} has no {key}")]
    LeaseField {
        /// The lease.
        lease_id: String,
        /// The missing internal field.
        key: String,
    },
    /// Root rotation of a connection without `username`.
    #[error("unable to rotate root credentials: no username in configuration")]
    RootNoUsername,
    /// Root rotation of a connection whose URL embeds the password.
    #[error(
        "unable to rotate root credentials: connection_url must use the {{{{password}}}} placeholder, or the rotated password could not be used"
    )]
    RootNoPlaceholder,
    /// A static rotation job with a malformed name.
    #[error("not a static role job: {0:?}")]
    NotStaticJob(String),
    /// A root rotation job with a malformed name.
    #[error("not a root rotation job: {0:?}")]
    NotRootJob(String),
    /// A job kind this engine does not run.
    #[error("unknown job kind {0:?}")]
    UnknownJobKind(String),
    /// `username_template` does not parse.
    #[error("invalid username template: {0}")]
    InvalidUsernameTemplate(#[source] TemplateError),
    /// `username_template` did not render.
    #[error("unable to generate username: {0}")]
    GenerateUsername(#[source] TemplateError),
    /// `username_template` rendered an empty name.
    #[error("unable to generate username: the template gave an empty name")]
    EmptyUsername,
    /// A stored record did not decode.
    #[error("corrupt record {key}: {source}")]
    CorruptRecord {
        /// The record's storage key.
        key: String,
        /// The decoding error.
        source: serde_json::Error,
    },
    /// A record could not be encoded for storage.
    #[error("{0}")]
    Encode(#[source] serde_json::Error),
    /// A crash injected by a test between two steps of a rotation.
    #[error("injected crash at {0}")]
    InjectedCrash(String),
}

coffer_types::error_kinds! {
    DatabaseError {
        UnsupportedPath => NotFound,
        PluginNotFound { .. }
        | InvalidStatements { .. }
        | PeriodAndSchedule
        | PeriodTooShort(_)
        | WindowWithoutSchedule
        | RotationRequired
        | OutOfU32Range(_)
        | EmptyPluginName
        | CreateDatabaseObject(_)
        | ConfigNotFound(_)
        | UnknownConnection(_)
        | UnknownRole(_)
        | RoleNotFound(_)
        | StaticRoleNotFound(_)
        | RoleNotAllowed(_)
        | EmptyDbName
        | UnsupportedCredentialType(_)
        | TtlAboveMax
        | UsernameImmutable
        | DbNameImmutable
        | UsernameRequired
        | DbNameRequired
        | RootNoUsername
        | RootNoPlaceholder
        | NotStaticJob(_)
        | NotRootJob(_)
        | UnknownJobKind(_)
        | InvalidUsernameTemplate(_)
        | GenerateUsername(_)
        | EmptyUsername => InvalidRequest,
        MissingSchedule
        | LeaseField { .. }
        | CorruptRecord { .. }
        | Encode(_)
        | InjectedCrash(_) => Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_types::Error;

    fn json_error() -> serde_json::Error {
        serde_json::from_str::<u64>("\"x\"").unwrap_err()
    }

    fn template_error() -> TemplateError {
        match coffer_username_template::UsernameTemplate::parse("{{") {
            Err(e) => e,
            Ok(_) => panic!("an unclosed action parses"),
        }
    }

    /// Every variant and the HTTP status it must give.
    fn table() -> Vec<(DatabaseError, u16)> {
        use DatabaseError::*;
        let s = || "x".to_owned();
        vec![
            (UnsupportedPath, 404),
            (
                PluginNotFound {
                    name: s(),
                    known: vec![s()],
                },
                400,
            ),
            (
                InvalidStatements {
                    field: s(),
                    expected: "a list of strings",
                },
                400,
            ),
            (PeriodAndSchedule, 400),
            (PeriodTooShort(5), 400),
            (WindowWithoutSchedule, 400),
            (RotationRequired, 400),
            (OutOfU32Range(s()), 400),
            (EmptyPluginName, 400),
            (CreateDatabaseObject(s()), 400),
            (ConfigNotFound(s()), 400),
            (UnknownConnection(s()), 400),
            (UnknownRole(s()), 400),
            (RoleNotFound(s()), 400),
            (StaticRoleNotFound(s()), 400),
            (RoleNotAllowed(s()), 400),
            (EmptyDbName, 400),
            (UnsupportedCredentialType(s()), 400),
            (TtlAboveMax, 400),
            (UsernameImmutable, 400),
            (DbNameImmutable, 400),
            (UsernameRequired, 400),
            (DbNameRequired, 400),
            (MissingSchedule, 500),
            (
                LeaseField {
                    lease_id: s(),
                    key: s(),
                },
                500,
            ),
            (RootNoUsername, 400),
            (RootNoPlaceholder, 400),
            (NotStaticJob(s()), 400),
            (NotRootJob(s()), 400),
            (UnknownJobKind(s()), 400),
            (InvalidUsernameTemplate(template_error()), 400),
            (GenerateUsername(template_error()), 400),
            (EmptyUsername, 400),
            (
                CorruptRecord {
                    key: s(),
                    source: json_error(),
                },
                500,
            ),
            (Encode(json_error()), 500),
            (InjectedCrash(s()), 500),
        ]
    }

    #[test]
    fn each_variant_maps_to_its_status() {
        for (variant, status) in table() {
            let shown = variant.to_string();
            let err = Error::from(variant);
            assert_eq!(err.status(), status, "{shown}");
            assert_eq!(err.messages(), std::slice::from_ref(&shown), "{shown}");
        }
    }

    #[test]
    fn messages_are_unchanged() {
        let cases = [
            (
                DatabaseError::PluginNotFound {
                    name: "nope".into(),
                    known: vec!["a".into(), "b".into()],
                },
                "plugin \"nope\" not found in the catalog (known: a, b)",
            ),
            (
                DatabaseError::InvalidStatements {
                    field: "creation_statements".into(),
                    expected: "a string or a list of strings",
                },
                "error converting input for field \"creation_statements\": expected a string or a list of strings",
            ),
            (
                DatabaseError::OutOfU32Range("max_open_connections".into()),
                "max_open_connections must be between 0 and 4294967295",
            ),
            (
                DatabaseError::RootNoPlaceholder,
                "unable to rotate root credentials: connection_url must use the {{password}} placeholder, or the rotated password could not be used",
            ),
            (
                DatabaseError::UnsupportedCredentialType("rsa".into()),
                "credential_type \"rsa\" is not supported: only \"password\"",
            ),
            (
                DatabaseError::LeaseField {
                    lease_id: "database/creds/r/abc".into(),
                    key: "username".into(),
                },
                "lease database/creds/r/abc has no username",
            ),
            (
                DatabaseError::PeriodTooShort(5),
                "rotation_period must be 5 seconds or more",
            ),
            (
                DatabaseError::RoleNotAllowed("r".into()),
                "\"r\" is not an allowed role",
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text);
        }
    }
}
