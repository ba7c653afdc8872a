//! The mount tables: which engine or auth method lives at which path, with
//! what configuration. Persisted inside the barrier at `core/mounts` and
//! `core/auth`.

use crate::error::CoreError;
use std::time::Duration;

use coffer_storage::{Key, Prefix, Storage};
use coffer_types::Result;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Which table an entry belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Table {
    /// Secrets engines (`sys/mounts`).
    Secrets,
    /// Auth methods (`sys/auth`), routed under `auth/`.
    Auth,
}

impl Table {
    fn storage_key(self) -> &'static str {
        match self {
            Table::Secrets => "core/mounts",
            Table::Auth => "core/auth",
        }
    }

    /// The prefix requests use to reach a mount of this table.
    pub fn route_prefix(self) -> &'static str {
        match self {
            Table::Secrets => "",
            Table::Auth => "auth/",
        }
    }

    /// The storage prefix of a mount's view.
    pub fn view_prefix(self, entry: &MountEntry) -> Result<Prefix> {
        let p = match (self, entry.mount_type.as_str()) {
            (Table::Secrets, "system") => "sys/".to_owned(),
            (Table::Auth, "token") => "sys/token/".to_owned(),
            (Table::Secrets, _) => format!("logical/{}/", entry.uuid),
            (Table::Auth, _) => format!("auth/{}/", entry.uuid),
        };
        Ok(Prefix::new(p)?)
    }
}

/// Tunable settings of a mount, as `sys/mounts/:path/tune` shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct MountTuning {
    /// Default lease TTL in seconds (0 = the system default).
    pub default_lease_ttl: u64,
    /// Maximum lease TTL in seconds (0 = the system maximum).
    pub max_lease_ttl: u64,
    /// Disable caching (accepted for compatibility).
    pub force_no_cache: bool,
    /// `unauth` or `hidden`/"".
    pub listing_visibility: String,
    /// Request keys not HMAC-ed in audit records.
    pub audit_non_hmac_request_keys: Vec<String>,
    /// Response keys not HMAC-ed in audit records.
    pub audit_non_hmac_response_keys: Vec<String>,
    /// Request headers passed to the backend.
    pub passthrough_request_headers: Vec<String>,
    /// Response headers the backend may set.
    pub allowed_response_headers: Vec<String>,
}

/// One mounted engine or auth method.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MountEntry {
    /// Path within its table, with a trailing `/` (`secret/`, `token/`).
    pub path: String,
    /// Engine or method type (`kv`, `cubbyhole`, `token`).
    #[serde(rename = "type")]
    pub mount_type: String,
    /// Operator-supplied description.
    pub description: String,
    /// Unique accessor (`kv_1a2b3c4d`).
    pub accessor: String,
    /// Unique id; names the storage view.
    pub uuid: String,
    /// Tunables.
    pub config: MountTuning,
    /// Engine options (`version` for KV).
    pub options: Map<String, Value>,
    /// Local to this cluster (accepted for compatibility).
    pub local: bool,
    /// Seal wrapping (accepted for compatibility).
    pub seal_wrap: bool,
    /// Access to external entropy (accepted for compatibility).
    pub external_entropy_access: bool,
}

impl MountEntry {
    /// A new entry with fresh uuid and accessor.
    pub fn new(path: &str, mount_type: &str, description: &str) -> Result<Self> {
        let uuid = coffer_crypto::random_uuid().map_err(|source| CoreError::Crypto {
            doing: "generating mount id",
            source,
        })?;
        let suffix = coffer_crypto::random_alphanumeric(8)
            .map_err(|source| CoreError::Crypto {
                doing: "generating accessor",
                source,
            })?
            .to_ascii_lowercase();
        let accessor_type = if mount_type == "token" {
            "auth_token"
        } else {
            mount_type
        };
        Ok(Self {
            path: normalize_mount_path(path)?,
            mount_type: mount_type.to_owned(),
            description: description.to_owned(),
            accessor: format!("{accessor_type}_{suffix}"),
            uuid,
            config: MountTuning::default(),
            options: Map::new(),
            local: false,
            seal_wrap: false,
            external_entropy_access: false,
        })
    }

    /// Effective default and maximum lease TTLs given the system limits.
    pub fn ttls(&self, system_default: Duration, system_max: Duration) -> (Duration, Duration) {
        let max = match self.config.max_lease_ttl {
            0 => system_max,
            s => Duration::from_secs(s),
        };
        let default = match self.config.default_lease_ttl {
            0 => system_default,
            s => Duration::from_secs(s),
        };
        (default.min(max), max)
    }

    /// The entry as `sys/mounts` and `sys/auth` list it.
    pub fn to_api(&self) -> Value {
        json!({
            "type": self.mount_type,
            "description": self.description,
            "accessor": self.accessor,
            "uuid": self.uuid,
            "config": self.tuning_api(),
            "options": if self.options.is_empty() { Value::Null } else { Value::Object(self.options.clone()) },
            "local": self.local,
            "seal_wrap": self.seal_wrap,
            "external_entropy_access": self.external_entropy_access,
            "plugin_version": "",
            "running_plugin_version": format!("v{}+builtin.coffer", env!("CARGO_PKG_VERSION")),
            "running_sha256": "",
            "deprecation_status": "supported",
        })
    }

