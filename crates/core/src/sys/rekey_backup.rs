//! `sys/rekey/backup` (and Vault's `sys/rekey/recovery-key-backup`): the
//! PGP-encrypted key shares a rekey with `backup: true` kept, so an
//! operator who lost the rekey's answer can fetch them again, and delete
//! them once every share is safe. A `sys/` piece ([`RekeyBackupPiece`], a
//! [`coffer_sdk::Backend`] over a path table relative to `sys/`).
//!
//! Vault keeps the backup in physical storage outside its barrier, at
//! `core/unseal-keys-backup`; here it is at that path inside the barrier,
//! since nothing reaches physical storage unencrypted. The endpoints need
//! a token whose policy allows `read`/`delete` on the path, and (as in
//! Vault) not `sudo`. [`save`] is what a completed rekey calls.

use crate::error::CoreError;
use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use base64::Engine as _;
use coffer_sdk::{Backend, Call, Path, PathDef, PathTable, Routes, handler};
use coffer_storage::{Key, Storage};
use coffer_types::{Error, Operation, Response, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, json};

use crate::pgp::EncryptedShares;

/// Where a rekey's backup is kept (Vault's path), inside the barrier.
const BARRIER_BACKUP_KEY: &str = "core/unseal-keys-backup";
/// Vault's path for the recovery keys' backup: no rekey here writes it
/// (there are no recovery keys), so it reads as absent.
const RECOVERY_BACKUP_KEY: &str = "core/recovery-keys-backup";

/// The stored backup: the rekey's nonce and, per key fingerprint, the
/// hex-encoded encrypted shares given to that key (a key given twice gets
/// two), as Vault's `RekeyBackup`.
#[derive(Debug, Serialize, Deserialize)]
struct Backup {
    nonce: String,
    keys: BTreeMap<String, Vec<String>>,
}

/// Stores the backup of a completed rekey (`nonce`) whose shares were
/// encrypted as `shares`, replacing any earlier one.
pub(crate) async fn save(
    storage: &dyn Storage,
    nonce: &str,
    shares: &EncryptedShares,
) -> Result<()> {
    let mut keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (fingerprint, share) in shares.fingerprints.iter().zip(&shares.hex) {
        keys.entry(fingerprint.clone())
            .or_default()
            .push(share.clone());
    }
    let backup = Backup {
        nonce: nonce.to_owned(),
        keys,
    };
    let bytes =
        serde_json::to_vec(&backup).map_err(|e| Error::json_encode("unseal key backup", &e))?;
    storage
        .put(&Key::new(BARRIER_BACKUP_KEY)?, bytes)
        .await
        .map_err(|source| {
            CoreError::BackupStorage {
                doing: "failed to save unseal key backup",
                source,
            }
            .into()
        })
}

/// The backup endpoints over the barrier's storage.
pub(crate) struct RekeyBackupPiece {
    storage: Arc<dyn Storage>,
}

impl RekeyBackupPiece {
    /// The piece reading and deleting backups in `storage` (the barrier).
    pub(crate) fn new(storage: Arc<dyn Storage>) -> Self {
        Self { storage }
    }
}

const SYNOPSIS: &str = "Read or delete the backup copy of PGP-encrypted unseal keys.";
const DESCRIPTION: &str = "Reads the PGP-encrypted key shares a rekey with 'backup' stored: the \
     rekey's nonce and, for each PGP key fingerprint, the encrypted shares as hex ('keys') and \
     base64 ('keys_base64'). Deleting removes them.";

static TABLE: LazyLock<PathTable<RekeyBackupPiece>> = LazyLock::new(|| {
    let def = |pattern| PathDef {
        pattern,
        fields: &[],
        operations: &[Operation::Read, Operation::Delete],
        existence_check: false,
        synopsis: SYNOPSIS,
        description: DESCRIPTION,
    };
    PathTable::new(vec![
        Path::new(def("rekey/backup"))
            .read(handler!(read_barrier))
            .delete(handler!(delete_barrier)),
        Path::new(def("rekey/recovery-key-backup"))
            .read(handler!(read_recovery))
            .delete(handler!(delete_recovery)),
    ])
});

async fn read_barrier(piece: &RekeyBackupPiece, _call: &Call<'_>) -> Result<Option<Response>> {
    read(piece, BARRIER_BACKUP_KEY).await
}

async fn read_recovery(piece: &RekeyBackupPiece, _call: &Call<'_>) -> Result<Option<Response>> {
    read(piece, RECOVERY_BACKUP_KEY).await
}

async fn delete_barrier(piece: &RekeyBackupPiece, _call: &Call<'_>) -> Result<Option<Response>> {
    delete(piece, BARRIER_BACKUP_KEY).await
}

async fn delete_recovery(piece: &RekeyBackupPiece, _call: &Call<'_>) -> Result<Option<Response>> {
    delete(piece, RECOVERY_BACKUP_KEY).await
}

