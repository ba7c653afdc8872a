//! Where the audit subsystem keeps its state in the barrier view the core
//! gives it: the device table, the checkpoint signing key, and per device its
//! salt and log head.

use coffer_storage::{Key, Storage, View, WriteOp};

use crate::device::{DeviceEntry, StoredHead};
use crate::{AuditError, Salt};

const TABLE: &str = "table";
const SIGNING_KEY: &str = "signing-key";

fn key(s: &str) -> Result<Key, AuditError> {
    Ok(Key::new(s)?)
}

fn salt_key(uuid: &str) -> Result<Key, AuditError> {
    key(&format!("device/{uuid}/salt"))
}

fn head_key(uuid: &str) -> Result<Key, AuditError> {
    key(&format!("device/{uuid}/head"))
}

/// The device table (empty when none was stored).
pub(crate) async fn load_table(view: &View) -> Result<Vec<DeviceEntry>, AuditError> {
    match view.get(&key(TABLE)?).await? {
        Some(raw) => serde_json::from_slice(&raw)
            .map_err(|e| AuditError::Internal(format!("decoding the audit table: {e}"))),
        None => Ok(Vec::new()),
    }
}

/// The write that stores `table`.
pub(crate) fn put_table(table: &[DeviceEntry]) -> Result<WriteOp, AuditError> {
    let raw = serde_json::to_vec(table)
        .map_err(|e| AuditError::Internal(format!("encoding the audit table: {e}")))?;
    Ok(WriteOp::Put(key(TABLE)?, raw))
}

/// The stored checkpoint signing key (PKCS#8), if any.
pub(crate) async fn load_signing_key(view: &View) -> Result<Option<Vec<u8>>, AuditError> {
    Ok(view.get(&key(SIGNING_KEY)?).await?)
}

/// Stores the checkpoint signing key.
pub(crate) async fn save_signing_key(view: &View, pkcs8: &[u8]) -> Result<(), AuditError> {
    Ok(view.put(&key(SIGNING_KEY)?, pkcs8.to_vec()).await?)
}

/// A device's salt.
pub(crate) async fn load_salt(view: &View, uuid: &str) -> Result<Salt, AuditError> {
    match view.get(&salt_key(uuid)?).await? {
        Some(raw) => Salt::from_bytes(&raw),
        None => Err(AuditError::Internal(format!(
            "the salt of audit device {uuid} is missing"
        ))),
    }
}

/// A device's stored head (`None` for a device that never wrote).
pub(crate) async fn load_head(view: &View, uuid: &str) -> Result<Option<StoredHead>, AuditError> {
    match view.get(&head_key(uuid)?).await? {
        Some(raw) => serde_json::from_slice(&raw).map(Some).map_err(|e| {
            AuditError::Internal(format!("decoding the head of audit device {uuid}: {e}"))
        }),
        None => Ok(None),
    }
}

/// The write that stores a device's head.
pub(crate) fn put_head(uuid: &str, stored: &StoredHead) -> Result<WriteOp, AuditError> {
    let raw = serde_json::to_vec(stored)
        .map_err(|e| AuditError::Internal(format!("encoding an audit log head: {e}")))?;
    Ok(WriteOp::Put(head_key(uuid)?, raw))
}

/// The write that stores a device's salt.
pub(crate) fn put_salt(uuid: &str, salt: &Salt) -> Result<WriteOp, AuditError> {
    Ok(WriteOp::Put(salt_key(uuid)?, salt.to_bytes()))
}

/// The writes that remove a device's salt and head.
pub(crate) fn delete_device(uuid: &str) -> Result<Vec<WriteOp>, AuditError> {
    Ok(vec![
        WriteOp::Delete(salt_key(uuid)?),
        WriteOp::Delete(head_key(uuid)?),
    ])
}
