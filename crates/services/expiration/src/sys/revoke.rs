//! `sys/leases/revoke(/:lease_id)`, `revoke-prefix/:prefix`,
//! `revoke-force/:prefix` and their legacy `sys/` twins.

use coffer_sdk::{Call, FieldDef, FieldDefault, FieldType, PathDef};
use coffer_types::{Response, Result};

use super::{UPDATE, def};
use crate::ExpirationManager;
use crate::error::ExpirationError;

const SYNC: FieldDef = FieldDef::new(
    "sync",
    FieldType::Bool,
    "Whether to revoke before answering (true) or queue the revocation and answer 202 (false).",
)
.default(FieldDefault::Bool(true));

/// On the bare paths the body must name the lease.
const REVOKE_FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "lease_id",
        FieldType::String,
        "The ID of the lease to revoke.",
    )
    .required(),
    SYNC,
];

/// With the lease in the URL, the body may still name it (and then wins).
const REVOKE_URL_FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "lease_id",
        FieldType::String,
        "The ID of the lease to revoke; overrides the one in the URL.",
    ),
    SYNC,
];

const PREFIX_FIELDS: &[FieldDef] = &[SYNC];

const REVOKE_HELP: &str = "Revoke a lease: its backend is asked to revoke the secret, and the lease is removed. The lease id is given in the body or in the URL. An unknown lease is not an error.";

const PREFIX_HELP: &str =
    "Revoke every lease whose id starts with the prefix (a mount, a role). Requires sudo.";

const FORCE_HELP: &str = "Remove every lease under the prefix, ignoring its backend's errors: the secrets may live on. For recovery only. Requires sudo.";

/// The revoke endpoint at `pattern` (`revoke`, `revoke/*url_lease_id` and
/// their `leases/` twins).
pub(super) fn revoke_def(pattern: &'static str) -> PathDef {
    let fields = if pattern.ends_with("*url_lease_id") {
        REVOKE_URL_FIELDS
    } else {
        REVOKE_FIELDS
    };
    def(pattern, fields, UPDATE, "Revoke a lease.", REVOKE_HELP)
}

/// `(leases/)?revoke-prefix/*prefix`.
pub(super) fn prefix_def(pattern: &'static str) -> PathDef {
    def(
        pattern,
        PREFIX_FIELDS,
        UPDATE,
        "Revoke all leases under a prefix.",
        PREFIX_HELP,
    )
}

/// `(leases/)?revoke-force/*prefix`.
pub(super) fn force_def(pattern: &'static str) -> PathDef {
    def(
        pattern,
        &[],
        UPDATE,
        "Remove all leases under a prefix, ignoring revocation errors.",
        FORCE_HELP,
    )
}

/// 202 Accepted with nothing to say: the revocation is queued.
fn accepted() -> Response {
    Response {
        status: Some(202),
        ..Response::default()
    }
}

/// The captured prefix. Vault's pattern is `revoke-prefix/(?P<prefix>.+)`:
/// an empty one matches no path (and must never mean "every lease").
fn prefix<'c>(call: &'c Call<'_>) -> Result<&'c str> {
    match call.capture("prefix") {
        "" => Err(ExpirationError::UnsupportedPath.into()),
        p => Ok(p),
    }
}

/// Revokes the lease named in the body (which wins) or the URL; 204 when
/// done, 202 when queued (`sync=false`). An unknown lease is not an error.
pub(super) async fn revoke(mgr: &ExpirationManager, call: &Call<'_>) -> Result<Option<Response>> {
    let url_id = call.capture("url_lease_id");
    let lease_id = call
        .fields
        .get_string("lease_id")?
        .filter(|s| !s.is_empty())
        .or_else(|| (!url_id.is_empty()).then(|| url_id.to_owned()))
        .ok_or(ExpirationError::MissingLeaseId)?;
    if call.fields.get_bool("sync")?.unwrap_or(true) {
        mgr.revoke(&lease_id).await?;
        Ok(None)
    } else {
        mgr.revoke_lazy(&lease_id).await?;
        Ok(Some(accepted()))
    }
}

