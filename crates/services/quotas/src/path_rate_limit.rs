//! `sys/quotas/rate-limit/:name`: create, update, read and delete a quota.

use std::time::Duration;

use coffer_sdk::Call;
use coffer_types::{Error, Response, Result, parse_duration};
use serde_json::Value;

use crate::QuotaManager;
use crate::error::{QuotaError, shorten};
use crate::quota::{QuotaRecord, sanitize_path, split_at_mount, split_without_mounts};
use crate::rules::ActiveQuota;
use crate::store;
use crate::sys::quota_name;

/// Reads one quota; 404 when it does not exist.
pub(crate) async fn read(mgr: &QuotaManager, call: &Call<'_>) -> Result<Option<Response>> {
    let name = quota_name(call)?;
    let rules = mgr.rules();
    let quota = rules.quotas.get(name).ok_or_else(Error::not_found)?;
    Ok(Some(Response::with_data(quota.record.to_data())))
}

/// Deletes one quota (deleting a missing one succeeds, as in Vault).
pub(crate) async fn delete(mgr: &QuotaManager, call: &Call<'_>) -> Result<Option<Response>> {
    let name = quota_name(call)?;
    let _writing = mgr.writes.lock().await;
    store::delete_quota(&mgr.view, name).await?;
    mgr.install(mgr.rules().without(name));
    Ok(None)
}

/// Creates or replaces a quota. As in Vault, the body describes the whole
/// quota: omitted fields take their defaults.
pub(crate) async fn write(mgr: &QuotaManager, call: &Call<'_>) -> Result<Option<Response>> {
    let name = quota_name(call)?;
    let fields = &call.fields;
    let rate = parse_rate(fields.raw("rate"))?;
    let interval = parse_seconds("interval", fields.raw("interval"))?
        .map_err(|()| QuotaError::InvalidInterval)?;
    let interval = if interval.is_zero() {
        Duration::from_secs(1)
    } else {
        interval
    };
    let block = parse_seconds("block_interval", fields.raw("block_interval"))?
        .map_err(|()| QuotaError::InvalidBlock)?;

    let sanitized = sanitize_path(&fields.get_string("path")?.unwrap_or_default())?;
    let (mount_path, path_suffix) = if sanitized.is_empty() {
        (String::new(), String::new())
    } else {
        match mgr.mount_resolver() {
            Some(mounts) => {
                let mount = mounts
                    .matching_mount(&sanitized)
                    .filter(|m| !m.is_empty() && sanitized.starts_with(m.as_str()))
                    .ok_or_else(|| QuotaError::InvalidMountPath(shorten(&sanitized)))?;
                split_at_mount(&sanitized, &mount)
            }
            None => split_without_mounts(&sanitized),
        }
    };

    if fields.get_string("role")?.is_some_and(|r| !r.is_empty()) {
        return Err(if !path_suffix.is_empty() {
            QuotaError::RoleWithPathSuffix
        } else if !mount_path.starts_with("auth/") {
            QuotaError::RoleNotAuthMount(mount_path)
        } else {
            QuotaError::RoleUnsupported(mount_path)
        }
        .into());
    }
    match fields.get_bool("inheritable")? {
        Some(true) if !mount_path.is_empty() => {
            return Err(QuotaError::InheritableNotNamespace.into());
        }
        Some(false) if mount_path.is_empty() => {
            return Err(QuotaError::GlobalNotInheritable.into());
        }
        _ => {}
    }

    let _writing = mgr.writes.lock().await;
    let rules = mgr.rules();
    let login_default = rules
        .quotas
        .get(name)
        .is_some_and(|q| q.record.login_default);
    if login_default && !mount_path.is_empty() {
        return Err(QuotaError::DefaultLoginPath(name.to_owned()).into());
    }
    let record = QuotaRecord {
        name: name.to_owned(),
        mount_path,
        path_suffix,
        rate,
        interval_seconds: interval.as_secs(),
        block_interval_seconds: block.as_secs(),
        login_default,
    };
    if let Some(other) = rules.similar(&record) {
        return Err(QuotaError::SimilarQuotaExists(other.to_owned()).into());
    }
    store::save_quota(&mgr.view, &record).await?;
    mgr.install(rules.with_quota(ActiveQuota::new(record, mgr.next_generation())));
    Ok(None)
}

