//! `sys/leases/tidy`, `sys/leases/count` and `sys/leases` (irrevocable
//! leases).

use coffer_sdk::{FieldData, FieldDef, FieldType};
use coffer_types::{Request, Response, Result};
use serde_json::{Map, Value, json};

use crate::ExpirationManager;
use crate::error::ExpirationError;

/// Vault's default cap on `sys/leases` results.
const MAX_IRREVOCABLE_LEASES_TO_RETURN: usize = 10_000;

/// Vault's warning when that cap cut the list short.
const MAX_IRREVOCABLE_LEASES_WARNING: &str = "Command halted because many irrevocable leases were found. To emit the entire list, re-run the command with force set true.";

/// Vault's answer to a tidy request.
const TIDY_STARTED: &str = "Tidy operation successfully started. Any information from the operation will be printed to Vault's server logs.";

const COUNT_FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "type",
        FieldType::String,
        "Type of leases to get counts for (currently only supporting irrevocable).",
    ),
    FieldDef::new(
        "include_child_namespaces",
        FieldType::Bool,
        "Set true if you want counts for this namespace and its children.",
    ),
];

const LIST_FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "type",
        FieldType::String,
        "Type of leases to retrieve (currently only supporting irrevocable).",
    ),
    FieldDef::new(
        "include_child_namespaces",
        FieldType::Bool,
        "Set true if you want leases for this namespace and its children.",
    ),
    FieldDef::new(
        "limit",
        FieldType::String,
        "Maximum number of entries to return; 'none' for all (default 10,000).",
    ),
];

/// Starts a tidy in the background and answers 202 with Vault's warning.
pub(super) fn tidy(mgr: &ExpirationManager) -> Response {
    if let Some(this) = mgr.this.upgrade() {
        tokio::spawn(async move {
            if let Err(err) = this.tidy().await {
                tracing::error!(error = %err, "failed to tidy leases");
            }
        });
    }
    Response {
        warnings: vec![TIDY_STARTED.to_owned()],
        status: Some(202),
        ..Response::default()
    }
}

/// True when the request asks about irrevocable leases (the only type
/// Vault supports; any other answers 204).
fn wants_irrevocable(fields: &FieldData<'_>) -> Result<bool> {
    Ok(fields
        .get_string("type")?
        .is_some_and(|t| t.eq_ignore_ascii_case("irrevocable")))
}

/// `GET sys/leases/count?type=irrevocable`: `lease_count` and `counts` per
/// mount accessor. There are no namespaces, so `include_child_namespaces`
/// changes nothing.
pub(super) async fn count(mgr: &ExpirationManager, req: &Request) -> Result<Option<Response>> {
    let fields = FieldData::new(&req.data, COUNT_FIELDS)?;
    if !wants_irrevocable(&fields)? {
        return Ok(None);
    }
    let (total, per_mount) = mgr.irrevocable_counts().await?;
    let mut data = Map::new();
    data.insert("lease_count".into(), json!(total));
    data.insert("counts".into(), json!(per_mount));
    Ok(Some(Response::with_data(data)))
}

/// Vault's `processLimit`: `None` for all, else a positive cap.
fn parse_limit(raw: Option<String>) -> Result<Option<usize>> {
    let raw = raw.unwrap_or_default();
    if raw.is_empty() {
        return Ok(Some(MAX_IRREVOCABLE_LEASES_TO_RETURN));
    }
    if raw.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let limit: i64 = raw.parse().map_err(|_| {
        ExpirationError::InvalidInput(format!(
            "invalid 'limit' provided: strconv.Atoi: parsing {raw:?}: invalid syntax"
        ))
    })?;
    match usize::try_from(limit) {
        Ok(limit) if limit >= 1 => Ok(Some(limit)),
        _ => Err(ExpirationError::InvalidInput(
            "limit must be 'none' or a positive integer".into(),
        )
        .into()),
    }
}

