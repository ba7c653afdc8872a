//! `sys/leases/tidy`, `sys/leases/count` and `sys/leases` (irrevocable
//! leases).

use coffer_sdk::{Call, FieldData, FieldDef, FieldDefault, FieldType, PathDef};
use coffer_types::{Response, Result};
use serde_json::{Map, Value, json};

use super::{READ, UPDATE, def};
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
    )
    .required(),
    FieldDef::new(
        "include_child_namespaces",
        FieldType::Bool,
        "Set true if you want counts for this namespace and its children.",
    )
    .default(FieldDefault::Bool(false)),
];

const LIST_FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "type",
        FieldType::String,
        "Type of leases to retrieve (currently only supporting irrevocable).",
    )
    .required(),
    FieldDef::new(
        "include_child_namespaces",
        FieldType::Bool,
        "Set true if you want leases for this namespace and its children.",
    )
    .default(FieldDefault::Bool(false)),
    FieldDef::new(
        "limit",
        FieldType::String,
        "Maximum number of entries to return; 'none' for all (default 10,000).",
    ),
];

/// `leases/tidy` (update).
pub(super) fn tidy_def() -> PathDef {
    def(
        "leases/tidy",
        &[],
        UPDATE,
        "Clean up the lease store.",
        "Start a background clean-up of the lease store: index entries without a lease, leases of tokens that no longer exist. Answers 202 at once; the outcome goes to the server's logs.",
    )
}

/// `leases/count` (read).
pub(super) fn count_def() -> PathDef {
    def(
        "leases/count",
        COUNT_FIELDS,
        READ,
        "Count the irrevocable leases.",
        "The number of irrevocable leases, in total and per mount accessor. Any type other than irrevocable answers 204.",
    )
}

/// `leases` (read).
pub(super) fn list_def() -> PathDef {
    def(
        "leases",
        LIST_FIELDS,
        READ,
        "List the irrevocable leases.",
        "The irrevocable leases (id, mount accessor and the last revocation error), by expiry then id, at most `limit` of them. Any type other than irrevocable answers 204.",
    )
}

/// Starts a tidy in the background and answers 202 with Vault's warning.
pub(super) async fn tidy(mgr: &ExpirationManager, _: &Call<'_>) -> Result<Option<Response>> {
    if let Some(this) = mgr.this.upgrade() {
        tokio::spawn(async move {
            if let Err(err) = this.tidy().await {
                tracing::error!(error = %err, "failed to tidy leases");
            }
        });
    }
    Ok(Some(Response {
        warnings: vec![TIDY_STARTED.to_owned()],
        status: Some(202),
        ..Response::default()
    }))
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
pub(super) async fn count(mgr: &ExpirationManager, call: &Call<'_>) -> Result<Option<Response>> {
    if !wants_irrevocable(&call.fields)? {
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
pub(super) async fn list(mgr: &ExpirationManager, call: &Call<'_>) -> Result<Option<Response>> {
    if !wants_irrevocable(&call.fields)? {
        return Ok(None);
    }
    let limit = parse_limit(call.fields.get_string("limit")?)?;
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
    use crate::sys::call_sys;
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
        let resp = call_sys(&h.mgr, "leases/count", &read)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            Value::Object(resp.data.unwrap()),
            json!({"lease_count": 1, "counts": {"database_1234": 1}})
        );
        let resp = call_sys(&h.mgr, "leases", &read).await.unwrap().unwrap();
        assert_eq!(
            Value::Object(resp.data.unwrap()),
            json!({"lease_count": 1, "leases": [
                {"lease_id": a.lease_id, "mount_id": "database_1234", "error": "role gone"}
            ]})
        );
        assert!(resp.warnings.is_empty());

        let other = request(Operation::Read, no_body());
        assert!(
            call_sys(&h.mgr, "leases/count", &other)
                .await
                .unwrap()
                .is_none()
        );
        assert!(call_sys(&h.mgr, "leases", &other).await.unwrap().is_none());
        let bad = request(
            Operation::Read,
            json!({"type": "irrevocable", "limit": "x"}),
        );
        assert_eq!(
            call_sys(&h.mgr, "leases", &bad).await.unwrap_err().status(),
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
        let resp = call_sys(&h.mgr, "leases", &read).await.unwrap().unwrap();
        assert_eq!(resp.data.unwrap()["lease_count"], json!(1));
        assert_eq!(resp.warnings, [MAX_IRREVOCABLE_LEASES_WARNING]);
    }

    #[tokio::test]
    async fn tidy_answers_202_with_vaults_warning() {
        let h = Harness::new().await;
        let resp = call_sys(
            &h.mgr,
            "leases/tidy",
            &request(Operation::Update, no_body()),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(resp.status, Some(202));
        assert_eq!(resp.warnings, [TIDY_STARTED]);
    }
}
