//! `sys/leases/renew(/:lease_id)` and the legacy `sys/renew(/:lease_id)`.

use coffer_sdk::{FieldData, FieldDef, FieldType};
use coffer_types::{LeaseInfo, Request, Response, Result};

use crate::ExpirationManager;
use crate::error::ExpirationError;

const FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "lease_id",
        FieldType::String,
        "The lease identifier to renew.",
    ),
    FieldDef::new(
        "increment",
        FieldType::Duration,
        "The desired increment in seconds to the lease.",
    ),
];

/// Renews the lease named in the body (which wins) or the URL. The answer
/// carries `lease_id`, `renewable` and `lease_duration` in the envelope.
pub(super) async fn renew(
    mgr: &ExpirationManager,
    url_id: Option<&str>,
    req: &Request,
) -> Result<Response> {
    let fields = FieldData::new(&req.data, FIELDS)?;
    let lease_id = fields
        .get_string("lease_id")?
        .filter(|s| !s.is_empty())
        .or_else(|| url_id.map(str::to_owned))
        .ok_or(ExpirationError::MissingLeaseId)?;
    let increment = fields.get_duration("increment")?;
    let (entry, warnings) = mgr.renew_with_warnings(&lease_id, increment).await?;
    Ok(Response {
        secret: Some(LeaseInfo {
            lease_id: entry.lease_id,
            ttl: entry.ttl,
            renewable: entry.renewable,
            ..LeaseInfo::default()
        }),
        warnings,
        ..Response::default()
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use coffer_types::{Envelope, Operation};
    use serde_json::json;

    use crate::test_support::{Harness, no_body, request, secret};

    #[tokio::test]
    async fn renew_answers_in_the_envelope() {
        let h = Harness::new().await;
        let lease = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        let req = request(
            Operation::Update,
            json!({"lease_id": lease.lease_id, "increment": "1h"}),
        );
        let resp = h
            .mgr
            .handle_sys("leases/renew", &req)
            .await
            .unwrap()
            .unwrap();
        let wire = serde_json::to_value(Envelope::new("req-1", resp)).unwrap();
        assert_eq!(wire["lease_id"], json!(lease.lease_id));
        assert_eq!(wire["renewable"], json!(true));
        assert_eq!(wire["lease_duration"], json!(3600));
        assert_eq!(wire["data"], json!(null));
        assert!(wire["warnings"].is_null());
    }

    #[tokio::test]
    async fn the_body_wins_over_the_url_and_legacy_paths_work() {
        let h = Harness::new().await;
        let a = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        let b = h.mgr.register(secret("db/creds/b", 60)).await.unwrap();
        let url = format!("renew/{}", b.lease_id);
        let req = request(
            Operation::Update,
            json!({"lease_id": a.lease_id, "increment": 120}),
        );
        let resp = h.mgr.handle_sys(&url, &req).await.unwrap().unwrap();
        assert_eq!(resp.secret.unwrap().lease_id, a.lease_id);
        let req = request(Operation::Update, json!({"increment": 90}));
        let resp = h
            .mgr
            .handle_sys(&format!("leases/renew/{}", b.lease_id), &req)
            .await
            .unwrap()
            .unwrap();
        let secret = resp.secret.unwrap();
        assert_eq!(
            (secret.lease_id, secret.ttl),
            (b.lease_id, Duration::from_secs(90))
        );
    }

    #[tokio::test]
    async fn renew_errors_are_400s_with_vaults_messages() {
        let h = Harness::new().await;
        let err = h
            .mgr
            .handle_sys("leases/renew", &request(Operation::Update, no_body()))
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.messages()),
            (400, &["lease_id must be specified".to_owned()][..])
        );
        let req = request(Operation::Update, json!({"lease_id": "db/creds/a/gone"}));
        let err = h.mgr.handle_sys("leases/renew", &req).await.unwrap_err();
        assert_eq!(
            (err.status(), err.messages()),
            (400, &["lease not found".to_owned()][..])
        );
        let mut fixed = secret("db/creds/a", 60);
        fixed.renewable = false;
        let fixed = h.mgr.register(fixed).await.unwrap();
        let req = request(Operation::Update, json!({"lease_id": fixed.lease_id}));
        let err = h.mgr.handle_sys("leases/renew", &req).await.unwrap_err();
        assert_eq!(
            (err.status(), err.messages()),
            (400, &["lease is not renewable".to_owned()][..])
        );
        let req = request(
            Operation::Update,
            json!({"lease_id": fixed.lease_id, "increment": "soon"}),
        );
        let err = h.mgr.handle_sys("leases/renew", &req).await.unwrap_err();
        assert_eq!(err.status(), 400);
    }

    #[tokio::test]
    async fn a_capped_renewal_warns() {
        let h = Harness::new().await;
        let mut new = secret("db/creds/a", 60);
        new.max_ttl = Duration::from_secs(120);
        let lease = h.mgr.register(new).await.unwrap();
        let req = request(
            Operation::Update,
            json!({"lease_id": lease.lease_id, "increment": 600}),
        );
        let resp = h
            .mgr
            .handle_sys("leases/renew", &req)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.secret.unwrap().ttl, Duration::from_secs(120));
        assert_eq!(resp.warnings.len(), 1);
    }
}
