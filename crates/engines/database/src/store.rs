//! Typed records in the mount's storage: `config/`, `role/`, `static-role/`.

use coffer_sdk::storage::{Key, Prefix, Storage, View};
use coffer_types::Result;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::DatabaseError;

/// Where each kind of record lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Config,
    Role,
    StaticRole,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Config => "config/",
            Kind::Role => "role/",
            Kind::StaticRole => "static-role/",
        }
    }
}

fn key(kind: Kind, name: &str) -> Result<Key> {
    Ok(Key::new(format!("{}{name}", kind.prefix()))?)
}

/// Reads a record.
pub(crate) async fn get<T: DeserializeOwned>(
    view: &View,
    kind: Kind,
    name: &str,
) -> Result<Option<T>> {
    let key = key(kind, name)?;
    match view.get(&key).await? {
        None => Ok(None),
        Some(raw) => serde_json::from_slice(&raw).map(Some).map_err(|source| {
            DatabaseError::CorruptRecord {
                key: key.to_string(),
                source,
            }
            .into()
        }),
    }
}

/// Writes a record.
pub(crate) async fn put<T: Serialize>(
    view: &View,
    kind: Kind,
    name: &str,
    value: &T,
) -> Result<()> {
    let raw = serde_json::to_vec(value).map_err(DatabaseError::Encode)?;
    Ok(view.put(&key(kind, name)?, raw).await?)
}

/// Deletes a record (no error when absent).
pub(crate) async fn delete(view: &View, kind: Kind, name: &str) -> Result<()> {
    Ok(view.delete(&key(kind, name)?).await?)
}

/// The names of every record of a kind, sorted.
pub(crate) async fn list(view: &View, kind: Kind) -> Result<Vec<String>> {
    let mut names: Vec<String> = view
        .list(&Prefix::new(kind.prefix())?)
        .await?
        .into_iter()
        .filter(|k| !k.ends_with('/'))
        .collect();
    names.sort();
    Ok(names)
}
