//! `sys/mounts` and `sys/auth`: list, enable, read, disable and tune the
//! secrets engines and auth methods. The core's mount piece of the `sys/`
//! backend: a [`Backend`] over one [`PathTable`] relative to `sys/`, with
//! Vault's paths, fields and sudo (`auth/*`); it holds the unsealed state
//! weakly because it is part of it.

use crate::error::CoreError;
use std::sync::{LazyLock, Weak};

use coffer_sdk::{
    Backend, Call, FieldDef, FieldDefault, FieldType, Path, PathDef, PathTable, Routes, handler,
};
use coffer_types::duration::parse_duration_value;
use coffer_types::{Error, Operation, Response, Result};
use serde_json::{Map, Value, json};

use crate::mounts::{MountEntry, MountTuning, NewMount, Table};
use crate::unsealed::{Unsealed, catalog_kind};

const fn f(name: &'static str, kind: FieldType, description: &'static str) -> FieldDef {
    FieldDef::new(name, kind, description)
}

/// The body of the `tune` endpoints (Vault's `mountTune` fields that Coffer
/// applies), and the keys of the mount endpoints' `config` object.
const TUNE_FIELDS: &[FieldDef] = &[
    f("path", FieldType::String, "The path of the mount to tune."),
    f(
        "default_lease_ttl",
        FieldType::String,
        "The default lease duration, or \"system\".",
    ),
    f(
        "max_lease_ttl",
        FieldType::String,
        "The maximum lease duration, or \"system\".",
    ),
    f(
        "description",
        FieldType::String,
        "Human-friendly description.",
    ),
    f(
        "force_no_cache",
        FieldType::Bool,
        "Whether to disable caching.",
    ),
    f(
        "listing_visibility",
        FieldType::String,
        "\"unauth\", \"hidden\" or empty.",
    ),
    f(
        "audit_non_hmac_request_keys",
        FieldType::StringList,
        "Request keys the audit devices do not HMAC.",
    ),
    f(
        "audit_non_hmac_response_keys",
        FieldType::StringList,
        "Response keys the audit devices do not HMAC.",
    ),
    f(
        "passthrough_request_headers",
        FieldType::StringList,
        "Request headers passed to the backend.",
    ),
    f(
        "allowed_response_headers",
        FieldType::StringList,
        "Response headers the backend may set.",
    ),
    f("options", FieldType::Map, "Mount options (KV's version)."),
];

/// The body of `mounts/:path` and `auth/:path` (enable).
const MOUNT_FIELDS: &[FieldDef] = &[
    f(
        "path",
        FieldType::String,
        "The path to mount to. Example: \"aws/east\"",
    ),
    f(
        "type",
        FieldType::String,
        "The type of the backend (\"kv\", \"userpass\", ...).",
    )
    .required(),
    f(
        "description",
        FieldType::String,
        "Human-friendly description.",
    ),
    f(
        "config",
        FieldType::Map,
        "Configuration: default_lease_ttl, max_lease_ttl, force_no_cache, ...",
    ),
    f("options", FieldType::Map, "Mount options (KV's version)."),
    f("local", FieldType::Bool, "A local mount (not replicated).")
        .default(FieldDefault::Bool(false)),
    f(
        "seal_wrap",
        FieldType::Bool,
        "Seal-wrap the mount's storage.",
    )
    .default(FieldDefault::Bool(false)),
    f(
        "external_entropy_access",
        FieldType::Bool,
        "Access to external entropy.",
    )
    .default(FieldDefault::Bool(false)),
    f(
        "plugin_version",
        FieldType::String,
        "The semantic version of the plugin to use.",
    ),
];

