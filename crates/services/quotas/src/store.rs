//! Persistence of quotas and configuration in the manager's storage view.
//!
//! Layout (relative to the view):
//! - `config`: the [`QuotaConfig`];
//! - `default_rate_limit_exempt_paths_toggle`: present once an operator has
//!   written the configuration (until then Vault's default exempt paths apply);
//! - `default_login_quota_created`: present once the default login quota has
//!   been created, so a deleted default stays deleted;
//! - `rate-limit/<name>`: one [`QuotaRecord`] per quota.

use coffer_storage::{Key, Prefix, Storage, View, WriteOp};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::QuotaConfig;
use crate::error::{QuotaError, shorten};
use crate::quota::{QuotaRecord, TYPE_RATE_LIMIT};

const CONFIG: &str = "config";
const EXEMPT_TOGGLE: &str = "default_rate_limit_exempt_paths_toggle";
const DEFAULT_LOGIN_MARKER: &str = "default_login_quota_created";

fn key(s: &str) -> Result<Key, QuotaError> {
    Ok(Key::new(s)?)
}

fn quota_key(name: &str) -> Result<Key, QuotaError> {
    key(&format!("{TYPE_RATE_LIMIT}/{name}"))
}

fn encode<T: Serialize>(value: &T, what: &'static str) -> Result<Vec<u8>, QuotaError> {
    serde_json::to_vec(value).map_err(|_| QuotaError::Encode(what))
}

fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, QuotaError> {
    serde_json::from_slice(bytes).map_err(|_| QuotaError::Corrupt(what.to_owned()))
}

/// The stored configuration, or the initial one when the operator has never
/// written it (Vault's default exempt paths).
pub(crate) async fn load_config(view: &View) -> Result<QuotaConfig, QuotaError> {
    let toggled = view.get(&key(EXEMPT_TOGGLE)?).await?.is_some();
    let stored: Option<QuotaConfig> = match view.get(&key(CONFIG)?).await? {
        Some(bytes) => Some(decode(&bytes, "quota configuration")?),
        None => None,
    };
    let mut config = stored.unwrap_or_default();
    if !toggled {
        config.rate_limit_exempt_paths = QuotaConfig::initial().rate_limit_exempt_paths;
    }
    Ok(config)
}

/// Stores the configuration and marks the exempt paths as operator-chosen.
pub(crate) async fn save_config(view: &View, config: &QuotaConfig) -> Result<(), QuotaError> {
    view.write_batch(vec![
        WriteOp::Put(key(CONFIG)?, encode(config, "quota configuration")?),
        WriteOp::Put(key(EXEMPT_TOGGLE)?, b"true".to_vec()),
    ])
    .await?;
    Ok(())
}

/// Every stored quota, validated.
pub(crate) async fn load_quotas(view: &View) -> Result<Vec<QuotaRecord>, QuotaError> {
    let prefix = Prefix::new(format!("{TYPE_RATE_LIMIT}/"))?;
    let mut out = Vec::new();
    for name in view.list(&prefix).await? {
        if name.ends_with('/') {
            continue;
        }
        let what = format!("quota {:?}", shorten(&name));
        let Some(bytes) = view.get(&quota_key(&name)?).await? else {
            continue;
        };
        let record: QuotaRecord = decode(&bytes, &what)?;
        if record.name != name {
            return Err(QuotaError::Corrupt(what));
        }
        record.validate()?;
        out.push(record);
    }
    Ok(out)
}

/// Stores one quota.
pub(crate) async fn save_quota(view: &View, record: &QuotaRecord) -> Result<(), QuotaError> {
    view.put(&quota_key(&record.name)?, encode(record, "quota")?)
        .await?;
    Ok(())
}

/// Stores several quotas in one atomic write.
pub(crate) async fn save_quotas(view: &View, records: &[QuotaRecord]) -> Result<(), QuotaError> {
    let ops = records
        .iter()
        .map(|r| Ok(WriteOp::Put(quota_key(&r.name)?, encode(r, "quota")?)))
        .collect::<Result<Vec<_>, QuotaError>>()?;
    view.write_batch(ops).await?;
    Ok(())
}

