//! `sys/mounts` and `sys/auth`: list, enable, read, disable and tune.

use coffer_types::duration::parse_duration_value;
use coffer_types::{Error, Operation, Request, Response, Result};
use serde_json::{Map, Value, json};

use crate::mounts::{MountEntry, MountTuning, NewMount, Table};
use crate::sys::allow;
use crate::unsealed::{Unsealed, catalog_kind};

fn list_response(entries: &[MountEntry]) -> Result<Option<Response>> {
    let mut data = Map::new();
    for e in entries {
        data.insert(e.path.clone(), e.to_api());
    }
    Ok(Some(Response::with_data(data)))
}

fn string_field(data: &Map<String, Value>, name: &str) -> Result<String> {
    match data.get(name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(Error::invalid(format!("{name} must be a string"))),
    }
}

fn bool_field(data: &Map<String, Value>, name: &str) -> Result<bool> {
    match data.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) => match s.as_str() {
            "true" | "1" => Ok(true),
            "false" | "0" | "" => Ok(false),
            _ => Err(Error::invalid(format!("{name} must be a boolean"))),
        },
        Some(_) => Err(Error::invalid(format!("{name} must be a boolean"))),
    }
}

fn object_field<'a>(
    data: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a Map<String, Value>>> {
    match data.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(Error::invalid(format!("{name} must be an object"))),
    }
}

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
                    .ok_or_else(|| Error::invalid(format!("{name} must be a list of strings")))
            })
            .collect(),
        _ => Err(Error::invalid(format!("{name} must be a list of strings"))),
    }
}

fn ttl_seconds(value: &Value, name: &str) -> Result<u64> {
    if value.as_str() == Some("system") {
        return Ok(0);
    }
    parse_duration_value(value)
        .map(|d| d.as_secs())
        .map_err(|e| Error::invalid(format!("{name}: {e}")))
}

/// Applies tuning fields from `config` onto `tuning`, validating TTLs against
/// each other and the system maximum.
fn apply_tuning(
    unsealed: &Unsealed,
    tuning: &mut MountTuning,
    config: &Map<String, Value>,
) -> Result<()> {
    if let Some(v) = config.get("default_lease_ttl") {
        tuning.default_lease_ttl = ttl_seconds(v, "default_lease_ttl")?;
    }
    if let Some(v) = config.get("max_lease_ttl") {
        tuning.max_lease_ttl = ttl_seconds(v, "max_lease_ttl")?;
    }
    if let Some(v) = config.get("force_no_cache") {
        tuning.force_no_cache = v
            .as_bool()
            .ok_or_else(|| Error::invalid("force_no_cache must be a boolean"))?;
    }
    if let Some(v) = config.get("listing_visibility") {
        let vis = v
            .as_str()
            .ok_or_else(|| Error::invalid("listing_visibility must be a string"))?;
        if !["", "unauth", "hidden"].contains(&vis) {
            return Err(Error::invalid(format!(
                "invalid listing_visibility {vis:?}"
            )));
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
        if let Some(v) = config.get(name) {
            *target = string_list(v, name)?;
        }
    }
    let system_max = unsealed.config.max_lease_ttl.as_secs();
    if tuning.max_lease_ttl > system_max {
        return Err(Error::invalid(
            "given max_lease_ttl is greater than system max lease TTL",
        ));
    }
    let effective_max = if tuning.max_lease_ttl == 0 {
        system_max
    } else {
        tuning.max_lease_ttl
    };
    if tuning.default_lease_ttl > effective_max {
        return Err(Error::invalid(
            "given default_lease_ttl is greater than given max_lease_ttl",
        ));
    }
    Ok(())
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
            Error::invalid(format!(
                "No {} mounted at {path}.",
                match table {
                    Table::Secrets => "secret engine",
                    Table::Auth => "auth engine",
                }
            ))
        })
}

async fn enable(
    unsealed: &Unsealed,
    table: Table,
    path: &str,
    data: &Map<String, Value>,
) -> Result<Option<Response>> {
    let requested = string_field(data, "type")?;
    if requested.is_empty() {
        return Err(Error::invalid("backend type must be specified as a string"));
    }
    let mut options = object_field(data, "options")?.cloned().unwrap_or_default();
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
    if let Some(config) = object_field(data, "config")? {
        apply_tuning(unsealed, &mut tuning, config)?;
    }
    let request = NewMount {
        path: path.to_owned(),
        mount_type,
        description: string_field(data, "description")?,
        options,
        tuning,
        flags: (
            bool_field(data, "local")?,
            bool_field(data, "seal_wrap")?,
            bool_field(data, "external_entropy_access")?,
        ),
    };
    unsealed.mount(table, request).await?;
    Ok(None)
}

async fn tune(
    unsealed: &Unsealed,
    table: Table,
    path: &str,
    data: &Map<String, Value>,
) -> Result<Option<Response>> {
    let current = find(unsealed, table, path).await?;
    let mut tuning = current.config.clone();
    apply_tuning(unsealed, &mut tuning, data)?;
    let description = match data.get("description") {
        Some(_) => Some(string_field(data, "description")?),
        None => None,
    };
    let options = object_field(data, "options")?.cloned();
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
            return Err(Error::invalid(
                "changing the KV version of an existing mount is not supported yet",
            ));
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

/// `sys/mounts*` and `sys/auth*`.
pub(super) async fn handle(
    unsealed: &Unsealed,
    relative: &str,
    req: &Request,
) -> Result<Option<Response>> {
    let (table, rest) = match relative.split_once('/') {
        Some(("mounts", rest)) => (Table::Secrets, rest),
        Some(("auth", rest)) => (Table::Auth, rest),
        None if relative == "mounts" => (Table::Secrets, ""),
        None if relative == "auth" => (Table::Auth, ""),
        _ => return Err(Error::not_found()),
    };
    let op = req.op();
    if rest.is_empty() {
        allow(op, &[Operation::Read])?;
        return list_response(&unsealed.table(table).await);
    }
    if let Some(path) = rest.strip_suffix("/tune") {
        allow(op, &[Operation::Read, Operation::Update])?;
        return match op {
            Operation::Read => tune_response(unsealed, &find(unsealed, table, path).await?),
            _ => tune(unsealed, table, path, &req.data).await,
        };
    }
    allow(op, &[Operation::Read, Operation::Update, Operation::Delete])?;
    match op {
        Operation::Read => {
            let entry = find(unsealed, table, rest).await?;
            match entry.to_api() {
                Value::Object(m) => Ok(Some(Response::with_data(m))),
                _ => Err(Error::internal("mount entry did not encode as an object")),
            }
        }
        Operation::Delete => {
            unsealed.unmount(table, rest).await?;
            Ok(None)
        }
        _ => enable(unsealed, table, rest, &req.data).await,
    }
}
