//! The seal lifecycle's `sys/` paths: `init`, `seal-status`, `unseal`,
//! `health`, `leader`, `rekey/*` and `generate-root/*`. They need no token
//! and must answer while the server is sealed, when there is no router and
//! no mount table, so [`LifecyclePiece`] belongs to the [`Core`] itself: the
//! core answers the paths it declares before its seal check (and, as Vault's
//! HTTP handlers for them, without quotas or audit). The unsealed `sys/`
//! backend includes the same piece, so help and OpenAPI describe these paths
//! with the rest of `sys/`.
//!
//! The handlers live with the state they drive ([`super::status`],
//! [`crate::rekey`], [`crate::generate_root`]); this file declares the paths
//! and their fields.

use std::sync::Weak;

use coffer_sdk::{Backend, Call, FieldDef, FieldType, Path, PathDef, PathTable, Routes, handler};
use coffer_types::Operation::{self, Delete, Read, Update};
use coffer_types::{Response, Result};

use crate::Core;

/// The seal lifecycle's paths over the core that owns them.
pub(crate) struct LifecyclePiece {
    core: super::CoreHandle,
    table: PathTable<LifecyclePiece>,
}

impl LifecyclePiece {
    /// The piece answering for `core` (a weak pointer: the core owns it).
    pub(crate) fn new(core: Weak<Core>) -> Self {
        Self {
            core: super::CoreHandle::new(core),
            table: PathTable::new(paths()),
        }
    }
}

impl Backend for LifecyclePiece {
    fn routes(&self) -> Routes<'_> {
        self.table.bind(self)
    }
}

const fn f(name: &'static str, kind: FieldType, description: &'static str) -> FieldDef {
    FieldDef::new(name, kind, description)
}

