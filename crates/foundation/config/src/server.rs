//! The top level of a configuration: which stanzas and settings there are,
//! read into a [`ServerConfig`].

use serde_json::{Map, Value};

use crate::stanza::{self, Labelled};
use crate::{ConfigError, DEFAULT_LEASE_TTL, ServerConfig, StorageConfig};
use crate::{listener, storage, value};

/// Top-level settings and stanzas Coffer reads.
const SUPPORTED: &[&str] = &[
    "storage",
    "backend",
    "listener",
    "default_lease_ttl",
    "max_lease_ttl",
    "disable_mlock",
    "disable_cache",
    "cache_size",
    "api_addr",
    "cluster_addr",
    "ui",
    "log_level",
    "audit",
    "disable_api_audit_creation",
];

/// Vault stanzas that carry a type label, warned about one per stanza with
/// the label (`seal "awskms"`).
const LABELLED_STANZAS: &[&str] = &[
    "seal",
    "ha_storage",
    "ha_backend",
    "service_registration",
    "entropy",
    "kms_library",
    "user_lockout",
];

/// The log levels Vault accepts (case-insensitive).
const LOG_LEVELS: &[&str] = &[
    "trace", "debug", "info", "notice", "warn", "warning", "err", "error",
];

/// Reads a whole configuration in its JSON form.
pub(crate) fn interpret(root: &Value) -> Result<ServerConfig, ConfigError> {
    let Value::Object(root) = root else {
        return Err(ConfigError::InvalidStanza {
            stanza: "top-level".to_owned(),
            reason: "expected an object of settings and stanzas".to_owned(),
        });
    };
    let mut warnings = Vec::new();
    let storage = read_storage(root, &mut warnings)?;
    let mut listeners = Vec::new();
    if let Some(v) = root.get("listener") {
        for stanza in stanza::labelled("listener", v)? {
            if stanza.label == "tcp" {
                listeners.push(listener::parse_tcp(&stanza, &mut warnings)?);
            } else {
                warnings.push(format!(
                    "listener {:?} is not supported by Coffer yet and was ignored",
                    stanza.label
                ));
            }
        }
    }
    let mut audit_devices = Vec::new();
    if let Some(v) = root.get("audit") {
        for stanza in stanza::labelled("audit", v)? {
            audit_devices.push(crate::audit::parse(&stanza)?);
        }
    }
    let ttl = |key: &str| -> Result<_, ConfigError> {
        let ttl = match root.get(key) {
            Some(v) => value::duration(v, key)?,
            None => DEFAULT_LEASE_TTL,
        };
        // As Vault's core does: zero means the default.
        Ok(if ttl.is_zero() {
            DEFAULT_LEASE_TTL
        } else {
            ttl
        })
    };
    let (default_lease_ttl, max_lease_ttl) = (ttl("default_lease_ttl")?, ttl("max_lease_ttl")?);
    if default_lease_ttl > max_lease_ttl {
        return Err(ConfigError::LeaseTtlOrder {
            default: coffer_types::format_duration(default_lease_ttl),
            max: coffer_types::format_duration(max_lease_ttl),
        });
    }
    let flag = |key: &str| root.get(key).map_or(Ok(false), |v| value::boolean(v, key));
    let text = |key: &str| {
        root.get(key)
            .map_or(Ok(None), |v| value::opt_string(v, key))
    };
    let log_level = text("log_level")?.map(|l| l.to_ascii_lowercase());
    if log_level
        .as_deref()
        .is_some_and(|l| !LOG_LEVELS.contains(&l))
    {
        return Err(ConfigError::invalid(
            "log_level",
            "expected one of trace, debug, info, warn, error",
        ));
    }
    for (key, v) in root
        .iter()
        .filter(|(k, _)| !SUPPORTED.contains(&k.as_str()))
    {
        warn_unsupported(key, v, &mut warnings);
    }
    Ok(ServerConfig {
        storage,
        listeners,
        default_lease_ttl,
        max_lease_ttl,
        disable_mlock: flag("disable_mlock")?,
        disable_cache: flag("disable_cache")?,
        cache_size: match root.get("cache_size") {
            Some(v) => value::positive(v, "cache_size")?,
            None => crate::DEFAULT_CACHE_SIZE,
        },
        api_addr: text("api_addr")?,
        cluster_addr: text("cluster_addr")?,
        ui: flag("ui")?,
        log_level,
        audit_devices,
        disable_api_audit_creation: flag("disable_api_audit_creation")?,
        warnings,
    })
}

/// The one `storage` stanza, or the legacy `backend` one.
fn read_storage(
    root: &Map<String, Value>,
    warnings: &mut Vec<String>,
) -> Result<StorageConfig, ConfigError> {
    let (name, v) = match (root.get("storage"), root.get("backend")) {
        (Some(v), backend) => {
            if backend.is_some() {
                warnings.push(
                    "both \"storage\" and \"backend\" are set; \"backend\" was ignored".to_owned(),
                );
            }
            ("storage", v)
        }
        (None, Some(v)) => ("backend", v),
        (None, None) => return Err(ConfigError::MissingStorage),
    };
    match stanza::labelled(name, v)?.as_slice() {
        [] => Err(ConfigError::MissingStorage),
        [one] => storage::parse(one, warnings),
        _ => Err(ConfigError::Duplicate(name)),
    }
}

