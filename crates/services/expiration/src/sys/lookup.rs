//! `sys/leases/lookup` (read one lease's times) and
//! `LIST sys/leases/lookup/:prefix`.

use coffer_sdk::time::rfc3339;
use coffer_sdk::{Call, FieldDef, FieldType, PathDef};
use coffer_types::{Response, Result};
use serde_json::{Map, Value, json};

use super::{LIST, UPDATE, def};
use crate::ExpirationManager;
use crate::error::ExpirationError;

const LOOKUP_FIELDS: &[FieldDef] = &[FieldDef::new(
    "lease_id",
    FieldType::String,
    "The ID of the lease to look up.",
)
.required()];

const LOOKUP_HELP: &str = "Retrieve a lease's metadata: its issue, expiry and last renewal times, whether it is renewable, and its remaining TTL.";

const LIST_HELP: &str = "List the lease ids (and the prefixes of deeper ones) directly under a prefix, such as a mount and role (`database/creds/web/`). Requires sudo.";

/// `leases/lookup` (update).
pub(super) fn lookup_def() -> PathDef {
    def(
        "leases/lookup",
        LOOKUP_FIELDS,
        UPDATE,
        "View or list lease metadata.",
        LOOKUP_HELP,
    )
}

/// `leases/lookup/`: the list of the top-level prefixes.
pub(super) fn list_root_def() -> PathDef {
    def(
        "leases/lookup/",
        &[],
        LIST,
        "List the lease prefixes at the top level.",
        LIST_HELP,
    )
}

/// `leases/lookup/*prefix` (list).
pub(super) fn list_def() -> PathDef {
    def(
        "leases/lookup/*prefix",
        &[],
        LIST,
        "List the leases under a prefix.",
        LIST_HELP,
    )
}

/// `PUT sys/leases/lookup` with `lease_id`: Vault's `id`, `issue_time`,
/// `expire_time`, `last_renewal`, `renewable` and `ttl`.
pub(super) async fn lookup(mgr: &ExpirationManager, call: &Call<'_>) -> Result<Option<Response>> {
    let lease_id = call.fields.get_string("lease_id")?.unwrap_or_default();
    if lease_id.is_empty() {
        return Err(ExpirationError::MissingLeaseId.into());
    }
    let entry = mgr
        .lookup(&lease_id)
        .await?
        .ok_or(ExpirationError::InvalidLease)?;
    let now = mgr.clock.now();
    let mut data = Map::new();
    data.insert("id".into(), Value::String(lease_id));
    let opt = |t: Option<std::time::SystemTime>| t.map_or(Value::Null, |t| rfc3339(t).into());
    data.insert("issue_time".into(), rfc3339(entry.issue_time).into());
    data.insert("expire_time".into(), opt(entry.expire_time));
    data.insert("last_renewal".into(), opt(entry.last_renewal_time));
    data.insert("renewable".into(), Value::Bool(entry.renewable_at(now)));
    data.insert("ttl".into(), json!(entry.ttl_secs_at(now)));
    Ok(Some(Response::with_data(data)))
}

/// `LIST sys/leases/lookup/:prefix`: the immediate children under the
/// prefix (the top level for `leases/lookup/`); 404 when there are none
/// (Vault's empty list).
pub(super) async fn list(mgr: &ExpirationManager, call: &Call<'_>) -> Result<Option<Response>> {
    Response::list(mgr.list(call.capture("prefix")).await?)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use coffer_types::Operation;
    use serde_json::json;

    use crate::sys::call_sys;
    use crate::test_support::{Harness, no_body, request, secret};

    #[tokio::test]
    async fn lookup_has_vaults_fields() {
        let h = Harness::new().await;
        let lease = h.mgr.register(secret("db/creds/a", 3600)).await.unwrap();
        h.clock.advance(Duration::from_secs(600));
        let req = request(Operation::Update, json!({"lease_id": lease.lease_id}));
        let resp = call_sys(&h.mgr, "leases/lookup", &req)
            .await
            .unwrap()
            .unwrap();
        let data = resp.data.unwrap();
        assert_eq!(
            serde_json::Value::Object(data),
            json!({
                "id": lease.lease_id,
                "issue_time": "2023-11-14T22:13:20Z",
                "expire_time": "2023-11-14T23:13:20Z",
                "last_renewal": null,
                "renewable": true,
                "ttl": 3000,
            })
        );
        assert!(resp.secret.is_none());
    }

    #[tokio::test]
    async fn lookup_errors_are_vaults() {
        let h = Harness::new().await;
        let err = call_sys(
            &h.mgr,
            "leases/lookup",
            &request(Operation::Update, no_body()),
        )
        .await
        .unwrap_err();
        assert_eq!(
            (err.status(), err.messages()),
            (400, &["lease_id must be specified".to_owned()][..])
        );
        let req = request(Operation::Update, json!({"lease_id": "db/creds/a/unknown"}));
        let err = call_sys(&h.mgr, "leases/lookup", &req).await.unwrap_err();
        assert_eq!(
            (err.status(), err.messages()),
            (400, &["invalid lease".to_owned()][..])
        );
        let req = request(Operation::Update, json!({"lease_id": {"not": "a string"}}));
        let err = call_sys(&h.mgr, "leases/lookup", &req).await.unwrap_err();
        assert_eq!(err.status(), 400);
        let req = request(Operation::Update, json!({"lease_id": "../../x"}));
        let err = call_sys(&h.mgr, "leases/lookup", &req).await.unwrap_err();
        assert_eq!(err.status(), 400);
    }

    #[tokio::test]
    async fn list_returns_keys_or_404() {
        let h = Harness::new().await;
        let lease = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        let list = request(Operation::List, no_body());
        let resp = call_sys(&h.mgr, "leases/lookup/db/creds/", &list)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.data.unwrap()["keys"], json!(["a/"]));
        let resp = call_sys(&h.mgr, "leases/lookup/db/creds/a", &list)
            .await
            .unwrap()
            .unwrap();
        let random = lease.lease_id.rsplit_once('/').unwrap().1;
        assert_eq!(resp.data.unwrap()["keys"], json!([random]));
        let resp = call_sys(&h.mgr, "leases/lookup/", &list)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.data.unwrap()["keys"], json!(["db/"]));
        let err = call_sys(&h.mgr, "leases/lookup/aws/", &list)
            .await
            .unwrap_err();
        assert_eq!(err.status(), 404);
    }
}
