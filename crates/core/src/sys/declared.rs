//! The core's own client-facing `sys/` paths declared as data, in the shape
//! every backend declares its own ([`PathDef`] with typed [`FieldDef`]s).
//!
//! The services' and the core's `sys/` pieces (leases, quotas, audit,
//! password policies, rotation, remount, CORS, tools, ACL policies, mounts,
//! auth) declare their paths on the sdk's path table and are dispatched by
//! it. The core's remaining handlers (capabilities, wrapping, seal, keys,
//! init, unseal, rekey, generate-root) still parse paths and bodies by hand,
//! so this table declares what they accept, for `sys/internal/specs/openapi`
//! and the bad-request corpus generated from it. It goes when those handlers
//! become a piece too.

use coffer_sdk::{FieldDef, FieldType, PathDef};
use coffer_types::Operation::{self, Delete, Read, Update};

const READ: &[Operation] = &[Read];
const UPDATE: &[Operation] = &[Update];
const READ_UPDATE: &[Operation] = &[Read, Update];

const fn f(name: &'static str, kind: FieldType, description: &'static str) -> FieldDef {
    FieldDef::new(name, kind, description)
}

const fn path(
    pattern: &'static str,
    fields: &'static [FieldDef],
    operations: &'static [Operation],
    synopsis: &'static str,
) -> PathDef {
    PathDef {
        pattern,
        fields,
        operations,
        existence_check: false,
        synopsis,
        description: "",
    }
}

const INIT_FIELDS: &[FieldDef] = &[
    f(
        "secret_shares",
        FieldType::Int,
        "Number of key shares to split the root key into.",
    ),
    f(
        "secret_threshold",
        FieldType::Int,
        "Number of shares needed to reconstruct the root key.",
    ),
    f(
        "stored_shares",
        FieldType::Int,
        "Number of shares to store (auto-unseal only).",
    ),
    f(
        "pgp_keys",
        FieldType::StringList,
        "PGP public keys to encrypt the shares with.",
    ),
    f(
        "root_token_pgp_key",
        FieldType::String,
        "PGP public key to encrypt the root token with.",
    ),
    f(
        "recovery_shares",
        FieldType::Int,
        "Number of recovery key shares (auto-unseal only).",
    ),
    f(
        "recovery_threshold",
        FieldType::Int,
        "Number of recovery shares needed (auto-unseal only).",
    ),
];

const UNSEAL_FIELDS: &[FieldDef] = &[
    f(
        "key",
        FieldType::String,
        "One unseal key share (hex or base64).",
    ),
    f("reset", FieldType::Bool, "Discard the shares given so far."),
    f("migrate", FieldType::Bool, "Seal migration in progress."),
];

const REKEY_INIT_FIELDS: &[FieldDef] = &[
    f("secret_shares", FieldType::Int, "Number of new key shares."),
    f(
        "secret_threshold",
        FieldType::Int,
        "Number of new shares needed to unseal.",
    ),
    f(
        "pgp_keys",
        FieldType::StringList,
        "PGP public keys to encrypt the new shares with.",
    ),
    f("backup", FieldType::Bool, "Store PGP-encrypted shares."),
    f(
        "require_verification",
        FieldType::Bool,
        "Require the new shares to be verified before they take effect.",
    ),
];

const NONCE_KEY_FIELDS: &[FieldDef] = &[
    f("key", FieldType::String, "One key share."),
    f("nonce", FieldType::String, "The operation's nonce."),
];

const GENERATE_ROOT_FIELDS: &[FieldDef] = &[
    f(
        "otp",
        FieldType::String,
        "A base64 one-time pad (omit to have one generated).",
    ),
    f(
        "pgp_key",
        FieldType::String,
        "PGP public key to encrypt the new root token with.",
    ),
];

const CAPABILITIES_FIELDS: &[FieldDef] = &[
    f(
        "path",
        FieldType::StringList,
        "Paths to check (legacy name).",
    ),
    f("paths", FieldType::StringList, "Paths to check."),
    f("token", FieldType::String, "The token to check."),
];

const CAPABILITIES_SELF_FIELDS: &[FieldDef] = &[
    f(
        "path",
        FieldType::StringList,
        "Paths to check (legacy name).",
    ),
    f("paths", FieldType::StringList, "Paths to check."),
];

const CAPABILITIES_ACCESSOR_FIELDS: &[FieldDef] = &[
    f(
        "path",
        FieldType::StringList,
        "Paths to check (legacy name).",
    ),
    f("paths", FieldType::StringList, "Paths to check."),
    f("accessor", FieldType::String, "The accessor of the token."),
];

const TOKEN_FIELDS: &[FieldDef] = &[f("token", FieldType::String, "A wrapping token.")];

/// The client-facing `sys/` paths, relative to `sys/`, in the order
/// Coffer's hand-written dispatch matches them.
pub(crate) const SYS_PATHS: &[PathDef] = &[
    path(
        "init",
        INIT_FIELDS,
        READ_UPDATE,
        "Initialize a new server, or read whether it is.",
    ),
    path(
        "unseal",
        UNSEAL_FIELDS,
        UPDATE,
        "Give one unseal key share.",
    ),
    path("seal-status", &[], READ, "The seal status."),
    path("seal", &[], UPDATE, "Seal the server."),
    path(
        "rekey/init",
        REKEY_INIT_FIELDS,
        &[Read, Update, Delete],
        "Start, read or cancel a rekey.",
    ),
    path(
        "rekey/update",
        NONCE_KEY_FIELDS,
        UPDATE,
        "Give one key share for a rekey.",
    ),
    path(
        "generate-root/attempt",
        GENERATE_ROOT_FIELDS,
        &[Read, Update, Delete],
        "Start, read or cancel a root token generation.",
    ),
    path(
        "generate-root/update",
        NONCE_KEY_FIELDS,
        UPDATE,
        "Give one key share for a root token generation.",
    ),
    path(
        "capabilities",
        CAPABILITIES_FIELDS,
        UPDATE,
        "A token's capabilities on paths.",
    ),
    path(
        "capabilities-self",
        CAPABILITIES_SELF_FIELDS,
        UPDATE,
        "The caller's capabilities on paths.",
    ),
    path(
        "capabilities-accessor",
        CAPABILITIES_ACCESSOR_FIELDS,
        UPDATE,
        "The capabilities on paths of the token with an accessor.",
    ),
    path(
        "wrapping/lookup",
        TOKEN_FIELDS,
        &[Read, Update],
        "Look up a wrapping token.",
    ),
    path(
        "wrapping/unwrap",
        TOKEN_FIELDS,
        UPDATE,
        "Unwrap a wrapped response.",
    ),
    path(
        "wrapping/rewrap",
        TOKEN_FIELDS,
        UPDATE,
        "Rewrap a wrapped response under a new token.",
    ),
    path("key-status", &[], READ, "The barrier's key term."),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declaration_is_well_formed() {
        assert!(SYS_PATHS.len() >= 15);
        let mut seen = std::collections::HashSet::new();
        for p in SYS_PATHS {
            assert!(seen.insert(p.pattern), "{} declared twice", p.pattern);
            assert!(!p.operations.is_empty(), "{} has no operation", p.pattern);
            assert!(!p.pattern.starts_with('/') && !p.pattern.ends_with('/'));
            let mut names = std::collections::HashSet::new();
            for field in p.fields {
                assert!(names.insert(field.name), "{}: {}", p.pattern, field.name);
            }
        }
    }
}