const fn def(
    pattern: &'static str,
    fields: &'static [FieldDef],
    operations: &'static [Operation],
    synopsis: &'static str,
    description: &'static str,
) -> PathDef {
    PathDef {
        pattern,
        fields,
        operations,
        existence_check: false,
        synopsis,
        description,
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
        "PGP public keys to encrypt the shares with, one per share.",
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
    f(
        "recovery_pgp_keys",
        FieldType::StringList,
        "PGP public keys to encrypt the recovery shares with (auto-unseal only).",
    ),
];

const UNSEAL_FIELDS: &[FieldDef] = &[
    f(
        "key",
        FieldType::String,
        "One unseal key share (hex or base64).",
    )
    .sensitive(),
    f("reset", FieldType::Bool, "Discard the shares given so far."),
    f("migrate", FieldType::Bool, "Seal migration in progress."),
];

const HEALTH_FIELDS: &[FieldDef] = &[
    f(
        "standbyok",
        FieldType::Bool,
        "Answer a standby node with the active code.",
    ),
    f(
        "perfstandbyok",
        FieldType::Bool,
        "Answer a performance standby with the active code.",
    ),
    f(
        "activecode",
        FieldType::Int,
        "Status code for an active node.",
    ),
    f("standbycode", FieldType::Int, "Status code for a standby."),
    f(
        "drsecondarycode",
        FieldType::Int,
        "Status code for a DR secondary.",
    ),
    f(
        "performancestandbycode",
        FieldType::Int,
        "Status code for a performance standby.",
    ),
    f("sealedcode", FieldType::Int, "Status code when sealed."),
    f(
        "uninitcode",
        FieldType::Int,
        "Status code when not initialized.",
    ),
    f(
        "removedcode",
        FieldType::Int,
        "Status code for a node removed from its cluster.",
    ),
    f(
        "haunhealthycode",
        FieldType::Int,
        "Status code for an unhealthy HA node.",
    ),
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
    f(
        "backup",
        FieldType::Bool,
        "Store the PGP-encrypted shares for sys/rekey/backup.",
    ),
    f(
        "require_verification",
        FieldType::Bool,
        "Require the new shares to be verified before they take effect.",
    ),
    f(
        "nonce",
        FieldType::String,
        "The nonce of the rekey to cancel (DELETE).",
    ),
];

const NONCE_KEY_FIELDS: &[FieldDef] = &[
    f("key", FieldType::String, "One key share.").sensitive(),
    f("nonce", FieldType::String, "The operation's nonce."),
];

const GENERATE_ROOT_FIELDS: &[FieldDef] = &[
    f(
        "otp",
        FieldType::String,
        "A base64 one-time pad (omit to have one generated).",
    )
    .sensitive(),
    f(
        "pgp_key",
        FieldType::String,
        "PGP public key to encrypt the new root token with.",
    ),
    f(
        "nonce",
        FieldType::String,
        "The nonce of the attempt to cancel (DELETE).",
    ),
];

/// The lifecycle's paths, relative to `sys/`, each marked unauthenticated.
fn paths() -> Vec<Path<LifecyclePiece>> {
    vec![
        Path::new(def(
            "init",
            INIT_FIELDS,
            &[Read, Update],
            "Initialize a new server, or read whether it is.",
            "Reads whether the server is initialized; initializes it, splitting the root key \
             into key shares.",
        ))
        .read(handler!(init))
        .update(handler!(init)),
        Path::new(def(
            "seal-status",
            &[],
            &[Read],
            "The seal status.",
            "Whether the server is sealed, and the progress of unsealing it.",
        ))
        .read(handler!(seal_status)),
        Path::new(def(
            "unseal",
            UNSEAL_FIELDS,
            &[Update],
            "Give one unseal key share.",
            "Gives one key share; once the threshold is reached, the server unseals.",
        ))
        .update(handler!(unseal)),
        Path::new(def(
            "health",
            HEALTH_FIELDS,
            &[Read],
            "The server's health, as a status code.",
            "The server's initialization, seal and HA state; the status code says it too, and \
             the query parameters override each code.",
        ))
        .read(handler!(health)),
        Path::new(def(
            "leader",
            &[],
            &[Read],
            "The HA leader.",
            "Whether HA is enabled and which node is the active one.",
        ))
        .read(handler!(leader)),
        Path::new(def(
            "rekey/init",
            REKEY_INIT_FIELDS,
            &[Read, Update, Delete],
            "Start, read or cancel a rekey.",
            "Starts a rekey (new key shares), reads its progress, or cancels it with its nonce.",
        ))
        .read(handler!(rekey))
        .update(handler!(rekey))
        .delete(handler!(rekey)),
        Path::new(def(
            "rekey/update",
            NONCE_KEY_FIELDS,
            &[Update],
            "Give one key share for a rekey.",
            "Gives one current key share; once the threshold is reached, the new shares are made.",
        ))
        .update(handler!(rekey)),
        Path::new(def(
            "rekey/verify",
            NONCE_KEY_FIELDS,
            &[Read, Update, Delete],
            "Verify the new key shares of a rekey.",
            "Reads the verification's progress, gives one new key share, or restarts the \
             verification.",
        ))
        .read(handler!(rekey))
        .update(handler!(rekey))
        .delete(handler!(rekey)),
        Path::new(def(
            "generate-root/attempt",
            GENERATE_ROOT_FIELDS,
            &[Read, Update, Delete],
            "Start, read or cancel a root token generation.",
            "Starts generating a root token (with a one-time pad or a PGP key), reads its \
             progress, or cancels it.",
        ))
        .read(handler!(generate_root))
        .update(handler!(generate_root))
        .delete(handler!(generate_root)),
        Path::new(def(
            "generate-root/update",
            NONCE_KEY_FIELDS,
            &[Update],
            "Give one key share for a root token generation.",
            "Gives one key share; once the threshold is reached, the encoded root token is \
             returned.",
        ))
        .update(handler!(generate_root)),
    ]
    .into_iter()
    .map(Path::unauthenticated)
    .collect()
}

async fn init(p: &LifecyclePiece, call: &Call<'_>) -> Result<Option<Response>> {
    let core = p.core.get()?;
    super::status::init(&core, call.req).await.map(Some)
}

async fn seal_status(p: &LifecyclePiece, call: &Call<'_>) -> Result<Option<Response>> {
    let core = p.core.get()?;
    super::status::seal_status(&core, call.req.op())
        .await
        .map(Some)
}

async fn unseal(p: &LifecyclePiece, call: &Call<'_>) -> Result<Option<Response>> {
    let core = p.core.get()?;
    super::status::unseal(&core, call.req).await.map(Some)
}

async fn health(p: &LifecyclePiece, call: &Call<'_>) -> Result<Option<Response>> {
    let core = p.core.get()?;
    super::status::health(&core, call.req).await.map(Some)
}

async fn leader(p: &LifecyclePiece, call: &Call<'_>) -> Result<Option<Response>> {
    let core = p.core.get()?;
    super::status::leader(&core, call.req.op()).await.map(Some)
}

async fn rekey(p: &LifecyclePiece, call: &Call<'_>) -> Result<Option<Response>> {
    let core = p.core.get()?;
    crate::rekey::handle(&core, &call.req.relative_path, call.req)
        .await
        .map(Some)
}

async fn generate_root(p: &LifecyclePiece, call: &Call<'_>) -> Result<Option<Response>> {
    let core = p.core.get()?;
    crate::generate_root::handle(&core, &call.req.relative_path, call.req)
        .await
        .map(Some)
}
