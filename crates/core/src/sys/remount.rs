//! `sys/remount` and `sys/remount/status/:migration_id`: the mount-move
//! piece of the `sys/` backend, with Vault's paths, fields, messages and
//! asynchronous behaviour. A move is checked at once (400s as Vault's), then
//! runs in the background ([`crate::remount`]); its status is kept in memory,
//! as Vault keeps it, until the server seals.

use crate::error::CoreError;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::SystemTime;

use coffer_sdk::{Backend, Call, FieldDef, FieldType, Path, PathDef, PathTable, Routes, handler};
use coffer_types::{Error, Operation, Response, Result};
use serde_json::{Map, Value, json};

use crate::unsealed::Unsealed;

const REMOUNT_FIELDS: &[FieldDef] = &[
    FieldDef::new("from", FieldType::String, "The previous mount point.").required(),
    FieldDef::new("to", FieldType::String, "The new mount point.").required(),
];

const STATUS_FIELDS: &[FieldDef] = &[FieldDef::new(
    "migration_id",
    FieldType::String,
    "The ID of the migration operation",
)
.required()];

fn remount_def() -> PathDef {
    PathDef {
        pattern: "remount",
        fields: REMOUNT_FIELDS,
        operations: &[Operation::Update],
        existence_check: false,
        synopsis: "Move the mount point of an already-mounted backend, within or across namespaces",
        description: "Moves a secrets engine or an auth method (`auth/` prefix) to a new path. \
             The mount keeps its data and configuration; its leases (secrets or tokens) are \
             revoked. Answers a migration id at once; the move runs in the background.",
    }
}

fn status_def() -> PathDef {
    PathDef {
        pattern: "remount/status/:migration_id",
        fields: STATUS_FIELDS,
        operations: &[Operation::Read],
        existence_check: false,
        synopsis: "Check the status of a mount move operation",
        description: "The source and target mounts of a move and its status: in-progress, \
             success or failure.",
    }
}

static TABLE: LazyLock<PathTable<RemountSys>> = LazyLock::new(|| {
    PathTable::new(vec![
        Path::new(remount_def()).update(handler!(remount)).sudo(),
        Path::new(status_def()).read(handler!(status)),
    ])
});

/// Where a move stands (Vault's `MountMigrationStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MigrationStatus {
    InProgress,
    Success,
    Failure,
}

impl MigrationStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "in-progress",
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }
}

/// One move, as `sys/remount/status` reports it.
#[derive(Clone, Debug)]
struct MigrationInfo {
    source_mount: String,
    target_mount: String,
    status: MigrationStatus,
    /// When the move was asked for, by the server's clock (for the log line
    /// that reports how long it took).
    started: SystemTime,
}

/// The piece: the moves asked for since the unseal, and the unsealed state
/// the moves run on (held weakly: the piece is part of it).
pub(crate) struct RemountSys {
    unsealed: Weak<Unsealed>,
    migrations: Arc<Mutex<HashMap<String, MigrationInfo>>>,
}

impl RemountSys {
    /// The piece of the unsealed state `unsealed`.
    pub(crate) fn new(unsealed: Weak<Unsealed>) -> Self {
        Self {
            unsealed,
            migrations: Arc::default(),
        }
    }

    fn set_status(
        migrations: &Mutex<HashMap<String, MigrationInfo>>,
        id: &str,
        status: MigrationStatus,
    ) -> Option<MigrationInfo> {
        let mut map = migrations.lock().unwrap_or_else(|p| p.into_inner());
        let info = map.get_mut(id)?;
        info.status = status;
        Some(info.clone())
    }
}

/// `remount` (update, sudo): checks the move, records it in progress, starts
/// it in the background and answers `{migration_id}` with Vault's warning.
async fn remount(piece: &RemountSys, call: &Call<'_>) -> Result<Option<Response>> {
    let from = call.fields.get_string("from")?.unwrap_or_default();
    let to = call.fields.get_string("to")?.unwrap_or_default();
    let unsealed = piece.unsealed.upgrade().ok_or_else(Error::sealed)?;
    let plan = unsealed.plan_remount(&from, &to).await?;
    let id = coffer_crypto::random_uuid().map_err(|source| CoreError::Crypto {
        doing: "generating a migration id",
        source,
    })?;
    piece
        .migrations
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(
            id.clone(),
            MigrationInfo {
                source_mount: plan.from.clone(),
                target_mount: plan.to.clone(),
                status: MigrationStatus::InProgress,
                started: unsealed.config.clock.now(),
            },
        );
    let migrations = piece.migrations.clone();
    let migration_id = id.clone();
    tokio::spawn(async move {
        let result = unsealed.remount(&plan).await;
        let status = match &result {
            Ok(()) => MigrationStatus::Success,
            Err(_) => MigrationStatus::Failure,
        };
        let info = RemountSys::set_status(&migrations, &migration_id, status);
        let took = info
            .and_then(|i| unsealed.config.clock.now().duration_since(i.started).ok())
            .unwrap_or_default();
        match result {
            Ok(()) => tracing::info!(
                migration_id = %migration_id,
                from_path = %plan.from,
                to_path = %plan.to,
                seconds = took.as_secs(),
                "completed mount move operations"
            ),
            Err(e) => tracing::error!(
                migration_id = %migration_id,
                from_path = %plan.from,
                to_path = %plan.to,
                error = %e,
                "remount failed"
            ),
        }
    });
    let mut data = Map::new();
    data.insert("migration_id".into(), Value::String(id));
    Ok(Some(Response::with_data(data).warn(
        "Mount move has been queued. Progress will be reported in Vault's server log, tagged with the returned migration_id",
    )))
}

/// `remount/status/:migration_id` (read): `{migration_id, migration_info:
/// {source_mount, target_mount, status}}`; 404 for an unknown id.
async fn status(piece: &RemountSys, call: &Call<'_>) -> Result<Option<Response>> {
    let id = call.capture("migration_id");
    let info = piece
        .migrations
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(id)
        .cloned();
    let Some(info) = info else {
        return Ok(None);
    };
    let mut data = Map::new();
    data.insert("migration_id".into(), Value::String(id.to_owned()));
    data.insert(
        "migration_info".into(),
        json!({
            "source_mount": info.source_mount,
            "target_mount": info.target_mount,
            "status": info.status.as_str(),
        }),
    );
    Ok(Some(Response::with_data(data)))
}

impl Backend for RemountSys {
    fn routes(&self) -> Routes<'_> {
        TABLE.bind(self)
    }
}

#[cfg(test)]
mod tests {
    use coffer_sdk::special_path_matches;

    use super::*;

    #[test]
    fn declarations_and_sudo_are_vaults() {
        let piece = RemountSys::new(Weak::new());
        let decls: Vec<_> = piece
            .paths()
            .iter()
            .map(|d| (d.pattern, d.operations.to_vec()))
            .collect();
        assert_eq!(
            decls,
            vec![
                ("remount", vec![Operation::Update]),
                ("remount/status/:migration_id", vec![Operation::Read]),
            ]
        );
        let sudo = piece.special_paths().root;
        assert!(special_path_matches(&sudo, "remount"));
        assert!(!special_path_matches(&sudo, "remount/status/abc"));
        assert!(piece.special_paths().unauthenticated.is_empty());
    }
}
