//! `tidy/secret-id`: removes expired secret ids and dangling index entries.
//!
//! Vault starts the work in the background and answers 202 at once; here the
//! work is done before answering (with the same 202 and warning), so a
//! successful answer means the tidy has finished.

use coffer_sdk::{Call, PathDef};
use coffer_types::{Operation, Response, Result};

use crate::AppRole;
use crate::env::Env;

/// `tidy/secret-id`.
pub(crate) fn definition() -> PathDef {
    PathDef {
        pattern: "tidy/secret-id",
        fields: &[],
        operations: &[Operation::Update],
        existence_check: false,
        synopsis: "Trigger the clean-up of expired SecretID entries.",
        description: "SecretIDs will have expiration time attached to them. The periodic function
of the backend will look for expired entries and delete them. This happens once in a minute. Invoking
this endpoint will trigger the clean-up action, without waiting for the backend's periodic function.",
    }
}

/// Runs the tidy over both the replicated and the local secret ids.
pub(crate) async fn tidy(b: &AppRole, call: &Call<'_>) -> Result<Option<Response>> {
    let env = Env::open(b, call).await?;
    let _guard = env.lock.write().await;
    let now = env.now();
    env.store.tidy("secret_id/", "accessor/", now).await?;
    env.store
        .tidy("secret_id_local/", "accessor_local/", now)
        .await?;
    Ok(Some(Response {
        warnings: vec![
            "Tidy operation successfully started. Any information from the operation will be printed to Vault's server logs."
                .to_owned(),
        ],
        status: Some(202),
        ..Response::default()
    }))
}

#[cfg(test)]
mod tests {
    use crate::test_support::{Harness, body};
    use coffer_types::Operation;
    use serde_json::json;

    #[tokio::test]
    async fn removes_only_expired_secret_ids() {
        let h = Harness::new();
        h.call(Operation::Create, "role/web", json!({}))
            .await
            .unwrap();
        h.call(
            Operation::Create,
            "role/local",
            json!({"local_secret_ids": true}),
        )
        .await
        .unwrap();
        let short = h.secret_id("web", json!({"ttl": 60})).await;
        let long = h.secret_id("web", json!({"ttl": 3600})).await;
        let forever = h.secret_id("web", json!({})).await;
        let local_short = h.secret_id("local", json!({"ttl": 60})).await;
        assert_eq!(
            body(&h.read("role/local/local-secret-ids").await),
            json!({"local_secret_ids": true})
        );
        h.advance(61);

        let resp = h
            .call(Operation::Update, "tidy/secret-id", json!({}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.status, Some(202));
        assert!(resp.warnings[0].starts_with("Tidy operation successfully started"));

        let lookup = |s: String, role: &'static str| {
            let h = &h;
            async move {
                h.call(
                    Operation::Update,
                    &format!("role/{role}/secret-id/lookup"),
                    json!({"secret_id": s}),
                )
                .await
                .unwrap()
                .is_some()
            }
        };
        assert!(!lookup(short, "web").await, "expired secret id removed");
        assert!(
            !lookup(local_short, "local").await,
            "expired local secret id removed"
        );
        assert!(lookup(long, "web").await);
        assert!(lookup(forever, "web").await);
        let listed = body(
            &h.call(Operation::List, "role/web/secret-id", json!({}))
                .await
                .unwrap()
                .unwrap(),
        );
        assert_eq!(listed["keys"].as_array().unwrap().len(), 2);
        // Exactly the two survivors' accessor entries are left.
        assert_eq!(h.keys_under("accessor/").await.len(), 2);
        assert!(h.keys_under("accessor_local/").await.is_empty());
    }
}
