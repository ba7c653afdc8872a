//! `login` (role id and secret id to a [`LoginGrant`]) and the renewal of
//! tokens it issued.
//!
//! A failed login says only what Vault says, with status 400, and does the
//! same work whether or not the role exists: the secret id is HMACed and a
//! secret-id record is read either way, and HMACs are compared in constant
//! time. The only state a failure may change is a secret id's use count (as
//! Vault, a use is spent before the CIDR checks) or the removal of an expired
//! secret id.

use std::collections::BTreeMap;

use coffer_sdk::cidr::{allowed, parse_cidrs};
use coffer_sdk::{Call, FieldDef, FieldType, PathDef};
use coffer_types::{AliasGrant, LoginGrant, Operation, Response, Result, Sensitive};
use serde_json::{Map, Value};

use crate::env::{Env, trimmed};
use crate::error::AppRoleError;
use crate::role::Role;
use crate::store::Store;
use crate::{AppRole, cidrs};

const FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "role_id",
        FieldType::String,
        "Unique identifier of the Role. Required to be supplied when the 'bind_secret_id' constraint is set.",
    )
    .required()
    .sensitive(),
    FieldDef::new(
        "secret_id",
        FieldType::String,
        "SecretID belong to the App role",
    )
    .sensitive(),
];

/// `login`.
pub(crate) fn definition() -> PathDef {
    PathDef {
        pattern: "login",
        fields: FIELDS,
        operations: &[Operation::Update],
        existence_check: false,
        synopsis: "Issue a token based on the credentials supplied",
        description: "While the credential 'role_id' is required at all times,
other credentials required depends on the properties App role
to which the 'role_id' belongs to. The 'bind_secret_id'
constraint (enabled by default) on the App role requires the
'secret_id' credential to be presented.

'role_id' is fetched using the 'role/<role_name>/role_id'
endpoint and 'secret_id' is fetched using the 'role/<role_name>/secret_id'
endpoint.",
    }
}

/// Handles a login; every failure is counted in
/// `coffer_login_failures_total`.
pub(crate) async fn login(b: &AppRole, call: &Call<'_>) -> Result<Option<Response>> {
    let env = &Env::open(b, call).await?;
    let result = attempt(env).await;
    if result.is_err() {
        let mount = if env.ctx.config.accessor.is_empty() {
            env.req.mount_accessor.clone()
        } else {
            env.ctx.config.accessor.clone()
        };
        metrics::counter!("coffer_login_failures_total", "mount" => mount, "method" => "approle")
            .increment(1);
    }
    result
}

/// What a verified secret id contributes to the grant.
struct Verified {
    metadata: BTreeMap<String, String>,
    token_bound_cidrs: Vec<String>,
}

async fn attempt(env: &Env<'_>) -> Result<Option<Response>> {
    let fd = &env.fields;
    let role_id = Sensitive::new(trimmed(fd, "role_id")?);
    if role_id.is_empty() {
        return Err(AppRoleError::Missing("role_id").into());
    }
    let secret_id = Sensitive::new(trimmed(fd, "secret_id")?);
    // HMAC the secret id before anything depends on the role.
    let secret_id_hmac = env.store.secret_id_hmac(secret_id.expose());
    let creds = Credentials {
        role_id: role_id.expose(),
        secret_id: secret_id.expose(),
        secret_id_hmac: &secret_id_hmac,
    };
    // A login that changes nothing (a secret id without a use limit, the
    // common case) runs beside other logins under the shared lock; one that
    // must spend a use or remove a secret id starts over under the
    // exclusive lock, as Vault's per-secret-id read and write locks do.
    {
        let _shared = env.lock.read().await;
        if let Checked::Granted(grant) = check(env, &creds, Access::Shared).await? {
            return Ok(granted(grant));
        }
    }
    let _exclusive = env.lock.write().await;
    match check(env, &creds, Access::Exclusive).await? {
        Checked::Granted(grant) => Ok(granted(grant)),
        // Under the exclusive lock every change is allowed, so this cannot
        // happen; refuse rather than grant.
        Checked::NeedsExclusive => Err(AppRoleError::InvalidCredentials.into()),
    }
}