const fn def(
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

const READ: &[Operation] = &[Operation::Read];
const READ_UPDATE: &[Operation] = &[Operation::Read, Operation::Update];
const READ_UPDATE_DELETE: &[Operation] = &[Operation::Read, Operation::Update, Operation::Delete];

static TABLE: LazyLock<PathTable<MountsPiece>> = LazyLock::new(|| {
    // The tune paths come before the general ones, which match them too: a
    // path ending in `/tune` tunes the mount before it, as Vault's
    // `mounts/(?P<path>.+?)/tune$` does.
    PathTable::new(vec![
        Path::new(def(
            "mounts",
            &[],
            READ,
            "List the mounted secrets engines.",
        ))
        .read(handler!(list)),
        Path::new(def(
            "mounts/*path/tune",
            TUNE_FIELDS,
            READ_UPDATE,
            "Tune a secrets engine.",
        ))
        .read(handler!(read_tune))
        .update(handler!(tune)),
        Path::new(def(
            "mounts/*path",
            MOUNT_FIELDS,
            READ_UPDATE_DELETE,
            "Enable, read or disable a secrets engine.",
        ))
        .read(handler!(read_mount))
        .update(handler!(enable))
        .delete(handler!(disable)),
        Path::new(def("auth", &[], READ, "List the enabled auth methods.")).read(handler!(list)),
        Path::new(def(
            "auth/*path/tune",
            TUNE_FIELDS,
            READ_UPDATE,
            "Tune an auth method.",
        ))
        .read(handler!(read_tune))
        .update(handler!(tune))
        .sudo(),
        Path::new(def(
            "auth/*path",
            MOUNT_FIELDS,
            READ_UPDATE_DELETE,
            "Enable, read or disable an auth method.",
        ))
        .read(handler!(read_mount))
        .update(handler!(enable))
        .delete(handler!(disable))
        .sudo(),
    ])
});

/// The piece: the mount tables live in the unsealed state it belongs to.
pub(crate) struct MountsPiece {
    unsealed: Weak<Unsealed>,
}

impl MountsPiece {
    /// The piece of the unsealed state `unsealed`.
    pub(crate) fn new(unsealed: Weak<Unsealed>) -> Self {
        Self { unsealed }
    }

    fn unsealed(&self) -> Result<std::sync::Arc<Unsealed>> {
        self.unsealed.upgrade().ok_or_else(Error::sealed)
    }
}

/// The table a request is about: `auth/...` the auth methods, `mounts/...`
/// the secrets engines.
fn table_of(call: &Call<'_>) -> Table {
    if call.req.relative_path.starts_with("auth") {
        Table::Auth
    } else {
        Table::Secrets
    }
}

fn list_response(entries: &[MountEntry]) -> Result<Option<Response>> {
    let mut data = Map::new();
    for e in entries {
        data.insert(e.path.clone(), e.to_api());
    }
    Ok(Some(Response::with_data(data)))
}

/// A value of the request's `config` object or of a tune body.
type Source<'a> = &'a dyn Fn(&str) -> Option<&'a Value>;

fn string_list(value: &Value, name: &str) -> Result<Vec<String>> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| CoreError::TuneNotAStringList(name.to_owned()).into())
            })
            .collect(),
        _ => Err(CoreError::TuneNotAStringList(name.to_owned()).into()),
    }
}

fn ttl_seconds(value: &Value, name: &str) -> Result<u64> {
    if value.as_str() == Some("system") {
        return Ok(0);
    }
    parse_duration_value(value)
        .map(|d| d.as_secs())
        .map_err(|source| {
            CoreError::TuneTtl {
                name: name.to_owned(),
                source,
            }
            .into()
        })
}