    /// The `config` block of [`MountEntry::to_api`].
    pub fn tuning_api(&self) -> Value {
        let mut config = json!({
            "default_lease_ttl": self.config.default_lease_ttl,
            "max_lease_ttl": self.config.max_lease_ttl,
            "force_no_cache": self.config.force_no_cache,
        });
        if let Value::Object(map) = &mut config {
            let lists = [
                (
                    "audit_non_hmac_request_keys",
                    &self.config.audit_non_hmac_request_keys,
                ),
                (
                    "audit_non_hmac_response_keys",
                    &self.config.audit_non_hmac_response_keys,
                ),
                (
                    "passthrough_request_headers",
                    &self.config.passthrough_request_headers,
                ),
                (
                    "allowed_response_headers",
                    &self.config.allowed_response_headers,
                ),
            ];
            for (name, list) in lists {
                if !list.is_empty() {
                    map.insert(name.into(), json!(list));
                }
            }
            if !self.config.listing_visibility.is_empty() {
                map.insert(
                    "listing_visibility".into(),
                    json!(self.config.listing_visibility),
                );
            }
        }
        config
    }
}

/// What an operator asks for when enabling a mount.
#[derive(Clone, Debug, Default)]
pub(crate) struct NewMount {
    /// Requested path.
    pub path: String,
    /// Engine or method type (already checked against the registry).
    pub mount_type: String,
    /// Description.
    pub description: String,
    /// Engine options.
    pub options: Map<String, Value>,
    /// Tunables.
    pub tuning: MountTuning,
    /// Compatibility flags: local, seal_wrap, external_entropy_access.
    pub flags: (bool, bool, bool),
}

impl NewMount {
    /// The entry to store, with fresh ids.
    pub fn into_entry(self) -> Result<MountEntry> {
        let mut entry = MountEntry::new(&self.path, &self.mount_type, &self.description)?;
        entry.options = self.options;
        entry.config = self.tuning;
        (entry.local, entry.seal_wrap, entry.external_entropy_access) = self.flags;
        Ok(entry)
    }
}

/// Normalises a user-supplied mount path: no leading `/`, one trailing `/`,
/// no empty, `.` or `..` segments.
pub(crate) fn normalize_mount_path(path: &str) -> Result<String> {
    let trimmed = path.trim_start_matches('/').trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(CoreError::EmptyMountPath.into());
    }
    if trimmed
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
        || trimmed.contains('\0')
    {
        return Err(CoreError::InvalidMountPath(trimmed.to_owned()).into());
    }
    Ok(format!("{trimmed}/"))
}

/// Persisted form of a table.
#[derive(Serialize, Deserialize)]
struct StoredTable {
    entries: Vec<MountEntry>,
}

/// Loads a table from the barrier (`None` when it was never written).
pub(crate) async fn load_table(
    storage: &dyn Storage,
    table: Table,
) -> Result<Option<Vec<MountEntry>>> {
    let key = Key::new(table.storage_key())?;
    match storage.get(&key).await? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice::<StoredTable>(&bytes)
            .map(|t| Some(t.entries))
            .map_err(|source| {
                CoreError::MountTableCorrupt {
                    key: table.storage_key().to_owned(),
                    source,
                }
                .into()
            }),
    }
}

/// Saves a table to the barrier.
pub(crate) async fn save_table(
    storage: &dyn Storage,
    table: Table,
    entries: &[MountEntry],
) -> Result<()> {
    let bytes = serde_json::to_vec(&StoredTable {
        entries: entries.to_vec(),
    })
    .map_err(|source| CoreError::Json {
        doing: "encoding mount table",
        source,
    })?;
    storage.put(&Key::new(table.storage_key())?, bytes).await?;
    Ok(())
}

/// The mounts a freshly initialised server has, as Vault's.
pub(crate) fn default_tables() -> Result<(Vec<MountEntry>, Vec<MountEntry>)> {
    let secrets = vec![
        MountEntry::new(
            "cubbyhole/",
            "cubbyhole",
            "per-token private secret storage",
        )?,
        MountEntry::new("identity/", "identity", "identity store")?,
        MountEntry::new(
            "sys/",
            "system",
            "system endpoints used for control, policy and debugging",
        )?,
    ];
    let auth = vec![MountEntry::new(
        "token/",
        "token",
        "token based credentials",
    )?];
    Ok((secrets, auth))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_paths_are_normalised_and_checked() {
        assert_eq!(normalize_mount_path("/secret").unwrap(), "secret/");
        assert_eq!(normalize_mount_path("a/b/").unwrap(), "a/b/");
        for bad in ["", "/", "a//b", "a/../b", "..", "a\0"] {
            assert!(normalize_mount_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ttls_fall_back_to_system_values() {
        let mut e = MountEntry::new("x/", "kv", "").unwrap();
        let day = Duration::from_secs(86_400);
        assert_eq!(e.ttls(day, 2 * day), (day, 2 * day));
        e.config.max_lease_ttl = 3600;
        assert_eq!(
            e.ttls(day, 2 * day),
            (Duration::from_secs(3600), Duration::from_secs(3600))
        );
    }
}
