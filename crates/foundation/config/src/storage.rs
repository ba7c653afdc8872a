//! The `storage` stanza (and its legacy name, `backend`).

use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::stanza::Labelled;
use crate::value;
use crate::{ConfigError, DEFAULT_REDB_PAGE_CACHE_MB, StorageConfig};

/// The file Coffer keeps inside the directory of Vault's `file` and `raft`
/// storage.
const REDB_FILE: &str = "coffer.redb";

/// Reads one storage stanza, adding a warning per unsupported setting.
pub(crate) fn parse(
    stanza: &Labelled<'_>,
    warnings: &mut Vec<String>,
) -> Result<StorageConfig, ConfigError> {
    let kind = stanza.label;
    let name = format!("storage {kind:?}");
    let (config, known): (StorageConfig, &[&str]) = match kind {
        "inmem" => (StorageConfig::InMemory, &[]),
        "file" => (
            StorageConfig::Redb {
                path: required_path(&name, stanza.body)?.join(REDB_FILE),
                page_cache_mb: page_cache_mb(&name, stanza.body)?,
            },
            &["path", "page_cache_mb"],
        ),
        "raft" => (
            StorageConfig::Redb {
                path: required_path(&name, stanza.body)?.join(REDB_FILE),
                page_cache_mb: page_cache_mb(&name, stanza.body)?,
            },
            // A single node needs no id; accepting it keeps Vault files as they are.
            &["path", "node_id", "page_cache_mb"],
        ),
        "redb" => (
            StorageConfig::Redb {
                path: required_path(&name, stanza.body)?,
                page_cache_mb: page_cache_mb(&name, stanza.body)?,
            },
            &["path", "page_cache_mb"],
        ),
        other => return Err(ConfigError::UnsupportedStorage(other.to_owned())),
    };
    for key in stanza.body.keys().filter(|k| !known.contains(&k.as_str())) {
        warnings.push(format!(
            "{name}: {key:?} is not supported by Coffer yet and was ignored"
        ));
    }
    Ok(config)
}

/// `page_cache_mb`, or the default.
fn page_cache_mb(name: &str, body: &Map<String, Value>) -> Result<u64, ConfigError> {
    match body.get("page_cache_mb") {
        Some(v) => value::positive(v, &format!("{name}: page_cache_mb")),
        None => Ok(DEFAULT_REDB_PAGE_CACHE_MB),
    }
}

/// The non-empty `path` of a stanza.
fn required_path(name: &str, body: &Map<String, Value>) -> Result<PathBuf, ConfigError> {
    let path = match body.get("path") {
        Some(v) => value::opt_string(v, &format!("{name}: path"))?,
        None => None,
    };
    path.map(PathBuf::from).ok_or_else(|| ConfigError::Missing {
        stanza: name.to_owned(),
        key: "path",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn storage(label: &str, body: Value) -> (Result<StorageConfig, ConfigError>, Vec<String>) {
        let Value::Object(body) = body else {
            panic!("object")
        };
        let mut warnings = Vec::new();
        let got = parse(&Labelled { label, body: &body }, &mut warnings);
        (got, warnings)
    }

    #[test]
    fn maps_vault_storage_types_to_redb_files() {
        let (got, w) = storage("raft", json!({"path": "/vault/data", "node_id": "n1"}));
        assert_eq!(
            got.unwrap(),
            StorageConfig::Redb {
                path: "/vault/data/coffer.redb".into(),
                page_cache_mb: DEFAULT_REDB_PAGE_CACHE_MB,
            }
        );
        assert!(w.is_empty());
        let (got, _) = storage("file", json!({"path": "/vault/file"}));
        assert_eq!(
            got.unwrap(),
            StorageConfig::Redb {
                path: "/vault/file/coffer.redb".into(),
                page_cache_mb: DEFAULT_REDB_PAGE_CACHE_MB,
            }
        );
        let (got, _) = storage("redb", json!({"path": "/x/coffer.db"}));
        assert_eq!(
            got.unwrap(),
            StorageConfig::Redb {
                path: "/x/coffer.db".into(),
                page_cache_mb: DEFAULT_REDB_PAGE_CACHE_MB,
            }
        );
        let (got, _) = storage("inmem", json!({}));
        assert_eq!(got.unwrap(), StorageConfig::InMemory);
    }

    #[test]
    fn unsupported_settings_warn_once_each() {
        let (got, w) = storage(
            "raft",
            json!({"path": "/d", "retry_join": [{"leader_api_addr": "x"}], "performance_multiplier": 1}),
        );
        assert!(got.is_ok());
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w.iter()
                .any(|w| w.contains("storage \"raft\": \"retry_join\""))
        );
    }

    #[test]
    fn errors_name_the_type_or_the_missing_path() {
        let (got, _) = storage(
            "consul",
            json!({"address": "127.0.0.1:8500", "token": "s3cr3t"}),
        );
        let msg = got.unwrap_err().to_string();
        assert!(
            msg.contains("\"consul\"") && !msg.contains("s3cr3t"),
            "{msg}"
        );
        let (got, _) = storage("raft", json!({"node_id": "n1"}));
        assert_eq!(
            got.unwrap_err().to_string(),
            "storage \"raft\": \"path\" must be set"
        );
        let (got, _) = storage("file", json!({"path": ""}));
        assert!(matches!(got, Err(ConfigError::Missing { key: "path", .. })));
        let (got, _) = storage("redb", json!({"path": {"a": 1}}));
        assert!(matches!(got, Err(ConfigError::InvalidValue { .. })));
    }
}