fn tune_response(unsealed: &Unsealed, entry: &MountEntry) -> Result<Option<Response>> {
    let (default, max) = entry.ttls(
        unsealed.config.default_lease_ttl,
        unsealed.config.max_lease_ttl,
    );
    let mut data = match entry.tuning_api() {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    data.insert("default_lease_ttl".into(), json!(default.as_secs()));
    data.insert("max_lease_ttl".into(), json!(max.as_secs()));
    data.insert("description".into(), json!(entry.description));
    if !entry.options.is_empty() {
        data.insert("options".into(), Value::Object(entry.options.clone()));
    }
    Ok(Some(Response::with_data(data)))
}

async fn find(unsealed: &Unsealed, table: Table, path: &str) -> Result<MountEntry> {
    let path = crate::mounts::normalize_mount_path(path)?;
    unsealed
        .table(table)
        .await
        .into_iter()
        .find(|e| e.path == path)
        .ok_or_else(|| {
            CoreError::NothingMounted {
                kind: match table {
                    Table::Secrets => "secret engine",
                    Table::Auth => "auth engine",
                },
                path: path.to_owned(),
            }
            .into()
        })
}

/// Applies the tuning fields `get` gives onto `tuning`, validating TTLs against
/// each other and the system maximum.
fn apply_tuning(unsealed: &Unsealed, tuning: &mut MountTuning, get: Source<'_>) -> Result<()> {
    if let Some(v) = get("default_lease_ttl") {
        tuning.default_lease_ttl = ttl_seconds(v, "default_lease_ttl")?;
    }
    if let Some(v) = get("max_lease_ttl") {
        tuning.max_lease_ttl = ttl_seconds(v, "max_lease_ttl")?;
    }
    if let Some(v) = get("force_no_cache") {
        tuning.force_no_cache = v.as_bool().ok_or(CoreError::ForceNoCacheNotBool)?;
    }
    if let Some(v) = get("listing_visibility") {
        let vis = v.as_str().ok_or(CoreError::ListingVisibilityNotString)?;
        if !["", "unauth", "hidden"].contains(&vis) {
            return Err(CoreError::InvalidListingVisibility(vis.to_owned()).into());
        }
        tuning.listing_visibility = vis.to_owned();
    }
    let lists: [(&str, &mut Vec<String>); 4] = [
        (
            "audit_non_hmac_request_keys",
            &mut tuning.audit_non_hmac_request_keys,
        ),
        (
            "audit_non_hmac_response_keys",
            &mut tuning.audit_non_hmac_response_keys,
        ),
        (
            "passthrough_request_headers",
            &mut tuning.passthrough_request_headers,
        ),
        (
            "allowed_response_headers",
            &mut tuning.allowed_response_headers,
        ),
    ];
    for (name, target) in lists {
        if let Some(v) = get(name) {
            *target = string_list(v, name)?;
        }
    }
    let system_max = unsealed.config.max_lease_ttl.as_secs();
    if tuning.max_lease_ttl > system_max {
        return Err(CoreError::MaxTtlAboveSystem.into());
    }
    let effective_max = if tuning.max_lease_ttl == 0 {
        system_max
    } else {
        tuning.max_lease_ttl
    };
    if tuning.default_lease_ttl > effective_max {
        return Err(CoreError::DefaultTtlAboveMax.into());
    }
    Ok(())
}

/// `mounts`, `auth` (read): every mount of the table, keyed by path.
async fn list(piece: &MountsPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let unsealed = piece.unsealed()?;
    list_response(&unsealed.table(table_of(call)).await)
}

/// `mounts/*path`, `auth/*path` (read): one mount.
async fn read_mount(piece: &MountsPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let unsealed = piece.unsealed()?;
    let entry = find(&unsealed, table_of(call), call.capture("path")).await?;
    match entry.to_api() {
        Value::Object(m) => Ok(Some(Response::with_data(m))),
        _ => Err(CoreError::MountEntryNotObject.into()),
    }
}

/// `mounts/*path`, `auth/*path` (delete): disable.
async fn disable(piece: &MountsPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let unsealed = piece.unsealed()?;
    unsealed
        .unmount(table_of(call), call.capture("path"))
        .await?;
    Ok(None)
}

/// `mounts/*path/tune`, `auth/*path/tune` (read): the mount's tuning.
async fn read_tune(piece: &MountsPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let unsealed = piece.unsealed()?;
    let entry = find(&unsealed, table_of(call), call.capture("path")).await?;
    tune_response(&unsealed, &entry)
}

/// `mounts/*path`, `auth/*path` (update): enable.
async fn enable(piece: &MountsPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let unsealed = piece.unsealed()?;
    let table = table_of(call);
    let requested = call.fields.get_string("type")?.unwrap_or_default();
    if requested.is_empty() {
        return Err(CoreError::BackendTypeMissing.into());
    }
    let mut options = call.fields.get_map("options")?.cloned().unwrap_or_default();
    for value in options.values_mut() {
        if let Value::Number(n) = value {
            *value = Value::String(n.to_string());
        }
    }
    let mount_type =
        unsealed
            .config
            .catalog
            .check_enable(catalog_kind(table), &requested, &mut options)?;
    let mut tuning = MountTuning::default();
    if let Some(config) = call.fields.get_map("config")? {
        apply_tuning(&unsealed, &mut tuning, &|k| config.get(k))?;
    }
    let flag = |name: &str| call.fields.get_bool(name).map(Option::unwrap_or_default);
    let request = NewMount {
        path: call.capture("path").to_owned(),
        mount_type,
        description: call.fields.get_string("description")?.unwrap_or_default(),
        options,
        tuning,
        flags: (
            flag("local")?,
            flag("seal_wrap")?,
            flag("external_entropy_access")?,
        ),
    };
    unsealed.mount(table, request).await?;
    Ok(None)
}

/// `mounts/*path/tune`, `auth/*path/tune` (update): tune.
async fn tune(piece: &MountsPiece, call: &Call<'_>) -> Result<Option<Response>> {
    let unsealed = piece.unsealed()?;
    let table = table_of(call);
    let current = find(&unsealed, table, call.capture("path")).await?;
    let mut tuning = current.config.clone();
    apply_tuning(&unsealed, &mut tuning, &|k| call.fields.raw(k))?;
    let description = call.fields.get_string("description")?;
    let options = call.fields.get_map("options")?.cloned();
    if let Some(opts) = &options {
        let old = current
            .options
            .get("version")
            .and_then(Value::as_str)
            .unwrap_or("1");
        let new = opts.get("version").map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        let is_kv = unsealed
            .config
            .catalog
            .canonical(catalog_kind(table), &current.mount_type)
            == Some("kv");
        if is_kv && new.is_some_and(|n| n != old) {
            return Err(CoreError::KvVersionChange.into());
        }
    }
    unsealed
        .tune(table, &current.path, |e| {
            e.config = tuning;
            if let Some(d) = description {
                e.description = d;
            }
            if let Some(opts) = options {
                for (k, v) in opts {
                    let v = match v {
                        Value::Number(n) => Value::String(n.to_string()),
                        other => other,
                    };
                    e.options.insert(k, v);
                }
            }
            Ok(())
        })
        .await?;
    Ok(None)
}

impl Backend for MountsPiece {
    fn routes(&self) -> Routes<'_> {
        TABLE.bind(self)
    }
}

