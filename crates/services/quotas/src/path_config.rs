//! `sys/quotas/config`: read and update the quota configuration.

use coffer_sdk::Call;
use coffer_types::{Response, Result};

use crate::QuotaManager;
use crate::config::QuotaConfig;
use crate::store;

/// The configuration in force, including Vault's default exempt paths until
/// an operator writes the configuration.
pub(crate) async fn read(mgr: &QuotaManager, _call: &Call<'_>) -> Result<Option<Response>> {
    Ok(Some(Response::with_data(mgr.rules().config.to_data())))
}

/// Replaces the configuration. As in Vault, every field is written: an
/// omitted flag becomes `false` and omitted exempt paths become none.
pub(crate) async fn write(mgr: &QuotaManager, call: &Call<'_>) -> Result<Option<Response>> {
    let fields = &call.fields;
    let config = QuotaConfig {
        enable_rate_limit_audit_logging: fields
            .get_bool("enable_rate_limit_audit_logging")?
            .unwrap_or(false),
        enable_rate_limit_response_headers: fields
            .get_bool("enable_rate_limit_response_headers")?
            .unwrap_or(false),
        rate_limit_exempt_paths: fields
            .get_string_list("rate_limit_exempt_paths")?
            .unwrap_or_default(),
    };
    let _writing = mgr.writes.lock().await;
    store::save_config(&mgr.view, &config).await?;
    mgr.install(mgr.rules().with_config(config));
    Ok(None)
}

#[cfg(test)]
mod tests {
    use crate::DEFAULT_EXEMPT_PATHS;
    use crate::test_support::{Harness, body, ip};
    use serde_json::json;

    #[tokio::test]
    async fn defaults_then_update_then_persisted() {
        let h = Harness::new().await;
        let resp = h.read("quotas/config").await.unwrap();
        assert_eq!(
            body(&resp),
            json!({
                "enable_rate_limit_audit_logging": false,
                "enable_rate_limit_response_headers": false,
                "rate_limit_exempt_paths": DEFAULT_EXEMPT_PATHS,
            })
        );
        let resp = h
            .write(
                "quotas/config",
                json!({
                    "enable_rate_limit_audit_logging": true,
                    "enable_rate_limit_response_headers": "true",
                    "rate_limit_exempt_paths": ["sys/health", "secret/public/*"],
                }),
            )
            .await
            .unwrap();
        assert!(resp.is_none());
        assert!(h.mgr.audit_logging_enabled());
        assert!(h.mgr.response_headers_enabled());
        let expected = json!({
            "enable_rate_limit_audit_logging": true,
            "enable_rate_limit_response_headers": true,
            "rate_limit_exempt_paths": ["sys/health", "secret/public/*"],
        });
        assert_eq!(body(&h.read("quotas/config").await.unwrap()), expected);
        let reloaded = h.reload().await;
        assert_eq!(
            serde_json::Value::Object(reloaded.rules().config.to_data()),
            expected
        );
    }

    #[tokio::test]
    async fn exempt_paths_take_effect() {
        let h = Harness::new().await;
        h.write("quotas/rate-limit/g", json!({"rate": 1}))
            .await
            .unwrap();
        h.write(
            "quotas/config",
            json!({"rate_limit_exempt_paths": "secret/public/*"}),
        )
        .await
        .unwrap();
        for _ in 0..5 {
            h.mgr
                .check("secret/public/x", "secret/", ip(1), false)
                .unwrap();
        }
        // sys/health is no longer exempt: the operator replaced the list.
        h.mgr.check("sys/health", "sys/", ip(1), false).unwrap();
        assert!(h.mgr.check("sys/health", "sys/", ip(1), false).is_err());
        // An emptied list survives a restart (the defaults do not come back).
        h.write("quotas/config", json!({})).await.unwrap();
        let reloaded = h.reload().await;
        assert!(reloaded.rules().config.rate_limit_exempt_paths.is_empty());
    }

    #[tokio::test]
    async fn bad_types_and_unknown_fields() {
        let h = Harness::new().await;
        let err = h
            .write(
                "quotas/config",
                json!({"enable_rate_limit_audit_logging": "maybe"}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
        let resp = h
            .write("quotas/config", json!({"bogus": 1}))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            resp.warnings,
            ["Endpoint ignored these unrecognized parameters: [bogus]"]
        );
    }
}
