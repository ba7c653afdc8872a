//! `sys/leases/revoke(/:lease_id)`, `revoke-prefix/:prefix`,
//! `revoke-force/:prefix` and their legacy `sys/` twins.

use coffer_sdk::{FieldData, FieldDef, FieldType};
use coffer_types::{Request, Response, Result};

use crate::ExpirationManager;
use crate::error::ExpirationError;

const REVOKE_FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "lease_id",
        FieldType::String,
        "The lease identifier to revoke.",
    ),
    FieldDef::new(
        "sync",
        FieldType::Bool,
        "Whether to revoke before answering (default true) or queue the revocation.",
    ),
];

const PREFIX_FIELDS: &[FieldDef] = &[FieldDef::new(
    "sync",
    FieldType::Bool,
    "Whether to revoke before answering (default true) or queue the revocations.",
)];

/// 202 Accepted with nothing to say: the revocation is queued.
fn accepted() -> Response {
    Response {
        status: Some(202),
        ..Response::default()
    }
}

/// Revokes the lease named in the body (which wins) or the URL; 204 when
/// done, 202 when queued (`sync=false`). An unknown lease is not an error.
pub(super) async fn revoke(
    mgr: &ExpirationManager,
    url_id: Option<&str>,
    req: &Request,
) -> Result<Option<Response>> {
    let fields = FieldData::new(&req.data, REVOKE_FIELDS)?;
    let lease_id = fields
        .get_string("lease_id")?
        .filter(|s| !s.is_empty())
        .or_else(|| url_id.map(str::to_owned))
        .ok_or(ExpirationError::MissingLeaseId)?;
    if fields.get_bool("sync")?.unwrap_or(true) {
        mgr.revoke(&lease_id).await?;
        Ok(None)
    } else {
        mgr.revoke_lazy(&lease_id).await?;
        Ok(Some(accepted()))
    }
}

/// Revokes every lease under `prefix`; 204 when done, 202 when queued.
pub(super) async fn revoke_prefix(
    mgr: &ExpirationManager,
    prefix: &str,
    req: &Request,
) -> Result<Option<Response>> {
    let fields = FieldData::new(&req.data, PREFIX_FIELDS)?;
    if fields.get_bool("sync")?.unwrap_or(true) {
        mgr.revoke_prefix(prefix, false).await?;
        Ok(None)
    } else {
        mgr.revoke_prefix_lazy(prefix).await?;
        Ok(Some(accepted()))
    }
}

/// Removes every lease under `prefix` even if its backend fails; 204.
pub(super) async fn revoke_force(
    mgr: &ExpirationManager,
    prefix: &str,
) -> Result<Option<Response>> {
    mgr.revoke_prefix(prefix, true).await?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use coffer_types::{Error, Operation};
    use serde_json::json;

    use crate::test_support::{Harness, no_body, request, secret};

    #[tokio::test]
    async fn revoke_is_sync_by_default_and_202_when_queued() {
        let h = Harness::new().await;
        let a = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        let b = h.mgr.register(secret("db/creds/b", 60)).await.unwrap();
        let req = request(Operation::Update, json!({"lease_id": a.lease_id}));
        assert!(
            h.mgr
                .handle_sys("leases/revoke", &req)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(h.handler.revoked(), std::slice::from_ref(&a.lease_id));

        let req = request(Operation::Update, json!({"sync": false}));
        let resp = h
            .mgr
            .handle_sys(&format!("revoke/{}", b.lease_id), &req)
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
        let err = h
            .mgr
            .handle_sys("leases/revoke", &request(Operation::Update, no_body()))
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.messages()),
            (400, &["lease_id must be specified".to_owned()][..])
        );
        let a = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        h.handler.fail_with(Some(Error::internal("db down")));
        let req = request(Operation::Update, json!({"lease_id": a.lease_id}));
        let err = h.mgr.handle_sys("leases/revoke", &req).await.unwrap_err();
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
            h.mgr
                .handle_sys("leases/revoke", &req)
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
            h.mgr
                .handle_sys("leases/revoke-prefix/db", &update)
                .await
                .unwrap()
                .is_none()
        );
        assert!(h.mgr.lookup(&a.lease_id).await.unwrap().is_none());

        let lazy = request(Operation::Update, json!({"sync": false}));
        let resp = h
            .mgr
            .handle_sys("revoke-prefix/ssh/", &lazy)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.status, Some(202));
        assert!(h.mgr.lookup(&c.lease_id).await.unwrap().is_some());

        h.handler.fail_with(Some(Error::internal("aws down")));
        let err = h
            .mgr
            .handle_sys("revoke-prefix/aws", &update)
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(h.mgr.lookup(&b.lease_id).await.unwrap().is_some());
        assert!(
            h.mgr
                .handle_sys("leases/revoke-force/aws", &update)
                .await
                .unwrap()
                .is_none()
        );
        assert!(h.mgr.lookup(&b.lease_id).await.unwrap().is_none());
        assert!(
            h.mgr
                .handle_sys("revoke-force/ssh", &update)
                .await
                .unwrap()
                .is_none()
        );
        assert!(h.mgr.lookup(&c.lease_id).await.unwrap().is_none());
    }
}