#[cfg(test)]
mod tests {
    use coffer_sdk::special_path_matches;
    use serde_json::json;

    use super::*;

    #[test]
    fn declarations_and_sudo_are_vaults() {
        let piece = MountsPiece::new(Weak::new());
        let decls: Vec<_> = piece
            .paths()
            .iter()
            .map(|d| (d.pattern, d.operations.to_vec()))
            .collect();
        use Operation::{Delete, Read, Update};
        assert_eq!(
            decls,
            vec![
                ("mounts", vec![Read]),
                ("mounts/*path/tune", vec![Read, Update]),
                ("mounts/*path", vec![Read, Update, Delete]),
                ("auth", vec![Read]),
                ("auth/*path/tune", vec![Read, Update]),
                ("auth/*path", vec![Read, Update, Delete]),
            ]
        );
        // What the core's SUDO_PATHS had: `auth/*`.
        let sudo = piece.special_paths().root;
        for p in [
            "auth/userpass",
            "auth/a/b",
            "auth/userpass/tune",
            "auth/x/",
            "auth/",
        ] {
            assert!(special_path_matches(&sudo, p), "{p}");
        }
        for p in ["auth", "mounts", "mounts/secret", "mounts/secret/tune"] {
            assert!(!special_path_matches(&sudo, p), "{p}");
        }
        assert!(piece.special_paths().unauthenticated.is_empty());
    }

    #[test]
    fn tune_paths_win_and_nested_mounts_match() {
        let piece = MountsPiece::new(Weak::new());
        let first = |p: &str| {
            piece
                .paths()
                .into_iter()
                .find(|d| d.matches(p))
                .map(|d| d.pattern)
        };
        assert_eq!(first("mounts/a/b/tune"), Some("mounts/*path/tune"));
        assert_eq!(first("mounts/a/tune/tune"), Some("mounts/*path/tune"));
        assert_eq!(first("mounts/tune"), Some("mounts/*path"));
        assert_eq!(first("mounts/a/b"), Some("mounts/*path"));
        assert_eq!(first("mounts/"), Some("mounts"));
        assert_eq!(first("auth/token/tune"), Some("auth/*path/tune"));
    }

    /// The TTL fields are strings (Vault's: they take "system"), so the
    /// bad-request corpus no longer sends them bad durations: these are the
    /// cases it sent, each a 400 and never a panic.
    #[test]
    fn ttls_take_system_and_refuse_bad_durations() {
        assert_eq!(ttl_seconds(&json!("system"), "max_lease_ttl").unwrap(), 0);
        assert_eq!(ttl_seconds(&json!("1h"), "max_lease_ttl").unwrap(), 3600);
        assert_eq!(ttl_seconds(&json!(90), "max_lease_ttl").unwrap(), 90);
        let huge = "9".repeat(300);
        for bad in [
            json!("abc"),
            json!({}),
            json!([1]),
            json!(true),
            json!(1e300),
            json!(-1),
            json!("9000000000000000000s"),
            json!("99999999999999h"),
            json!(huge),
            serde_json::from_str::<Value>("18446744073709551616").unwrap(),
        ] {
            let err = ttl_seconds(&bad, "max_lease_ttl").unwrap_err();
            assert_eq!(err.status(), 400, "{bad}");
            assert!(err.to_string().starts_with("max_lease_ttl: "), "{err}");
        }
    }
}
