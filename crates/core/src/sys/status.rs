//! The handlers of `sys/init`, `sys/seal-status`, `sys/unseal`,
//! `sys/health` and `sys/leader` (raw responses, no token), which the seal
//! lifecycle piece ([`super::lifecycle`]) declares.

use crate::error::CoreError;
use std::time::{SystemTime, UNIX_EPOCH};

use coffer_types::{Error, Operation, Request, Response, Result};
use serde_json::{Value, json};

use crate::Core;
use crate::sys::allow;

fn raw_ok(body: Value) -> Response {
    Response::raw(body, 200)
}

fn field_u32(req: &Request, name: &str) -> Result<Option<u32>> {
    match req.data.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .map(Some)
            .ok_or_else(|| CoreError::NotANonNegativeInteger(name.to_owned()).into()),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| CoreError::NotANonNegativeInteger(name.to_owned()).into()),
        Some(_) => Err(CoreError::NotANonNegativeInteger(name.to_owned()).into()),
    }
}

/// A boolean body field (`true`/`false`, or those words as strings);
/// anything else is a 400.
pub(crate) fn field_bool(req: &Request, name: &str) -> Result<bool> {
    match req.data.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s == "true" || s == "1" => Ok(true),
        Some(Value::String(s)) if s == "false" || s == "0" || s.is_empty() => Ok(false),
        Some(_) => Err(CoreError::NotABoolean(name.to_owned()).into()),
    }
}

/// `GET sys/init` reports whether the server is initialised; `PUT` initialises it.
pub(super) async fn init(core: &Core, req: &Request) -> Result<Response> {
    match req.op() {
        Operation::Read => Ok(raw_ok(
            json!({ "initialized": core.is_initialized().await? }),
        )),
        Operation::Update | Operation::Create => {
            // Typed like the rest (a negative count is a 400); stored and
            // recovery shares belong to auto-unseal seals, which this server
            // does not have yet.
            for name in ["recovery_shares", "recovery_threshold"] {
                field_u32(req, name)?;
            }
            if field_u32(req, "stored_shares")?.is_some_and(|n| n > 0) {
                return Err(CoreError::StoredKeysUnsupported.into());
            }
            let shares = field_u32(req, "secret_shares")?
                .ok_or(CoreError::MustBeSpecified("secret_shares"))?;
            let threshold = field_u32(req, "secret_threshold")?
                .ok_or(CoreError::MustBeSpecified("secret_threshold"))?;
            // PGP keys are read before anything is initialised: a bad one
            // changes nothing.
            let pgp = crate::pgp::InitKeys::from_request(req, shares, threshold)?;
            let result = core.init(shares, threshold).await?;
            Ok(raw_ok(pgp.answer(&result)?))
        }
        _ => Err(CoreError::UnsupportedOperation.into()),
    }
}

/// `GET sys/seal-status`.
pub(super) async fn seal_status(core: &Core, op: Operation) -> Result<Response> {
    allow(op, &[Operation::Read])?;
    Ok(raw_ok(core.seal_status().await?))
}

/// `PUT sys/unseal` with `key` or `reset`.
pub(super) async fn unseal(core: &Core, req: &Request) -> Result<Response> {
    allow(req.op(), &[Operation::Update])?;
    let reset = field_bool(req, "reset")?;
    // Seal migration does not exist here; the flag is still typed.
    field_bool(req, "migrate")?;
    let key = match req.data.get("key") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(CoreError::NotAString("key".into()).into()),
    };
    Ok(raw_ok(core.unseal(key, reset).await?))
}

fn query_code(req: &Request, name: &str, default: u16) -> Result<u16> {
    match req.data.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            text.trim()
                .parse::<u16>()
                .ok()
                .filter(|c| (100..=599).contains(c))
                .ok_or_else(|| {
                    CoreError::InvalidStatusCode {
                        name: name.to_owned(),
                        text: text.clone(),
                    }
                    .into()
                })
        }
    }
}

/// `GET`/`HEAD sys/health`, with Vault's status codes and query overrides.
pub(super) async fn health(core: &Core, req: &Request) -> Result<Response> {
    allow(req.op(), &[Operation::Read])?;
    let initialized = core.is_initialized().await?;
    let sealed = core.is_sealed();
    let code = if !initialized {
        query_code(req, "uninitcode", 501)?
    } else if sealed {
        query_code(req, "sealedcode", 503)?
    } else {
        query_code(req, "activecode", 200)?
    };
    // Validate the other overrides too, so a typo is reported even when unused.
    for name in [
        "standbycode",
        "drsecondarycode",
        "performancestandbycode",
        "removedcode",
    ] {
        query_code(req, name, 200)?;
    }
    let now = SystemTime::now();
    let body = json!({
        "initialized": initialized,
        "sealed": sealed,
        "standby": false,
        "performance_standby": false,
        "replication_performance_mode": "disabled",
        "replication_dr_mode": "disabled",
        "server_time_utc": now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        "version": super::VERSION,
        "enterprise": false,
        "cluster_name": core.config.cluster_name,
        "cluster_id": core.cluster_id(),
        "echo_duration_ms": 0,
        "clock_skew_ms": 0,
        "removed_from_cluster": false,
    });
    Ok(Response::raw(body, code))
}

/// `GET sys/leader`: this server is always its own active node (no HA yet).
pub(super) async fn leader(core: &Core, op: Operation) -> Result<Response> {
    allow(op, &[Operation::Read])?;
    if core.is_sealed() {
        return Err(Error::sealed());
    }
    Ok(raw_ok(json!({
        "ha_enabled": false,
        "is_self": false,
        "active_time": "0001-01-01T00:00:00Z",
        "leader_address": "",
        "leader_cluster_address": "",
        "performance_standby": false,
        "performance_standby_last_remote_wal": 0,
    })))
}