/// The credentials of one login.
struct Credentials<'c> {
    role_id: &'c str,
    secret_id: &'c str,
    secret_id_hmac: &'c str,
}

/// Which lock a login check holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// The shared lock: the check may not change any record.
    Shared,
    /// The exclusive lock: the check may spend a use or remove a secret id.
    Exclusive,
}

/// What a login check decided, when it did not fail.
enum Checked {
    /// The login succeeds with this grant.
    Granted(Box<LoginGrant>),
    /// The login must change a record: check again under the exclusive lock.
    NeedsExclusive,
}

/// Checks a login's credentials under the lock `access` says is held.
async fn check(env: &Env<'_>, creds: &Credentials<'_>, access: Access) -> Result<Checked> {
    let Some(role) = find_role(&env.store, creds.role_id).await? else {
        // The same storage read a known role costs, then the same answer a
        // known role with a wrong secret id gets.
        // ("-" is not a valid role name, so these keys never exist.)
        let decoy = Role::new("-", String::new());
        let _ = env.store.role(&decoy.name).await;
        let _ = env.store.secret_id(&decoy, creds.secret_id_hmac).await;
        let _ = env.store.accessor(&decoy, creds.secret_id_hmac).await;
        return Err(if creds.secret_id.is_empty() {
            AppRoleError::Missing("secret_id")
        } else {
            AppRoleError::InvalidCredentials
        }
        .into());
    };

    let verified = if role.bind_secret_id {
        if creds.secret_id.is_empty() {
            return Err(AppRoleError::Missing("secret_id").into());
        }
        match use_secret_id(env, &role, creds.secret_id_hmac, access).await? {
            Some(verified) => Some(verified),
            None => return Ok(Checked::NeedsExclusive),
        }
    } else {
        None
    };

    if !role.secret_id_bound_cidrs.is_empty() {
        let addr = env.req.client_addr.ok_or(AppRoleError::NoConnectionInfo)?;
        let blocks = parse_cidrs(&role.secret_id_bound_cidrs)?;
        if !allowed(&blocks, Some(addr)) {
            return Err(AppRoleError::RoleCidr(addr.to_string()).into());
        }
    }

    Ok(Checked::Granted(Box::new(grant(&role, verified))))
}

/// The answer to a successful login.
fn granted(grant: Box<LoginGrant>) -> Option<Response> {
    Some(Response {
        login: Some(grant),
        ..Response::default()
    })
}

/// The role whose role id is `role_id`, compared in constant time.
async fn find_role(store: &Store<'_>, role_id: &str) -> Result<Option<Role>, AppRoleError> {
    let Some(name) = store.role_name_by_id(role_id).await? else {
        return Ok(None);
    };
    Ok(store
        .role(&name)
        .await?
        .filter(|r| Store::same_hmac(&r.role_id, role_id)))
}

/// Checks the secret id and spends one use of it. `None` when that needs a
/// change (a use to spend, a secret id to remove) and only the shared lock
/// is held.
async fn use_secret_id(
    env: &Env<'_>,
    role: &Role,
    secret_id_hmac: &str,
    access: Access,
) -> Result<Option<Verified>> {
    let store = &env.store;
    let Some(mut entry) = store
        .secret_id(role, secret_id_hmac)
        .await?
        .filter(|e| Store::same_hmac(&e.secret_id_hmac, secret_id_hmac))
    else {
        return Err(AppRoleError::InvalidCredentials.into());
    };
    // A secret id without its accessor index, or past its TTL, is removed.
    let now = env.now();
    let orphaned = store.accessor(role, &entry.accessor).await?.is_none();
    if (orphaned || entry.expired(now) || entry.num_uses != 0) && access == Access::Shared {
        return Ok(None);
    }
    if orphaned || entry.expired(now) {
        store.delete_secret_id(role, &entry).await?;
        return Err(AppRoleError::InvalidCredentials.into());
    }
    match entry.num_uses {
        0 => {}
        1 => store.delete_secret_id(role, &entry).await?,
        n => {
            entry.num_uses = n - 1;
            entry.last_updated_time = now;
            store.update_secret_id(role, &entry).await?;
        }
    }

    if !cidrs::is_subset(&role.secret_id_bound_cidrs, &entry.cidr_list) {
        return Err(AppRoleError::CidrNotSubset {
            role: role.secret_id_bound_cidrs.clone(),
            secret_id: entry.cidr_list,
        }
        .into());
    }
    if !entry.cidr_list.is_empty() {
        let addr = env.req.client_addr.ok_or(AppRoleError::NoConnectionInfo)?;
        let blocks = parse_cidrs(&entry.cidr_list)?;
        if !allowed(&blocks, Some(addr)) {
            return Err(AppRoleError::SecretIdCidr(addr.to_string()).into());
        }
    }
    Ok(Some(Verified {
        metadata: entry.metadata,
        token_bound_cidrs: entry.token_bound_cidrs,
    }))
}