/// Revokes every lease under the prefix; 204 when done, 202 when queued.
pub(super) async fn revoke_prefix(
    mgr: &ExpirationManager,
    call: &Call<'_>,
) -> Result<Option<Response>> {
    let prefix = prefix(call)?;
    if call.fields.get_bool("sync")?.unwrap_or(true) {
        mgr.revoke_prefix(prefix, false).await?;
        Ok(None)
    } else {
        mgr.revoke_prefix_lazy(prefix).await?;
        Ok(Some(accepted()))
    }
}

/// Removes every lease under the prefix even if its backend fails; 204.
pub(super) async fn revoke_force(
    mgr: &ExpirationManager,
    call: &Call<'_>,
) -> Result<Option<Response>> {
    mgr.revoke_prefix(prefix(call)?, true).await?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use coffer_types::{Error, Operation};
    use serde_json::json;

    use crate::sys::call_sys;
    use crate::test_support::{Harness, no_body, request, secret};

    #[tokio::test]
    async fn revoke_is_sync_by_default_and_202_when_queued() {
        let h = Harness::new().await;
        let a = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        let b = h.mgr.register(secret("db/creds/b", 60)).await.unwrap();
        let req = request(Operation::Update, json!({"lease_id": a.lease_id}));
        assert!(
            call_sys(&h.mgr, "leases/revoke", &req)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(h.handler.revoked(), std::slice::from_ref(&a.lease_id));

        let req = request(Operation::Update, json!({"sync": false}));
        let resp = call_sys(&h.mgr, &format!("revoke/{}", b.lease_id), &req)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.status, Some(202));
        assert_eq!(h.handler.revoked().len(), 1, "queued, not yet revoked");
        assert_eq!(h.mgr.tick().await.unwrap().revoked, 1);
    }

    #[tokio::test]
    async fn revoke_errors() {
        let h = Harness::new().await;
        let err = call_sys(
            &h.mgr,
            "leases/revoke",
            &request(Operation::Update, no_body()),
        )
        .await
        .unwrap_err();
        assert_eq!(
            (err.status(), err.messages()),
            (400, &["lease_id must be specified".to_owned()][..])
        );
        let a = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        h.handler.fail_with(Some(Error::internal("db down")));
        let req = request(Operation::Update, json!({"lease_id": a.lease_id}));
        let err = call_sys(&h.mgr, "leases/revoke", &req).await.unwrap_err();
        assert_eq!(
            (err.status(), err.messages()),
            (400, &["failed to revoke entry: db down".to_owned()][..])
        );
        assert!(h.mgr.lookup(&a.lease_id).await.unwrap().is_some());
        let req = request(
            Operation::Update,
            json!({"lease_id": a.lease_id, "sync": "maybe"}),
        );
        assert_eq!(
            call_sys(&h.mgr, "leases/revoke", &req)
                .await
                .unwrap_err()
                .status(),
            400
        );
    }

    #[tokio::test]
    async fn prefix_and_force_endpoints() {
        let h = Harness::new().await;
        let a = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        let b = h.mgr.register(secret("aws/creds/b", 60)).await.unwrap();
        let c = h.mgr.register(secret("ssh/creds/c", 60)).await.unwrap();
        let update = request(Operation::Update, no_body());
        assert!(
            call_sys(&h.mgr, "leases/revoke-prefix/db", &update)
                .await
                .unwrap()
                .is_none()
        );
        assert!(h.mgr.lookup(&a.lease_id).await.unwrap().is_none());

        let lazy = request(Operation::Update, json!({"sync": false}));
        let resp = call_sys(&h.mgr, "revoke-prefix/ssh/", &lazy)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.status, Some(202));
        assert!(h.mgr.lookup(&c.lease_id).await.unwrap().is_some());

        h.handler.fail_with(Some(Error::internal("aws down")));
        let err = call_sys(&h.mgr, "revoke-prefix/aws", &update)
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(h.mgr.lookup(&b.lease_id).await.unwrap().is_some());
        assert!(
            call_sys(&h.mgr, "leases/revoke-force/aws", &update)
                .await
                .unwrap()
                .is_none()
        );
        assert!(h.mgr.lookup(&b.lease_id).await.unwrap().is_none());
        assert!(
            call_sys(&h.mgr, "revoke-force/ssh", &update)
                .await
                .unwrap()
                .is_none()
        );
        assert!(h.mgr.lookup(&c.lease_id).await.unwrap().is_none());
    }
}
