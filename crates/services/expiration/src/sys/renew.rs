//! `sys/leases/renew(/:lease_id)` and the legacy `sys/renew(/:lease_id)`.

use coffer_sdk::{Call, FieldDef, FieldType, PathDef};
use coffer_types::{LeaseInfo, Response, Result};

use super::{UPDATE, def as path_def};
use crate::ExpirationManager;
use crate::error::ExpirationError;

const INCREMENT: FieldDef = FieldDef::new(
    "increment",
    FieldType::Duration,
    "The requested amount of time (in seconds, or a duration string) to extend the lease by.",
);

/// On the bare paths the body must name the lease.
const FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "lease_id",
        FieldType::String,
        "The ID of the lease to renew.",
    )
    .required(),
    INCREMENT,
];

/// With the lease in the URL, the body may still name it (and then wins).
const URL_FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "lease_id",
        FieldType::String,
        "The ID of the lease to renew; overrides the one in the URL.",
    ),
    INCREMENT,
];

const HELP: &str = "Renew a lease, asking its backend to extend it by the increment (or its default); the new TTL may be capped by the lease's maximum. The lease id is given in the body or in the URL.";

/// The renew endpoint at `pattern` (`renew`, `renew/*url_lease_id` and
/// their `leases/` twins).
pub(super) fn def(pattern: &'static str) -> PathDef {
    let fields = if pattern.ends_with("*url_lease_id") {
        URL_FIELDS
    } else {
        FIELDS
    };
    path_def(pattern, fields, UPDATE, "Renew a lease of a secret.", HELP)
}

/// Renews the lease named in the body (which wins) or the URL. The answer
/// carries `lease_id`, `renewable` and `lease_duration` in the envelope.
pub(super) async fn renew(mgr: &ExpirationManager, call: &Call<'_>) -> Result<Option<Response>> {
    let url_id = call.capture("url_lease_id");
    let lease_id = call
        .fields
        .get_string("lease_id")?
        .filter(|s| !s.is_empty())
        .or_else(|| (!url_id.is_empty()).then(|| url_id.to_owned()))
        .ok_or(ExpirationError::MissingLeaseId)?;
    let increment = call.fields.get_duration("increment")?;
    let (entry, warnings) = mgr.renew_with_warnings(&lease_id, increment).await?;
    Ok(Some(Response {
        secret: Some(LeaseInfo {
            lease_id: entry.lease_id,
            ttl: entry.ttl,
            renewable: entry.renewable,
            ..LeaseInfo::default()
        }),
        warnings,
        ..Response::default()
    }))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use coffer_types::{Envelope, Operation};
    use serde_json::json;

    use crate::sys::call_sys;
    use crate::test_support::{Harness, no_body, request, secret};

    #[tokio::test]
    async fn renew_answers_in_the_envelope() {
        let h = Harness::new().await;
        let lease = h.mgr.register(secret("db/creds/a", 60)).await.unwrap();
        let req = request(
            Operation::Update,
            json!({"lease_id": lease.lease_id, "increment": "1h"}),
        );
        let resp = call_sys(&h.mgr, "leases/renew", &req)
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
        let resp = call_sys(&h.mgr, &url, &req).await.unwrap().unwrap();
        assert_eq!(resp.secret.unwrap().lease_id, a.lease_id);
        let req = request(Operation::Update, json!({"increment": 90}));
        let resp = call_sys(&h.mgr, &format!("leases/renew/{}", b.lease_id), &req)
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
        let err = call_sys(
            &h.mgr,
            "leases/renew",
            &request(Operation::Update, no_body()),
        )
        .await
        .unwrap_err();
        assert_eq!(
            (err.status(), err.messages()),
            (400, &["lease_id must be specified".to_owned()][..])
        );
        let req = request(Operation::Update, json!({"lease_id": "db/creds/a/gone"}));
        let err = call_sys(&h.mgr, "leases/renew", &req).await.unwrap_err();
        assert_eq!(
            (err.status(), err.messages()),
            (400, &["lease not found".to_owned()][..])
        );
        let mut fixed = secret("db/creds/a", 60);
        fixed.renewable = false;
        let fixed = h.mgr.register(fixed).await.unwrap();
        let req = request(Operation::Update, json!({"lease_id": fixed.lease_id}));
        let err = call_sys(&h.mgr, "leases/renew", &req).await.unwrap_err();
        assert_eq!(
            (err.status(), err.messages()),
            (400, &["lease is not renewable".to_owned()][..])
        );
        let req = request(
            Operation::Update,
            json!({"lease_id": fixed.lease_id, "increment": "soon"}),
        );
        let err = call_sys(&h.mgr, "leases/renew", &req).await.unwrap_err();
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
        let resp = call_sys(&h.mgr, "leases/renew", &req)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.secret.unwrap().ttl, Duration::from_secs(120));
        assert_eq!(resp.warnings.len(), 1);
    }
}