/// The grant for a successful login, as Vault builds its `logical.Auth`.
fn grant(role: &Role, verified: Option<Verified>) -> LoginGrant {
    let (mut metadata, secret_cidrs) = match verified {
        Some(v) => (v.metadata, v.token_bound_cidrs),
        None => (BTreeMap::new(), Vec::new()),
    };
    metadata.insert("role_name".into(), role.name.clone());
    let mut grant = LoginGrant::default();
    role.token.apply_to_grant(&mut grant);
    // The secret id's token CIDRs (a subset of the role's when issued)
    // override the role's.
    if !secret_cidrs.is_empty() {
        grant.bound_cidrs = secret_cidrs;
    }
    grant.metadata = metadata.clone();
    grant.alias = Some(AliasGrant {
        name: role.role_id.clone(),
        metadata,
    });
    let mut internal = Map::new();
    internal.insert("role_name".into(), Value::String(role.name.clone()));
    grant.internal_data = internal;
    grant
}

/// Renewal of a token issued by this method: refused when the role is gone;
/// TTL, max TTL and period are refreshed from the role, as Vault does.
pub(crate) async fn renew(store: &Store<'_>, grant: &LoginGrant) -> Result<LoginGrant> {
    let name = grant
        .internal_data
        .get("role_name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or(AppRoleError::NoRoleInGrant)?;
    let Some(role) = store.role(name).await? else {
        return Err(AppRoleError::RoleGoneDuringRenewal(name.to_owned()).into());
    };
    let mut renewed = grant.clone();
    renewed.ttl = role.token.ttl;
    renewed.max_ttl = role.token.max_ttl;
    renewed.period = role.token.period;
    Ok(renewed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    use coffer_sdk::Backend;
    use coffer_types::Request;
    use serde_json::json;

    use crate::test_support::{Harness, body};

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    async fn role(h: &Harness, name: &str, body: serde_json::Value) -> String {
        h.call(Operation::Create, &format!("role/{name}"), body)
            .await
            .unwrap();
        h.role_id(name).await
    }

    #[tokio::test]
    async fn login_builds_the_grant_like_vault() {
        let h = Harness::new();
        let role_id = role(
            &h,
            "web",
            json!({"token_policies": "app,db", "token_ttl": "10m", "token_max_ttl": "1h",
                   "token_num_uses": 3, "token_bound_cidrs": "10.0.0.0/8", "token_type": "service"}),
        )
        .await;
        let secret = h
            .secret_id("web", json!({"metadata": "{\"env\": \"prod\"}"}))
            .await;
        let g = h.login(&role_id, &secret, None).await.unwrap();
        assert_eq!(g.policies, ["app", "db"]);
        assert_eq!(g.ttl, Duration::from_secs(600));
        assert_eq!(g.max_ttl, Duration::from_secs(3600));
        assert_eq!(g.num_uses, 3);
        assert_eq!(g.token_type, "service");
        assert!(g.renewable);
        assert_eq!(g.bound_cidrs, ["10.0.0.0/8"]);
        let meta: Vec<(&str, &str)> = g
            .metadata
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(meta, [("env", "prod"), ("role_name", "web")]);
        let alias = g.alias.as_ref().unwrap();
        assert_eq!(alias.name, role_id);
        assert_eq!(alias.metadata, g.metadata);
        assert_eq!(g.internal_data["role_name"], json!("web"));

        // A secret id's token_bound_cidrs override the role's.
        let narrow = h
            .secret_id("web", json!({"token_bound_cidrs": "10.1.0.0/16"}))
            .await;
        let g = h.login(&role_id, &narrow, None).await.unwrap();
        assert_eq!(g.bound_cidrs, ["10.1.0.0/16"]);
        // Surrounding blanks are ignored, as Vault trims both credentials.
        h.login(&format!(" {role_id} "), &format!("{secret}\n"), None)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn failures_say_nothing_about_the_role() {
        let h = Harness::new();
        let role_id = role(&h, "web", json!({})).await;
        let secret = h.secret_id("web", json!({"num_uses": 0})).await;
        let before = h.everything().await;
        let cases = [
            (json!({}), "missing role_id"),
            (json!({"secret_id": secret}), "missing role_id"),
            (json!({"role_id": role_id}), "missing secret_id"),
            (json!({"role_id": "unknown"}), "missing secret_id"),
            (
                json!({"role_id": "unknown", "secret_id": secret}),
                "invalid role or secret ID",
            ),
            (
                json!({"role_id": role_id, "secret_id": "wrong"}),
                "invalid role or secret ID",
            ),
            (
                json!({"role_id": role_id, "secret_id": "x".repeat(5000)}),
                "invalid role or secret ID",
            ),
        ];
        for (req, msg) in cases {
            let err = h
                .call(Operation::Update, "login", req.clone())
                .await
                .unwrap_err();
            assert_eq!(err.status(), 400, "{req}");
            assert_eq!(err.messages(), [msg], "{req}");
        }
        assert!(
            h.everything().await == before,
            "failed logins changed nothing"
        );
        // The secret id of one role does not open another.
        let other = role(&h, "other", json!({})).await;
        assert_eq!(
            h.login(&other, &secret, None).await.unwrap_err().messages(),
            ["invalid role or secret ID"]
        );
    }

    #[tokio::test]
    async fn num_uses_are_spent_then_the_secret_id_is_gone() {
        let h = Harness::new();
        let role_id = role(&h, "web", json!({"secret_id_num_uses": 3})).await;
        let secret = h.secret_id("web", json!({"num_uses": 2})).await;
        let lookup = || {
            h.call(
                Operation::Update,
                "role/web/secret-id/lookup",
                json!({"secret_id": secret}),
            )
        };
        h.login(&role_id, &secret, None).await.unwrap();
        let data = body(&lookup().await.unwrap().unwrap());
        assert_eq!(data["secret_id_num_uses"], json!(1));
        h.login(&role_id, &secret, None).await.unwrap();
        assert!(lookup().await.unwrap().is_none(), "the last use deletes it");
        assert!(h.keys_under("accessor/").await.is_empty());
        assert_eq!(
            h.login(&role_id, &secret, None)
                .await
                .unwrap_err()
                .messages(),
            ["invalid role or secret ID"]
        );
    }

    #[tokio::test]
    async fn concurrent_logins_never_overspend() {
        let h = Harness::new();
        let role_id = role(&h, "web", json!({})).await;
        let secret = h.secret_id("web", json!({"num_uses": 3})).await;
        let attempts: Vec<_> = (0..8).map(|_| h.login(&role_id, &secret, None)).collect();
        let results = futures_join(attempts).await;
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn parallel_logins_spend_exactly_the_uses_and_unlimited_ones_change_nothing() {
        let h = Arc::new(Harness::new());
        let role_id = role(&h, "web", json!({})).await;
        let limited = h.secret_id("web", json!({"num_uses": 5})).await;
        let unlimited = h.secret_id("web", json!({})).await;
        let before = h.everything().await;
        let mut tasks = Vec::new();
        for i in 0..48 {
            let (h, role_id) = (h.clone(), role_id.clone());
            let secret = if i % 2 == 0 {
                limited.clone()
            } else {
                unlimited.clone()
            };
            tasks.push(tokio::spawn(async move {
                (i % 2 == 0, h.login(&role_id, &secret, None).await.is_ok())
            }));
        }
        let (mut limited_ok, mut unlimited_ok) = (0, 0);
        for task in tasks {
            match task.await.unwrap() {
                (true, ok) => limited_ok += usize::from(ok),
                (false, ok) => unlimited_ok += usize::from(ok),
            }
        }
        assert_eq!(limited_ok, 5, "exactly the uses granted");
        assert_eq!(unlimited_ok, 24, "an unlimited secret id never runs out");
        // Only the spent secret id's records changed: it is gone, and the
        // unlimited one's record is byte for byte what it was.
        let after = h.everything().await;
        assert_eq!(after.len(), before.len() - 2);
        assert!(after.iter().all(|kv| before.contains(kv)));
    }

    async fn futures_join<F: std::future::Future>(futs: Vec<F>) -> Vec<F::Output> {
        let mut set = Vec::new();
        for f in futs {
            set.push(Box::pin(f));
        }
        let mut out = Vec::new();
        // Poll them interleaved: each awaits the lock in turn.
        let joined = async {
            let mut pending: Vec<_> = set.into_iter().map(Some).collect();
            std::future::poll_fn(|cx| {
                let mut done = true;
                for slot in pending.iter_mut() {
                    if let Some(f) = slot {
                        match f.as_mut().poll(cx) {
                            std::task::Poll::Ready(v) => {
                                out.push(v);
                                *slot = None;
                            }
                            std::task::Poll::Pending => done = false,
                        }
                    }
                }
                if done {
                    std::task::Poll::Ready(())
                } else {
                    std::task::Poll::Pending
                }
            })
            .await;
        };
        joined.await;
        out
    }

    #[tokio::test]
    async fn expired_secret_ids_fail_and_are_removed() {
        let h = Harness::new();
        let role_id = role(&h, "web", json!({"secret_id_ttl": "1h"})).await;
        let secret = h.secret_id("web", json!({"ttl": 60})).await;
        h.advance(60);
        h.login(&role_id, &secret, None).await.unwrap();
        h.advance(1);
        assert_eq!(
            h.login(&role_id, &secret, None)
                .await
                .unwrap_err()
                .messages(),
            ["invalid role or secret ID"]
        );
        let looked = h
            .call(
                Operation::Update,
                "role/web/secret-id/lookup",
                json!({"secret_id": secret}),
            )
            .await
            .unwrap();
        assert!(looked.is_none(), "removed on the failed use");
        assert!(h.keys_under("accessor/").await.is_empty());
    }

    #[tokio::test]
    async fn role_cidrs_bind_the_login_address() {
        let h = Harness::new();
        let role_id = role(
            &h,
            "web",
            json!({"secret_id_bound_cidrs": "10.0.0.0/8, 192.168.0.0/16"}),
        )
        .await;
        let secret = h.secret_id("web", json!({})).await;
        h.login(&role_id, &secret, ip("10.2.3.4")).await.unwrap();
        h.login(&role_id, &secret, ip("::ffff:192.168.1.1"))
            .await
            .unwrap();
        let err = h
            .login(&role_id, &secret, ip("172.16.0.1"))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(
            err.messages(),
            ["source address \"172.16.0.1\" unauthorized by CIDR restrictions on the role"]
        );
        let err = h.login(&role_id, &secret, None).await.unwrap_err();
        assert_eq!(err.messages(), ["failed to get connection information"]);
    }

    #[tokio::test]
    async fn secret_id_cidrs_bind_the_login_address() {
        let h = Harness::new();
        let role_id = role(&h, "web", json!({})).await;
        let secret = h
            .secret_id("web", json!({"cidr_list": ["127.0.0.1/32", "10.0.0.0/24"]}))
            .await;
        h.login(&role_id, &secret, ip("127.0.0.1")).await.unwrap();
        h.login(&role_id, &secret, ip("10.0.0.200")).await.unwrap();
        let err = h
            .login(&role_id, &secret, ip("10.0.1.1"))
            .await
            .unwrap_err();
        assert_eq!(
            err.messages(),
            ["source address \"10.0.1.1\" unauthorized by CIDR restrictions on the secret ID"]
        );
        let err = h.login(&role_id, &secret, None).await.unwrap_err();
        assert_eq!(err.status(), 500);

        // Narrowing the role after issue makes the secret id unusable.
        h.call(
            Operation::Update,
            "role/web",
            json!({"secret_id_bound_cidrs": "192.168.0.0/16"}),
        )
        .await
        .unwrap();
        let err = h
            .login(&role_id, &secret, ip("127.0.0.1"))
            .await
            .unwrap_err();
        assert!(err.messages()[0].starts_with("failed to verify subset relationship"));
    }

    #[tokio::test]
    async fn role_id_alone_when_bind_secret_id_is_off() {
        let h = Harness::new();
        // Vault requires another constraint when no secret id is bound.
        let err = h
            .call(
                Operation::Create,
                "role/open",
                json!({"bind_secret_id": false}),
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.messages(),
            ["at least one constraint should be enabled on the role"]
        );
        let role_id = role(
            &h,
            "open",
            json!({"bind_secret_id": false, "secret_id_bound_cidrs": "10.0.0.0/8"}),
        )
        .await;
        let login = |addr| {
            h.call_from(
                Operation::Update,
                "login",
                json!({"role_id": role_id}),
                addr,
            )
        };
        let g = login(ip("10.1.1.1")).await.unwrap().unwrap().login.unwrap();
        assert_eq!(
            g.metadata.get("role_name").map(String::as_str),
            Some("open")
        );
        assert!(login(ip("11.0.0.1")).await.is_err());
        // A role bound only by token CIDRs logs in from anywhere, the token
        // carrying the binding.
        let tok = role(
            &h,
            "tok",
            json!({"bind_secret_id": false, "token_bound_cidrs": "10.0.0.0/8"}),
        )
        .await;
        let g = h
            .call(Operation::Update, "login", json!({"role_id": tok}))
            .await
            .unwrap()
            .unwrap()
            .login
            .unwrap();
        assert_eq!(g.bound_cidrs, ["10.0.0.0/8"]);
    }

    #[tokio::test]
    async fn renewal_refreshes_ttls_and_refuses_deleted_roles() {
        let h = Harness::new();
        let role_id = role(&h, "web", json!({"token_ttl": 60, "token_policies": "a"})).await;
        let secret = h.secret_id("web", json!({})).await;
        let g = h.login(&role_id, &secret, None).await.unwrap();
        h.call(
            Operation::Update,
            "role/web",
            json!({"token_ttl": 120, "token_period": 30}),
        )
        .await
        .unwrap();
        let renewed = h.backend.renew_login(&h.ctx, &g).await.unwrap();
        assert_eq!(renewed.ttl, Duration::from_secs(120));
        assert_eq!(renewed.period, Duration::from_secs(30));
        assert_eq!(renewed.policies, ["a"]);

        h.call(Operation::Delete, "role/web", json!({}))
            .await
            .unwrap();
        let err = h.backend.renew_login(&h.ctx, &g).await.unwrap_err();
        assert_eq!(
            err.messages(),
            ["role \"web\" does not exist during renewal"]
        );
        let err = h
            .backend
            .renew_login(&h.ctx, &LoginGrant::default())
            .await
            .unwrap_err();
        assert_eq!(err.messages(), ["failed to fetch role_name during renewal"]);
        // The role's secret ids went with it.
        assert!(h.keys_under("secret_id/").await.is_empty());
        assert!(h.keys_under("accessor/").await.is_empty());
        assert!(h.keys_under("role_id/").await.is_empty());
    }

    #[tokio::test]
    async fn secret_ids_are_never_stored_in_clear() {
        let h = Harness::new();
        let role_id = role(&h, "web", json!({})).await;
        let canary = "canary-secret-id-0451";
        h.call(
            Operation::Update,
            "role/web/custom-secret-id",
            json!({"secret_id": canary, "num_uses": 5}),
        )
        .await
        .unwrap();
        let generated = h.secret_id("web", json!({})).await;
        h.login(&role_id, canary, None).await.unwrap();
        h.login(&role_id, &generated, None).await.unwrap();
        let everything = h.everything().await;
        assert!(everything.len() >= 6);
        for needle in [canary, generated.as_str()] {
            for (k, v) in &everything {
                assert!(!k.contains(needle), "{k}");
                let text = String::from_utf8_lossy(v);
                assert!(!text.contains(needle), "secret id stored in clear at {k}");
            }
        }
        // Role ids only appear inside the role record, never in a key.
        assert!(everything.iter().all(|(k, _)| !k.contains(&role_id)));
    }

    #[tokio::test]
    async fn debug_output_hides_credentials() {
        let h = Harness::new();
        let role_id = role(&h, "web", json!({})).await;
        let secret = h.secret_id("web", json!({})).await;
        let mut req = Request::new(Operation::Update, "login");
        req.data = json!({"role_id": role_id, "secret_id": secret})
            .as_object()
            .unwrap()
            .clone();
        let resp = h.backend.handle(&h.ctx, &req).await.unwrap().unwrap();
        for shown in [
            format!("{req:?}"),
            format!("{resp:?}"),
            format!("{:?}", h.backend),
        ] {
            assert!(!shown.contains(&secret), "{shown}");
        }
        let issued = h
            .call(Operation::Update, "role/web/secret-id", json!({}))
            .await
            .unwrap()
            .unwrap();
        let fresh = body(&issued)["secret_id"].as_str().unwrap().to_owned();
        assert!(!format!("{issued:?}").contains(&fresh));
        let err = h
            .login(&role_id, "canary-wrong-secret", None)
            .await
            .unwrap_err();
        assert!(!format!("{err:?} {err}").contains("canary"));
    }

    /// A recorder that counts `coffer_login_failures_total` for this mount.
    struct FailureRecorder(Arc<Failures>);

    struct Failures(AtomicU64);

    impl metrics::CounterFn for Failures {
        fn increment(&self, value: u64) {
            self.0.fetch_add(value, Ordering::SeqCst);
        }
        fn absolute(&self, value: u64) {
            self.0.store(value, Ordering::SeqCst);
        }
    }

    impl metrics::Recorder for FailureRecorder {
        fn describe_counter(
            &self,
            _: metrics::KeyName,
            _: Option<metrics::Unit>,
            _: metrics::SharedString,
        ) {
        }
        fn describe_gauge(
            &self,
            _: metrics::KeyName,
            _: Option<metrics::Unit>,
            _: metrics::SharedString,
        ) {
        }
        fn describe_histogram(
            &self,
            _: metrics::KeyName,
            _: Option<metrics::Unit>,
            _: metrics::SharedString,
        ) {
        }
        fn register_counter(
            &self,
            key: &metrics::Key,
            _: &metrics::Metadata<'_>,
        ) -> metrics::Counter {
            let labels: Vec<(String, String)> = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            let expected = [
                ("mount".to_owned(), "auth_approle_test".to_owned()),
                ("method".to_owned(), "approle".to_owned()),
            ];
            if key.name() == "coffer_login_failures_total" && labels == expected {
                metrics::Counter::from_arc(self.0.clone())
            } else {
                metrics::Counter::noop()
            }
        }
        fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
            metrics::Gauge::noop()
        }
        fn register_histogram(
            &self,
            _: &metrics::Key,
            _: &metrics::Metadata<'_>,
        ) -> metrics::Histogram {
            metrics::Histogram::noop()
        }
    }

    #[test]
    fn failed_logins_are_counted() {
        let failures = Arc::new(Failures(AtomicU64::new(0)));
        let recorder = FailureRecorder(failures.clone());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        metrics::with_local_recorder(&recorder, || {
            rt.block_on(async {
                let h = Harness::new();
                let role_id = role(&h, "web", json!({})).await;
                let secret = h.secret_id("web", json!({})).await;
                h.login(&role_id, &secret, None).await.unwrap();
                assert!(h.login(&role_id, "wrong", None).await.is_err());
                assert!(h.login("unknown", "wrong", None).await.is_err());
                assert!(h.call(Operation::Update, "login", json!({})).await.is_err());
            })
        });
        assert_eq!(failures.0.load(Ordering::SeqCst), 3);
    }
}