/// Removes one quota (absent is fine).
pub(crate) async fn delete_quota(view: &View, name: &str) -> Result<(), QuotaError> {
    view.delete(&quota_key(name)?).await?;
    Ok(())
}

/// Whether the default login quota was ever created.
pub(crate) async fn default_login_created(view: &View) -> Result<bool, QuotaError> {
    Ok(view.get(&key(DEFAULT_LOGIN_MARKER)?).await?.is_some())
}

/// Records that the default login quota exists, storing `record` with the
/// marker in one atomic write (`None`: only the marker, when a quota of that
/// name already exists).
pub(crate) async fn create_default_login(
    view: &View,
    record: Option<&QuotaRecord>,
) -> Result<(), QuotaError> {
    let mut ops = vec![WriteOp::Put(key(DEFAULT_LOGIN_MARKER)?, b"true".to_vec())];
    if let Some(record) = record {
        ops.push(WriteOp::Put(
            quota_key(&record.name)?,
            encode(record, "quota")?,
        ));
    }
    view.write_batch(ops).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_storage::MemoryStorage;
    use std::sync::Arc;

    fn view() -> View {
        View::new(
            Arc::new(MemoryStorage::new()),
            Prefix::new("sys/quotas/").unwrap(),
        )
    }

    fn record(name: &str) -> QuotaRecord {
        QuotaRecord {
            name: name.into(),
            mount_path: "secret/".into(),
            path_suffix: String::new(),
            rate: 2.5,
            interval_seconds: 1,
            block_interval_seconds: 0,
            login_default: false,
        }
    }

    #[tokio::test]
    async fn config_round_trip_and_default_exempt_paths() {
        let v = view();
        assert_eq!(load_config(&v).await.unwrap(), QuotaConfig::initial());
        let config = QuotaConfig {
            enable_rate_limit_audit_logging: true,
            enable_rate_limit_response_headers: false,
            rate_limit_exempt_paths: Vec::new(),
        };
        save_config(&v, &config).await.unwrap();
        // Once written, an empty list stays empty.
        assert_eq!(load_config(&v).await.unwrap(), config);
    }

    #[tokio::test]
    async fn quotas_round_trip() {
        let v = view();
        save_quota(&v, &record("a")).await.unwrap();
        save_quota(&v, &record("b")).await.unwrap();
        delete_quota(&v, "a").await.unwrap();
        delete_quota(&v, "never").await.unwrap();
        assert_eq!(load_quotas(&v).await.unwrap(), vec![record("b")]);
    }

    #[tokio::test]
    async fn corrupt_records_fail_loading() {
        let v = view();
        v.put(&quota_key("bad").unwrap(), b"{not json".to_vec())
            .await
            .unwrap();
        let err = load_quotas(&v).await.unwrap_err();
        assert!(matches!(err, QuotaError::Corrupt(_)));
        let v = view();
        let mut zero = record("zero");
        zero.rate = 0.0;
        save_quota(&v, &zero).await.unwrap();
        assert!(load_quotas(&v).await.is_err());
        let v = view();
        save_quota(&v, &record("x")).await.unwrap();
        let bytes = v.get(&quota_key("x").unwrap()).await.unwrap().unwrap();
        v.put(&quota_key("y").unwrap(), bytes).await.unwrap();
        assert!(load_quotas(&v).await.is_err());
    }

    #[tokio::test]
    async fn default_login_marker() {
        let v = view();
        assert!(!default_login_created(&v).await.unwrap());
        create_default_login(&v, Some(&record("default-login")))
            .await
            .unwrap();
        assert!(default_login_created(&v).await.unwrap());
        assert_eq!(load_quotas(&v).await.unwrap().len(), 1);
    }
}