/// Vault's `TypeFloat` for `rate`, which must be positive (and, unlike in
/// Vault, finite).
fn parse_rate(raw: Option<&Value>) -> Result<f64, QuotaError> {
    let rate = match raw {
        None => 0.0,
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(Value::String(s)) if s.trim().is_empty() => 0.0,
        Some(Value::String(s)) => s.trim().parse().map_err(|_| QuotaError::InvalidField {
            field: "rate",
            value: shorten(s),
            reason: format!(
                "strconv.ParseFloat: parsing {:?}: invalid syntax",
                shorten(s)
            ),
        })?,
        Some(other) => {
            return Err(QuotaError::InvalidField {
                field: "rate",
                value: shorten(&other.to_string()),
                reason: "expected a number".into(),
            });
        }
    };
    if rate.is_finite() && rate > 0.0 {
        Ok(rate)
    } else {
        Err(QuotaError::InvalidRate)
    }
}

/// Vault's `TypeDurationSecond`: whole seconds (fractions truncated) from a
/// number or a duration string. The outer error is a conversion failure; the
/// inner `Err(())` means a negative duration, which the caller reports with
/// the field's own message.
fn parse_seconds(
    field: &'static str,
    raw: Option<&Value>,
) -> Result<Result<Duration, ()>, QuotaError> {
    let invalid = |value: &str, reason: String| QuotaError::InvalidField {
        field,
        value: shorten(value),
        reason,
    };
    match raw {
        None => Ok(Ok(Duration::ZERO)),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(secs) if secs < 0.0 => Ok(Err(())),
            Some(secs) if secs.is_finite() => Ok(Ok(Duration::from_secs(
                Duration::try_from_secs_f64(secs)
                    .map_err(|_| invalid(&n.to_string(), "out of range".into()))?
                    .as_secs(),
            ))),
            _ => Err(invalid(&n.to_string(), "out of range".into())),
        },
        Some(Value::String(s)) => {
            let trimmed = s.trim();
            if trimmed.starts_with('-') {
                return Ok(Err(()));
            }
            parse_duration(trimmed)
                .map(|d| Ok(Duration::from_secs(d.as_secs())))
                .map_err(|_| invalid(s, format!("time: invalid duration {:?}", shorten(s))))
        }
        Some(other) => Err(invalid(
            &other.to_string(),
            "could not parse duration from input".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{Harness, body, ip};
    use crate::{MountResolver, QuotaManager};
    use coffer_types::ErrorKind;
    use serde_json::json;
    use std::sync::Arc;

    struct Mounts(&'static [&'static str]);

    impl MountResolver for Mounts {
        fn matching_mount(&self, path: &str) -> Option<String> {
            self.0
                .iter()
                .filter(|m| path.starts_with(**m))
                .max_by_key(|m| m.len())
                .map(|m| (*m).to_owned())
        }
    }

    async fn harness_with_mounts() -> Harness {
        let h = Harness::new().await;
        h.mgr.set_mount_resolver(Arc::new(Mounts(&[
            "secret/",
            "team/kv/",
            "auth/userpass/",
            "sys/",
        ])));
        h
    }

    async fn bad(h: &Harness, body: Value) -> Vec<String> {
        let err = h.write("quotas/rate-limit/q", body).await.unwrap_err();
        assert_eq!(err.status(), 400, "{:?}", err.messages());
        err.messages().to_vec()
    }

    fn limited(mgr: &QuotaManager, path: &str, mount: &str) -> bool {
        mgr.check(path, mount, ip(1), false).is_err()
    }

    #[tokio::test]
    async fn create_read_update_delete() {
        let h = harness_with_mounts().await;
        let resp = h
            .write(
                "quotas/rate-limit/global-rate-limiter",
                json!({"path": "", "rate": 897.3, "interval": "2m", "block_interval": "5m"}),
            )
            .await
            .unwrap();
        assert!(resp.is_none());
        let resp = h
            .read("quotas/rate-limit/global-rate-limiter")
            .await
            .unwrap();
        assert_eq!(
            body(&resp),
            json!({
                "block_interval": 300, "interval": 120, "inheritable": true,
                "name": "global-rate-limiter", "path": "", "rate": 897.3,
                "role": "", "type": "rate-limit"
            })
        );
        // An update describes the whole quota: omitted fields reset.
        h.write(
            "quotas/rate-limit/global-rate-limiter",
            json!({"path": "secret/data/app", "rate": "5"}),
        )
        .await
        .unwrap();
        let resp = h
            .read("quotas/rate-limit/global-rate-limiter")
            .await
            .unwrap();
        assert_eq!(
            body(&resp),
            json!({
                "block_interval": 0, "interval": 1, "inheritable": false,
                "name": "global-rate-limiter", "path": "secret/data/app", "rate": 5,
                "role": "", "type": "rate-limit"
            })
        );
        assert!(
            h.delete("quotas/rate-limit/global-rate-limiter")
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            h.read("quotas/rate-limit/global-rate-limiter")
                .await
                .unwrap_err()
                .status(),
            404
        );
        // Deleting what is not there is fine.
        assert!(h.delete("quotas/rate-limit/never").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn paths_split_at_the_real_mount() {
        let h = harness_with_mounts().await;
        h.write("quotas/rate-limit/m", json!({"path": "/secret", "rate": 1}))
            .await
            .unwrap();
        h.write(
            "quotas/rate-limit/nested",
            json!({"path": "team/kv/data/*", "rate": 1}),
        )
        .await
        .unwrap();
        let path = |r: Option<Response>| body(&r)["path"].clone();
        assert_eq!(
            path(h.read("quotas/rate-limit/m").await.unwrap()),
            json!("secret/")
        );
        assert_eq!(
            path(h.read("quotas/rate-limit/nested").await.unwrap()),
            json!("team/kv/data/*")
        );
        assert!(!limited(&h.mgr, "team/kv/data/a", "team/kv/"));
        assert!(limited(&h.mgr, "team/kv/data/b", "team/kv/"));
        assert!(!limited(&h.mgr, "team/kv/metadata/a", "team/kv/"));
    }

    #[tokio::test]
    async fn precedence_path_over_mount_over_global() {
        let h = harness_with_mounts().await;
        for (name, body) in [
            ("global", json!({"rate": 3})),
            ("mount", json!({"path": "secret/", "rate": 2})),
            ("path", json!({"path": "secret/data/app", "rate": 1})),
        ] {
            h.write(&format!("quotas/rate-limit/{name}"), body)
                .await
                .unwrap();
        }
        let allowed = |path: &str, mount: &str| {
            let mut n = 0;
            while h.mgr.check(path, mount, ip(7), false).is_ok() && n < 100 {
                n += 1;
            }
            n
        };
        assert_eq!(allowed("secret/data/app", "secret/"), 1);
        assert_eq!(allowed("secret/data/other", "secret/"), 2);
        assert_eq!(allowed("sys/mounts", "sys/"), 3);
        // Each quota has its own bucket: the path quota's use did not
        // consume the mount's tokens, and refill restores them all.
        h.clock.advance(Duration::from_secs(1));
        assert_eq!(allowed("secret/data/app", "secret/"), 1);
        assert_eq!(allowed("secret/metadata/x", "secret/"), 2);
    }

    #[tokio::test]
    async fn token_bucket_refills_with_the_clock() {
        let h = Harness::new().await;
        h.write(
            "quotas/rate-limit/kv",
            json!({"path": "secret/", "rate": 10, "interval": "10s"}),
        )
        .await
        .unwrap();
        for _ in 0..10 {
            h.mgr.check("secret/x", "secret/", ip(1), false).unwrap();
        }
        let err = h
            .mgr
            .check("secret/x", "secret/", ip(1), false)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        assert_eq!(err.status(), 429);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
        // One token per second comes back.
        h.clock.advance(Duration::from_secs(1));
        h.mgr.check("secret/x", "secret/", ip(1), false).unwrap();
        assert!(h.mgr.check("secret/x", "secret/", ip(1), false).is_err());
        // Other clients have their own buckets.
        for n in 2..12 {
            h.mgr.check("secret/x", "secret/", ip(n), false).unwrap();
        }
        h.clock.advance(Duration::from_secs(10));
        for _ in 0..10 {
            h.mgr.check("secret/x", "secret/", ip(1), false).unwrap();
        }
        assert!(h.mgr.check("secret/x", "secret/", ip(1), false).is_err());
    }

    #[tokio::test]
    async fn block_interval_blocks_the_client() {
        let h = Harness::new().await;
        h.write(
            "quotas/rate-limit/kv",
            json!({"path": "secret/", "rate": 2, "block_interval": "90s"}),
        )
        .await
        .unwrap();
        h.mgr.check("secret/x", "secret/", ip(1), false).unwrap();
        h.mgr.check("secret/x", "secret/", ip(1), false).unwrap();
        let err = h
            .mgr
            .check("secret/x", "secret/", ip(1), false)
            .unwrap_err();
        assert_eq!(err.retry_after(), Some(Duration::from_secs(90)));
        h.clock.advance(Duration::from_secs(60));
        let err = h
            .mgr
            .check("secret/x", "secret/", ip(1), false)
            .unwrap_err();
        assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
        h.mgr.check("secret/x", "secret/", ip(2), false).unwrap();
        h.clock.advance(Duration::from_secs(30));
        h.mgr.check("secret/x", "secret/", ip(1), false).unwrap();
    }

    #[tokio::test]
    async fn validation_errors_use_vaults_messages() {
        let h = harness_with_mounts().await;
        assert_eq!(bad(&h, json!({"rate": -1})).await, ["'rate' is invalid"]);
        assert_eq!(bad(&h, json!({})).await, ["'rate' is invalid"]);
        assert_eq!(bad(&h, json!({"rate": 0})).await, ["'rate' is invalid"]);
        assert_eq!(bad(&h, json!({"rate": "NaN"})).await, ["'rate' is invalid"]);
        assert_eq!(
            bad(&h, json!({"rate": "fast"})).await,
            [
                "error converting input fast for field \"rate\": strconv.ParseFloat: parsing \"fast\": invalid syntax"
            ]
        );
        assert_eq!(
            bad(&h, json!({"rate": 1, "interval": "soon"})).await,
            ["error converting input soon for field \"interval\": time: invalid duration \"soon\""]
        );
        assert_eq!(
            bad(&h, json!({"rate": 1, "interval": [1]})).await,
            [
                "error converting input [1] for field \"interval\": could not parse duration from input"
            ]
        );
        assert_eq!(
            bad(&h, json!({"rate": 1, "interval": "-5s"})).await,
            ["'interval' is invalid"]
        );
        assert_eq!(
            bad(&h, json!({"rate": 1, "block_interval": -5})).await,
            ["'block' is invalid"]
        );
        assert_eq!(
            bad(&h, json!({"rate": 1, "path": "nowhere/x"})).await,
            ["invalid mount path \"nowhere/x/\""]
        );
        assert_eq!(
            bad(&h, json!({"rate": 1, "path": "secret/../sys"})).await,
            ["invalid mount path \"secret/../sys/\""]
        );
        assert_eq!(bad(&h, json!({"rate": 1, "path": {"a": 1}})).await.len(), 1);
        assert_eq!(
            bad(
                &h,
                json!({"rate": 1, "path": "secret/", "inheritable": true})
            )
            .await,
            ["only namespace quotas can be configured as inheritable"]
        );
        assert_eq!(
            bad(&h, json!({"rate": 1, "inheritable": false})).await,
            ["all global quotas must be inheritable"]
        );
        assert_eq!(
            bad(&h, json!({"rate": 1, "path": "secret/", "role": "r"})).await,
            [
                "Mount path \"secret/\" is not a valid auth method and therefore unsuitable for use with role-based quotas"
            ]
        );
        assert_eq!(
            bad(
                &h,
                json!({"rate": 1, "path": "auth/userpass/", "role": "r"})
            )
            .await,
            ["Mount path \"auth/userpass/\" does not support use with role-based quotas"]
        );
        assert_eq!(
            bad(
                &h,
                json!({"rate": 1, "path": "auth/userpass/login", "role": "r"})
            )
            .await,
            [
                "Quotas cannot contain both a path suffix and a role. If a role is provided, path must be a valid auth mount with a concept of roles"
            ]
        );
        // Nothing was stored by any of these.
        assert_eq!(h.mgr.quota_names(), ["default-login"]);
        // Fractions of a second truncate, and zero means one second.
        h.write(
            "quotas/rate-limit/q",
            json!({"rate": "2.5", "interval": "1500ms", "block_interval": 0.5}),
        )
        .await
        .unwrap();
        let resp = h.read("quotas/rate-limit/q").await.unwrap();
        assert_eq!(body(&resp)["interval"], json!(1));
        assert_eq!(body(&resp)["block_interval"], json!(0));
        assert_eq!(body(&resp)["rate"], json!(2.5));
    }

    #[tokio::test]
    async fn similar_quotas_are_refused() {
        let h = harness_with_mounts().await;
        h.write("quotas/rate-limit/a", json!({"path": "secret", "rate": 1}))
            .await
            .unwrap();
        assert_eq!(
            bad(&h, json!({"path": "secret/", "rate": 2})).await,
            ["quota rule with similar properties exists under the name \"a\""]
        );
        // Re-writing the same quota is an update, not a clash.
        h.write("quotas/rate-limit/a", json!({"path": "secret/", "rate": 2}))
            .await
            .unwrap();
        // A global quota may coexist with the default login quota.
        h.write("quotas/rate-limit/g", json!({"rate": 100}))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn default_login_quota_is_tunable_deletable_and_persistent() {
        let h = Harness::new().await;
        let resp = h.read("quotas/rate-limit/default-login").await.unwrap();
        assert_eq!(
            body(&resp),
            json!({
                "block_interval": 60, "interval": 2, "inheritable": true,
                "name": "default-login", "path": "", "rate": 20,
                "role": "", "type": "rate-limit"
            })
        );
        // Tune it: 2 logins per second, no block.
        h.write("quotas/rate-limit/default-login", json!({"rate": 2}))
            .await
            .unwrap();
        let login = |mgr: &QuotaManager| {
            mgr.check("auth/userpass/login/bob", "auth/userpass/", ip(1), true)
                .is_ok()
        };
        assert!(login(&h.mgr) && login(&h.mgr) && !login(&h.mgr));
        // It stays a login-only quota: other requests are not limited.
        for _ in 0..10 {
            h.mgr.check("secret/x", "secret/", ip(1), false).unwrap();
        }
        // It cannot be moved to a path.
        let err = h
            .write(
                "quotas/rate-limit/default-login",
                json!({"rate": 2, "path": "secret/"}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
        // The tuning survives a restart.
        let reloaded = h.reload().await;
        assert!(login(&reloaded) && login(&reloaded) && !login(&reloaded));
        // Deleted, it stays deleted across restarts.
        h.delete("quotas/rate-limit/default-login").await.unwrap();
        for _ in 0..100 {
            assert!(login(&h.mgr));
        }
        let reloaded = h.reload().await;
        assert!(reloaded.quota_names().is_empty());
        for _ in 0..100 {
            assert!(login(&reloaded));
        }
    }

    #[tokio::test]
    async fn quotas_persist_across_load() {
        let h = harness_with_mounts().await;
        h.write(
            "quotas/rate-limit/kv",
            json!({"path": "secret/data/app", "rate": 1, "interval": "1m", "block_interval": "2m"}),
        )
        .await
        .unwrap();
        let before = body(&h.read("quotas/rate-limit/kv").await.unwrap());
        let reloaded = h.reload().await;
        assert_eq!(reloaded.quota_names(), ["default-login", "kv"]);
        let after = reloaded.rules().quotas["kv"].record.to_data();
        assert_eq!(Value::Object(after), before);
        assert!(!limited(&reloaded, "secret/data/app", "secret/"));
        let err = reloaded
            .check("secret/data/app", "secret/", ip(1), false)
            .unwrap_err();
        assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    }

    #[tokio::test]
    async fn unknown_fields_are_warned_about() {
        let h = Harness::new().await;
        let resp = h
            .write(
                "quotas/rate-limit/q",
                json!({"rate": 1, "burst": 5, "aaa": 1}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            resp.warnings,
            ["Endpoint ignored these unrecognized parameters: [aaa burst]"]
        );
    }

    #[test]
    fn parsing_never_panics_on_odd_numbers() {
        assert!(parse_seconds("interval", Some(&json!(1e300))).is_err());
        assert_eq!(
            parse_seconds("interval", Some(&json!(90))).unwrap(),
            Ok(Duration::from_secs(90))
        );
        assert!(parse_rate(Some(&json!(true))).is_err());
        assert!(parse_rate(Some(&json!("inf"))).is_err());
    }
}