/// `GET`: `{nonce, keys: {fingerprint: [hex]}, keys_base64: {fingerprint:
/// [base64]}}`, or Vault's 400 `no backed-up keys found`.
async fn read(piece: &RekeyBackupPiece, key: &str) -> Result<Option<Response>> {
    let Some(bytes) =
        piece
            .storage
            .get(&Key::new(key)?)
            .await
            .map_err(|source| CoreError::BackupStorage {
                doing: "unable to look up backed-up keys",
                source,
            })?
    else {
        return Err(CoreError::NoBackup.into());
    };
    let backup: Backup =
        serde_json::from_slice(&bytes).map_err(|e| Error::json_stored("unseal key backup", &e))?;
    let mut keys_base64 = BTreeMap::new();
    for (fingerprint, shares) in &backup.keys {
        let encoded = shares
            .iter()
            .map(|h| {
                hex::decode(h)
                    .map(|b| base64::engine::general_purpose::STANDARD.encode(b))
                    .map_err(|_| CoreError::BackupHex.into())
            })
            .collect::<Result<Vec<_>>>()?;
        keys_base64.insert(fingerprint.clone(), encoded);
    }
    let mut data = Map::new();
    data.insert("nonce".into(), json!(backup.nonce));
    data.insert("keys".into(), json!(backup.keys));
    data.insert("keys_base64".into(), json!(keys_base64));
    Ok(Some(Response::with_data(data)))
}

/// `DELETE`: removes the backup (204, whether there was one or not).
async fn delete(piece: &RekeyBackupPiece, key: &str) -> Result<Option<Response>> {
    piece
        .storage
        .delete(&Key::new(key)?)
        .await
        .map_err(|source| CoreError::BackupStorage {
            doing: "error deleting backup keys",
            source,
        })?;
    Ok(None)
}

impl Backend for RekeyBackupPiece {
    fn routes(&self) -> Routes<'_> {
        TABLE.bind(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use coffer_sdk::{Context, MountConfig, Services, SystemClock};
    use coffer_storage::{MemoryStorage, Prefix, View};
    use coffer_types::Request;

    fn piece() -> (RekeyBackupPiece, Arc<dyn Storage>, Context) {
        let mem: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let ctx = Context {
            storage: View::new(mem.clone(), Prefix::new("sys/").unwrap()),
            config: MountConfig::default(),
            clock: Arc::new(SystemClock),
            services: Services::default(),
        };
        (RekeyBackupPiece::new(mem.clone()), mem, ctx)
    }

    fn request(op: Operation, path: &str) -> Request {
        Request::new(op, path)
    }

    #[test]
    fn the_paths_are_vaults_and_need_no_sudo() {
        let defs = TABLE.declarations();
        assert_eq!(
            defs.iter().map(|d| d.pattern).collect::<Vec<_>>(),
            ["rekey/backup", "rekey/recovery-key-backup"]
        );
        for d in &defs {
            assert_eq!(d.operations, [Operation::Read, Operation::Delete]);
            assert!(d.fields.is_empty());
        }
        let special = TABLE.special_paths();
        assert!(special.root.is_empty() && special.unauthenticated.is_empty());
    }

    #[tokio::test]
    async fn save_read_delete() {
        let (piece, storage, ctx) = piece();
        let read = |path: &'static str| {
            let req = request(Operation::Read, path);
            let piece = &piece;
            let ctx = &ctx;
            async move { piece.handle(ctx, &req).await }
        };
        let none = read("rekey/backup").await.unwrap_err();
        assert_eq!(none.status(), 400);
        assert_eq!(none.messages(), ["no backed-up keys found"]);

        let shares = EncryptedShares {
            hex: vec!["c1c2".into(), "d1".into(), "e1".into()],
            base64: Vec::new(),
            fingerprints: vec!["aaaa".into(), "bbbb".into(), "aaaa".into()],
        };
        save(storage.as_ref(), "the-nonce", &shares).await.unwrap();
        let resp = read("rekey/backup").await.unwrap().unwrap();
        let data = serde_json::Value::Object(resp.data.unwrap());
        assert_eq!(
            data,
            json!({
                "nonce": "the-nonce",
                "keys": {"aaaa": ["c1c2", "e1"], "bbbb": ["d1"]},
                "keys_base64": {"aaaa": ["wcI=", "4Q=="], "bbbb": ["0Q=="]},
            })
        );
        // The recovery-key backup is another record, never written here.
        assert_eq!(
            read("rekey/recovery-key-backup")
                .await
                .unwrap_err()
                .messages(),
            ["no backed-up keys found"]
        );

        let req = request(Operation::Delete, "rekey/backup");
        assert!(piece.handle(&ctx, &req).await.unwrap().is_none());
        assert!(read("rekey/backup").await.is_err());
        // Deleting again is fine.
        assert!(piece.handle(&ctx, &req).await.unwrap().is_none());
    }
}