/// `GET sys/leases?type=irrevocable`: `lease_count` and `leases`
/// (`lease_id`, `mount_id`, `error`), by expiry then id.
pub(super) async fn list(mgr: &ExpirationManager, req: &Request) -> Result<Option<Response>> {
    let fields = FieldData::new(&req.data, LIST_FIELDS)?;
    if !wants_irrevocable(&fields)? {
        return Ok(None);
    }
    let limit = parse_limit(fields.get_string("limit")?)?;
    let (leases, truncated) = mgr.irrevocable_leases(limit).await?;
    let shown: Vec<Value> = leases
        .iter()
        .map(|l| json!({"lease_id": l.lease_id, "mount_id": l.mount_id, "error": l.error}))
        .collect();
    let mut data = Map::new();
    data.insert("lease_count".into(), json!(shown.len()));
    data.insert("leases".into(), Value::Array(shown));
    let mut resp = Response::with_data(data);
    if truncated {
        resp = resp.warn(MAX_IRREVOCABLE_LEASES_WARNING);
    }
    Ok(Some(resp))
}

#[cfg(test)]
mod tests {
    use coffer_types::{Error, Operation};
    use serde_json::json;

    use super::*;
    use crate::test_support::{Harness, no_body, request, secret};

    #[test]
    fn limits_parse_like_vault() {
        assert_eq!(parse_limit(None).unwrap(), Some(10_000));
        assert_eq!(parse_limit(Some("NONE".into())).unwrap(), None);
        assert_eq!(parse_limit(Some("5".into())).unwrap(), Some(5));
        assert_eq!(parse_limit(Some("0".into())).unwrap_err().status(), 400);
        assert_eq!(parse_limit(Some("-3".into())).unwrap_err().status(), 400);
        assert_eq!(parse_limit(Some("abc".into())).unwrap_err().status(), 400);
    }

    #[tokio::test]
    async fn count_and_list_irrevocable_leases() {
        let h = Harness::new().await;
        let a = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        h.mgr.register(secret("db/creds/b", 60)).await.unwrap();
        h.handler.fail_with(Some(Error::invalid("role gone")));
        assert!(h.mgr.revoke(&a.lease_id).await.is_err());

        let read = request(Operation::Read, json!({"type": "irrevocable"}));
        let resp = h
            .mgr
            .handle_sys("leases/count", &read)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            Value::Object(resp.data.unwrap()),
            json!({"lease_count": 1, "counts": {"database_1234": 1}})
        );
        let resp = h.mgr.handle_sys("leases", &read).await.unwrap().unwrap();
        assert_eq!(
            Value::Object(resp.data.unwrap()),
            json!({"lease_count": 1, "leases": [
                {"lease_id": a.lease_id, "mount_id": "database_1234", "error": "role gone"}
            ]})
        );
        assert!(resp.warnings.is_empty());

        let other = request(Operation::Read, no_body());
        assert!(
            h.mgr
                .handle_sys("leases/count", &other)
                .await
                .unwrap()
                .is_none()
        );
        assert!(h.mgr.handle_sys("leases", &other).await.unwrap().is_none());
        let bad = request(
            Operation::Read,
            json!({"type": "irrevocable", "limit": "x"}),
        );
        assert_eq!(
            h.mgr.handle_sys("leases", &bad).await.unwrap_err().status(),
            400
        );
    }

    #[tokio::test]
    async fn a_truncated_list_warns() {
        let h = Harness::new().await;
        h.handler.fail_with(Some(Error::invalid("gone")));
        for _ in 0..2 {
            let l = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
            assert!(h.mgr.revoke(&l.lease_id).await.is_err());
        }
        let read = request(Operation::Read, json!({"type": "irrevocable", "limit": 1}));
        let resp = h.mgr.handle_sys("leases", &read).await.unwrap().unwrap();
        assert_eq!(resp.data.unwrap()["lease_count"], json!(1));
        assert_eq!(resp.warnings, [MAX_IRREVOCABLE_LEASES_WARNING]);
    }

    #[tokio::test]
    async fn tidy_answers_202_with_vaults_warning() {
        let h = Harness::new().await;
        let resp = h
            .mgr
            .handle_sys("leases/tidy", &request(Operation::Update, no_body()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.status, Some(202));
        assert_eq!(resp.warnings, [TIDY_STARTED]);
    }
}