/// Adds one warning per stanza (or one for a setting) Coffer does not read.
fn warn_unsupported(key: &str, v: &Value, warnings: &mut Vec<String>) {
    if LABELLED_STANZAS.contains(&key)
        && let Ok(stanzas) = stanza::labelled(key, v)
    {
        for Labelled { label, .. } in stanzas {
            warnings.push(format!(
                "{key} {label:?} stanza is not supported by Coffer yet and was ignored"
            ));
        }
        return;
    }
    match stanza::count_unlabelled(v) {
        Some(n) => warnings.extend(
            (0..n).map(|_| format!("{key} stanza is not supported by Coffer yet and was ignored")),
        ),
        None => warnings.push(format!(
            "{key:?} is not supported by Coffer yet and was ignored"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn minimal() -> Value {
        json!({"storage": {"inmem": {}}, "listener": {"tcp": {"tls_disable": 1}}})
    }

    #[test]
    fn defaults_fill_what_is_unset() {
        let c = interpret(&minimal()).unwrap();
        assert_eq!(c.storage, StorageConfig::InMemory);
        assert_eq!(c.default_lease_ttl, DEFAULT_LEASE_TTL);
        assert_eq!(c.max_lease_ttl, Duration::from_secs(2_764_800));
        assert!(!c.ui && !c.disable_mlock);
        assert_eq!(
            (c.api_addr, c.cluster_addr, c.log_level),
            (None, None, None)
        );
        assert!(c.warnings.is_empty());
    }

    #[test]
    fn zero_ttls_mean_the_default_and_order_is_checked() {
        let mut v = minimal();
        v["default_lease_ttl"] = json!("0");
        v["max_lease_ttl"] = json!(0);
        let c = interpret(&v).unwrap();
        assert_eq!(
            (c.default_lease_ttl, c.max_lease_ttl),
            (DEFAULT_LEASE_TTL, DEFAULT_LEASE_TTL)
        );
        v["default_lease_ttl"] = json!("48h");
        v["max_lease_ttl"] = json!("24h");
        assert_eq!(
            interpret(&v).unwrap_err().to_string(),
            "default_lease_ttl (48h0m0s) cannot be larger than max_lease_ttl (24h0m0s)"
        );
    }

    #[test]
    fn storage_presence_and_uniqueness() {
        assert!(matches!(
            interpret(&json!({})),
            Err(ConfigError::MissingStorage)
        ));
        assert!(matches!(
            interpret(&json!({"storage": {}})),
            Err(ConfigError::MissingStorage)
        ));
        let two = json!({"storage": {"inmem": {}, "raft": {"path": "/d"}}});
        assert_eq!(
            interpret(&two).unwrap_err().to_string(),
            "only one \"storage\" block is permitted"
        );
        let legacy = json!({"backend": {"file": {"path": "/d"}}});
        assert_eq!(
            interpret(&legacy).unwrap().storage,
            StorageConfig::Redb {
                path: "/d/coffer.redb".into(),
                page_cache_mb: crate::DEFAULT_REDB_PAGE_CACHE_MB,
            }
        );
        let both = json!({"backend": {"consul": {}}, "storage": {"inmem": {}}});
        let c = interpret(&both).unwrap();
        assert_eq!(c.storage, StorageConfig::InMemory);
        assert_eq!(c.warnings.len(), 1);
    }

    #[test]
    fn log_levels_are_checked() {
        let mut v = minimal();
        v["log_level"] = json!("Debug");
        assert_eq!(interpret(&v).unwrap().log_level.as_deref(), Some("debug"));
        v["log_level"] = json!("chatty");
        assert!(matches!(
            interpret(&v),
            Err(ConfigError::InvalidValue { .. })
        ));
    }

    #[test]
    fn unsupported_stanzas_and_settings_warn_one_line_each() {
        let mut v = minimal();
        v["seal"] = json!({"awskms": {"kms_key_id": "k"}});
        v["telemetry"] = json!({"statsite_address": "x"});
        v["plugin_directory"] = json!("/plugins");
        v["listener"] = json!([{"tcp": {"tls_disable": 1}}, {"unix": {"address": "/s"}}]);
        let c = interpret(&v).unwrap();
        let mut w = c.warnings.clone();
        w.sort();
        assert_eq!(
            w,
            [
                "\"plugin_directory\" is not supported by Coffer yet and was ignored",
                "listener \"unix\" is not supported by Coffer yet and was ignored",
                "seal \"awskms\" stanza is not supported by Coffer yet and was ignored",
                "telemetry stanza is not supported by Coffer yet and was ignored",
            ]
        );
        assert_eq!(c.listeners.len(), 1);
    }

    #[test]
    fn top_level_must_be_an_object() {
        assert!(matches!(
            interpret(&json!([1])),
            Err(ConfigError::InvalidStanza { .. })
        ));
    }
}
