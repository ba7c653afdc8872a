//! Issue 3 paths inside one process: userpass logins minted into tokens,
//! renewal through the auth method, CIDR-bound and batch tokens, and
//! rate-limit quotas (with the default login quota).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use coffer_core::{Core, CoreConfig};
use coffer_sdk::ManualClock;
use coffer_storage::MemoryStorage;
use coffer_types::{Operation, Request, Response, Result};
use serde_json::{Map, Value, json};

struct Harness {
    core: Arc<Core>,
    clock: Arc<ManualClock>,
}

const ROOT: &str = "access-root";

fn body(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

impl Harness {
    async fn new() -> Self {
        let clock = Arc::new(ManualClock::starting_now());
        let core = Core::new(
            Arc::new(MemoryStorage::new()),
            CoreConfig {
                clock: clock.clone(),
                catalog: coffer_builtins::catalog(),
                ..CoreConfig::default()
            },
        );
        core.dev_init(Some(ROOT)).await.unwrap();
        Self { core, clock }
    }

    async fn call_from(
        &self,
        token: Option<&str>,
        addr: &str,
        op: Operation,
        path: &str,
        data: Value,
    ) -> Result<Response> {
        let mut req = Request::new(op, path).with_data(body(data));
        if let Some(t) = token {
            req = req.with_token(t);
        }
        req.client_addr = Some(addr.parse::<IpAddr>().unwrap());
        self.core.handle(req).await
    }

    async fn root(&self, op: Operation, path: &str, data: Value) -> Response {
        self.call_from(Some(ROOT), "127.0.0.1", op, path, data)
            .await
            .unwrap()
    }
}

fn status(r: &Result<Response>) -> u16 {
    match r {
        Ok(resp) => resp.status.unwrap_or(200),
        Err(e) => e.status(),
    }
}

#[tokio::test]
async fn userpass_login_mints_a_working_token() {
    let h = Harness::new().await;
    h.root(
        Operation::Update,
        "sys/auth/userpass",
        json!({"type": "userpass"}),
    )
    .await;
    h.root(
        Operation::Update,
        "sys/policies/acl/app",
        json!({"policy": "path \"secret/data/app\" {\n capabilities = [\"read\"]\n}"}),
    )
    .await;
    h.root(
        Operation::Update,
        "secret/data/app",
        json!({"data": {"k": "v"}}),
    )
    .await;
    h.root(Operation::Update, "auth/userpass/users/Bob", json!({"password": "pw-canary-123", "token_policies": "app", "token_ttl": "1h", "token_max_ttl": "2h"})).await;

    let bad = h
        .call_from(
            None,
            "127.0.0.1",
            Operation::Update,
            "auth/userpass/login/bob",
            json!({"password": "wrong"}),
        )
        .await;
    assert_eq!(status(&bad), 400);
    let nobody = h
        .call_from(
            None,
            "127.0.0.1",
            Operation::Update,
            "auth/userpass/login/nobody",
            json!({"password": "wrong"}),
        )
        .await;
    assert_eq!(status(&nobody), 400);
    assert_eq!(
        bad.unwrap_err().messages(),
        nobody.unwrap_err().messages(),
        "no hint whether the user exists"
    );

    let login = h
        .call_from(
            None,
            "127.0.0.1",
            Operation::Update,
            "auth/userpass/login/bob",
            json!({"password": "pw-canary-123"}),
        )
        .await
        .unwrap();
    let auth = login.auth.unwrap();
    assert!(auth.client_token.starts_with("hvs."));
    assert_eq!(auth.policies, vec!["app", "default"]);
    assert_eq!(auth.lease_duration, 3600);
    assert_eq!(auth.metadata.unwrap()["username"], "bob");
    let t = auth.client_token;
    let read = h
        .call_from(
            Some(&t),
            "127.0.0.1",
            Operation::Read,
            "secret/data/app",
            json!({}),
        )
        .await
        .unwrap();
    assert_eq!(read.data.unwrap()["data"]["k"], "v");
    let me = h
        .call_from(
            Some(&t),
            "127.0.0.1",
            Operation::Read,
            "auth/token/lookup-self",
            json!({}),
        )
        .await
        .unwrap()
        .data
        .unwrap();
    assert_eq!(
        (me["display_name"].clone(), me["path"].clone()),
        (json!("userpass-bob"), json!("auth/userpass/login/bob"))
    );

    // Renewal goes through userpass: capped by the user's max TTL, refused once the user is gone.
    let renewed = h
        .call_from(
            Some(&t),
            "127.0.0.1",
            Operation::Update,
            "auth/token/renew-self",
            json!({"increment": "5h"}),
        )
        .await
        .unwrap();
    assert!(renewed.auth.unwrap().lease_duration <= 7200);
    h.root(Operation::Delete, "auth/userpass/users/bob", json!({}))
        .await;
    let refused = h
        .call_from(
            Some(&t),
            "127.0.0.1",
            Operation::Update,
            "auth/token/renew-self",
            json!({}),
        )
        .await;
    assert_eq!(status(&refused), 400);

    // The token expires on the clock.
    h.clock.advance(Duration::from_secs(2 * 3600 + 1));
    assert_eq!(
        status(
            &h.call_from(
                Some(&t),
                "127.0.0.1",
                Operation::Read,
                "secret/data/app",
                json!({})
            )
            .await
        ),
        403
    );
}

#[tokio::test]
async fn cidr_bound_and_batch_tokens() {
    let h = Harness::new().await;
    let bound = h
        .root(
            Operation::Update,
            "auth/token/create",
            json!({"bound_cidrs": ["10.0.0.0/8"], "policies": ["default"]}),
        )
        .await;
    let t = bound.auth.unwrap().client_token;
    assert_eq!(
        status(
            &h.call_from(
                Some(&t),
                "10.1.2.3",
                Operation::Read,
                "auth/token/lookup-self",
                json!({})
            )
            .await
        ),
        200
    );
    assert_eq!(
        status(
            &h.call_from(
                Some(&t),
                "192.168.1.1",
                Operation::Read,
                "auth/token/lookup-self",
                json!({})
            )
            .await
        ),
        403
    );

    let batch = h
        .root(
            Operation::Update,
            "auth/token/create",
            json!({"type": "batch", "policies": ["default"], "ttl": "10m"}),
        )
        .await;
    let b = batch.auth.unwrap();
    assert!(b.client_token.starts_with("hvb."));
    assert_eq!(b.token_type, "batch");
    assert_eq!(
        status(
            &h.call_from(
                Some(&b.client_token),
                "127.0.0.1",
                Operation::Read,
                "auth/token/lookup-self",
                json!({})
            )
            .await
        ),
        200
    );
    assert_eq!(
        status(
            &h.call_from(
                Some(&b.client_token),
                "127.0.0.1",
                Operation::Update,
                "auth/token/renew-self",
                json!({})
            )
            .await
        ),
        400
    );
    assert_eq!(
        status(
            &h.call_from(
                Some(&b.client_token),
                "127.0.0.1",
                Operation::Update,
                "cubbyhole/x",
                json!({"a": "b"})
            )
            .await
        ),
        400
    );
    h.clock.advance(Duration::from_secs(601));
    assert_eq!(
        status(
            &h.call_from(
                Some(&b.client_token),
                "127.0.0.1",
                Operation::Read,
                "auth/token/lookup-self",
                json!({})
            )
            .await
        ),
        403
    );
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let h = Harness::new().await;
    h.root(
        Operation::Update,
        "sys/quotas/rate-limit/kv",
        json!({"path": "secret/", "rate": 2, "interval": "1s", "block_interval": "10s"}),
    )
    .await;
    let read = |addr: &'static str| {
        h.call_from(
            Some(ROOT),
            addr,
            Operation::Read,
            "secret/data/none",
            json!({}),
        )
    };
    assert_eq!(status(&read("10.0.0.1").await), 404);
    assert_eq!(status(&read("10.0.0.1").await), 404);
    let limited = read("10.0.0.1").await.unwrap_err();
    assert_eq!(limited.status(), 429);
    assert!(limited.retry_after().unwrap() >= Duration::from_secs(1));
    assert_eq!(
        status(&read("10.0.0.2").await),
        404,
        "another client has its own bucket"
    );
    h.clock.advance(Duration::from_secs(11));
    assert_eq!(
        status(&read("10.0.0.1").await),
        404,
        "unblocked after block_interval"
    );
    let list = h
        .root(Operation::List, "sys/quotas/rate-limit", json!({}))
        .await
        .data
        .unwrap();
    let keys = list["keys"].as_array().unwrap();
    assert!(
        keys.contains(&json!("kv")) && keys.contains(&json!("default-login")),
        "{keys:?}"
    );

    // The default login quota stops password guessing from one address.
    h.root(
        Operation::Update,
        "sys/auth/userpass",
        json!({"type": "userpass"}),
    )
    .await;
    let mut codes = Vec::new();
    for _ in 0..40 {
        let r = h
            .call_from(
                None,
                "10.9.9.9",
                Operation::Update,
                "auth/userpass/login/x",
                json!({"password": "guess"}),
            )
            .await;
        codes.push(status(&r));
    }
    assert!(codes.contains(&429), "{codes:?}");
    assert_eq!(
        status(
            &h.call_from(
                None,
                "10.9.9.8",
                Operation::Update,
                "auth/userpass/login/x",
                json!({"password": "guess"})
            )
            .await
        ),
        400
    );
}

#[tokio::test]
async fn approle_login_for_machines() {
    let h = Harness::new().await;
    h.root(
        Operation::Update,
        "sys/auth/approle",
        json!({"type": "approle"}),
    )
    .await;
    h.root(Operation::Update, "auth/approle/role/ci", json!({"token_policies": ["default"], "token_ttl": "20m", "secret_id_num_uses": 2, "secret_id_ttl": "1h"})).await;
    let role_id = h
        .root(Operation::Read, "auth/approle/role/ci/role-id", json!({}))
        .await
        .data
        .unwrap()["role_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = h
        .root(
            Operation::Update,
            "auth/approle/role/ci/secret-id",
            json!({}),
        )
        .await
        .data
        .unwrap();
    let secret_id = secret["secret_id"].as_str().unwrap().to_owned();
    let harness = &h;
    let login = |sid: String| {
        let role_id = role_id.clone();
        async move {
            harness
                .call_from(
                    None,
                    "127.0.0.1",
                    Operation::Update,
                    "auth/approle/login",
                    json!({"role_id": role_id, "secret_id": sid}),
                )
                .await
        }
    };
    let first = login(secret_id.clone()).await.unwrap().auth.unwrap();
    assert_eq!(first.lease_duration, 1200);
    assert_eq!(first.metadata.unwrap()["role_name"], "ci");
    let me = h
        .call_from(
            Some(&first.client_token),
            "127.0.0.1",
            Operation::Read,
            "auth/token/lookup-self",
            json!({}),
        )
        .await
        .unwrap()
        .data
        .unwrap();
    assert_eq!(me["display_name"], "approle");
    assert_eq!(status(&login(secret_id.clone()).await), 200);
    assert_eq!(
        status(&login(secret_id.clone()).await),
        400,
        "secret_id_num_uses exhausted"
    );
    assert_eq!(status(&login("not-a-secret-id".into()).await), 400);
    // Secret ids expire on the clock.
    let fresh = h
        .root(
            Operation::Update,
            "auth/approle/role/ci/secret-id",
            json!({}),
        )
        .await
        .data
        .unwrap()["secret_id"]
        .as_str()
        .unwrap()
        .to_owned();
    h.clock.advance(Duration::from_secs(3601));
    assert_eq!(status(&login(fresh).await), 400);
}

#[tokio::test]
async fn identity_entities_groups_and_templated_policies() {
    let h = Harness::new().await;
    h.root(
        Operation::Update,
        "sys/auth/userpass",
        json!({"type": "userpass"}),
    )
    .await;
    h.root(
        Operation::Update,
        "auth/userpass/users/carol",
        json!({"password": "pw", "token_policies": ""}),
    )
    .await;
    let login = || {
        h.call_from(
            None,
            "127.0.0.1",
            Operation::Update,
            "auth/userpass/login/carol",
            json!({"password": "pw"}),
        )
    };
    let first = login().await.unwrap().auth.unwrap();
    assert!(!first.entity_id.is_empty(), "login creates an entity");
    let second = login().await.unwrap().auth.unwrap();
    assert_eq!(first.entity_id, second.entity_id, "the alias is reused");
    let entity = h
        .root(
            Operation::Read,
            &format!("identity/entity/id/{}", first.entity_id),
            json!({}),
        )
        .await
        .data
        .unwrap();
    assert_eq!(entity["aliases"][0]["name"], "carol");

    // A templated policy on a group: each member reads only its own folder.
    let templated =
        "path \"secret/data/{{identity.entity.name}}/*\" {\n  capabilities = [\"read\"]\n}";
    h.root(
        Operation::Update,
        "sys/policies/acl/own-folder",
        json!({"policy": templated}),
    )
    .await;
    h.root(
        Operation::Update,
        &format!("identity/entity/id/{}", first.entity_id),
        json!({"name": "carol-entity"}),
    )
    .await;
    h.root(
        Operation::Update,
        "secret/data/carol-entity/x",
        json!({"data": {"v": "mine"}}),
    )
    .await;
    h.root(
        Operation::Update,
        "secret/data/dave-entity/x",
        json!({"data": {"v": "theirs"}}),
    )
    .await;
    let t = first.client_token;
    let read =
        |path: &'static str| h.call_from(Some(&t), "127.0.0.1", Operation::Read, path, json!({}));
    assert_eq!(
        status(&read("secret/data/carol-entity/x").await),
        403,
        "no group yet"
    );
    h.root(Operation::Update, "identity/group", json!({"name": "readers", "policies": ["own-folder"], "member_entity_ids": [first.entity_id]})).await;
    assert_eq!(
        status(&read("secret/data/carol-entity/x").await),
        200,
        "group policy applies to the existing token"
    );
    assert_eq!(status(&read("secret/data/dave-entity/x").await), 403);
    let caps = h
        .call_from(
            Some(&t),
            "127.0.0.1",
            Operation::Update,
            "sys/capabilities-self",
            json!({"path": "secret/data/carol-entity/x"}),
        )
        .await
        .unwrap()
        .data
        .unwrap();
    assert_eq!(caps["capabilities"], json!(["read"]));

    // Disabling the entity cuts its tokens off.
    h.root(
        Operation::Update,
        &format!("identity/entity/id/{}", first.entity_id),
        json!({"disabled": true}),
    )
    .await;
    assert_eq!(status(&read("secret/data/carol-entity/x").await), 403);
}

#[tokio::test]
async fn lease_endpoints_answer_through_the_core() {
    let h = Harness::new().await;
    let call = |token: Option<&'static str>, op, path: &'static str, data: Value| {
        h.call_from(token, "127.0.0.1", op, path, data)
    };
    assert_eq!(
        status(
            &call(
                Some(ROOT),
                Operation::Update,
                "sys/leases/lookup",
                json!({"lease_id": "secret/creds/nope"})
            )
            .await
        ),
        400
    );
    assert_eq!(
        status(
            &call(
                Some(ROOT),
                Operation::Update,
                "sys/leases/lookup",
                json!({})
            )
            .await
        ),
        400
    );
    assert_eq!(
        status(
            &call(
                Some(ROOT),
                Operation::Update,
                "sys/leases/renew",
                json!({"lease_id": "secret/creds/nope"})
            )
            .await
        ),
        400
    );
    assert_eq!(
        status(
            &call(
                Some(ROOT),
                Operation::Update,
                "sys/renew/secret/creds/nope",
                json!({})
            )
            .await
        ),
        400
    );
    let count = call(
        Some(ROOT),
        Operation::Read,
        "sys/leases/count",
        json!({"type": "irrevocable"}),
    )
    .await
    .unwrap()
    .data
    .unwrap();
    assert_eq!(count["lease_count"], 0);
    assert_eq!(
        status(&call(Some(ROOT), Operation::List, "sys/leases/lookup/", json!({})).await),
        404
    );
    // Listing and prefix revocation need sudo.
    let plain = h
        .root(
            Operation::Update,
            "auth/token/create",
            json!({"policies": ["default"]}),
        )
        .await
        .auth
        .unwrap()
        .client_token;
    let plain: &'static str = Box::leak(plain.into_boxed_str());
    h.root(
        Operation::Update,
        "sys/policies/acl/leases",
        json!({"policy": "path \"sys/leases/*\" {\n capabilities = [\"list\", \"update\"]\n}"}),
    )
    .await;
    assert_eq!(
        status(
            &call(
                Some(plain),
                Operation::List,
                "sys/leases/lookup/secret/",
                json!({})
            )
            .await
        ),
        403
    );
    assert_eq!(
        status(
            &call(
                Some(plain),
                Operation::Update,
                "sys/leases/revoke-prefix/secret/",
                json!({})
            )
            .await
        ),
        403
    );
    let revoked = call(
        Some(ROOT),
        Operation::Update,
        "sys/leases/revoke-prefix/secret/",
        json!({}),
    )
    .await
    .unwrap();
    assert!(revoked.is_empty(), "answered with 204 No Content");
}

#[tokio::test]
async fn tokens_have_leases_that_expire_and_revoke() {
    let h = Harness::new().await;
    let created = h
        .root(
            Operation::Update,
            "auth/token/create",
            json!({"policies": ["default"], "ttl": "1h"}),
        )
        .await
        .auth
        .unwrap();
    let t = created.client_token;
    h.call_from(
        Some(&t),
        "127.0.0.1",
        Operation::Update,
        "cubbyhole/note",
        json!({"k": "v"}),
    )
    .await
    .unwrap();
    let listed = h
        .root(
            Operation::List,
            "sys/leases/lookup/auth/token/create/",
            json!({}),
        )
        .await
        .data
        .unwrap();
    let ids: Vec<String> = listed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let lease_id = format!("auth/token/create/{}", ids[0]);
    let lease = h
        .root(
            Operation::Update,
            "sys/leases/lookup",
            json!({"lease_id": lease_id}),
        )
        .await
        .data
        .unwrap();
    assert_eq!(lease["ttl"], 3600);
    assert_eq!(
        status(
            &h.call_from(
                Some(ROOT),
                "127.0.0.1",
                Operation::Update,
                "sys/leases/renew",
                json!({"lease_id": lease_id})
            )
            .await
        ),
        400,
        "tokens renew through auth/token"
    );

    // Renewing the token moves its lease.
    h.clock.advance(Duration::from_secs(1800));
    h.call_from(
        Some(&t),
        "127.0.0.1",
        Operation::Update,
        "auth/token/renew-self",
        json!({"increment": "2h"}),
    )
    .await
    .unwrap();
    let lease = h
        .root(
            Operation::Update,
            "sys/leases/lookup",
            json!({"lease_id": lease_id}),
        )
        .await
        .data
        .unwrap();
    assert_eq!(lease["ttl"], 7200);
    h.clock.advance(Duration::from_secs(3600));
    h.core.expire_leases_now().await.unwrap();
    assert_eq!(
        status(
            &h.call_from(
                Some(&t),
                "127.0.0.1",
                Operation::Read,
                "auth/token/lookup-self",
                json!({})
            )
            .await
        ),
        200,
        "renewed token lives past its first expiry"
    );

    // At the new expiry the expiration manager revokes it: lease gone, token dead.
    h.clock.advance(Duration::from_secs(3601));
    h.core.expire_leases_now().await.unwrap();
    assert_eq!(
        status(
            &h.call_from(
                Some(ROOT),
                "127.0.0.1",
                Operation::Update,
                "sys/leases/lookup",
                json!({"lease_id": lease_id})
            )
            .await
        ),
        400
    );
    assert_eq!(
        status(
            &h.call_from(
                Some(&t),
                "127.0.0.1",
                Operation::Read,
                "auth/token/lookup-self",
                json!({})
            )
            .await
        ),
        403
    );

    // Revoking a token's lease revokes the token.
    let other = h
        .root(
            Operation::Update,
            "auth/token/create",
            json!({"policies": ["default"], "ttl": "1h"}),
        )
        .await
        .auth
        .unwrap()
        .client_token;
    let listed = h
        .root(
            Operation::List,
            "sys/leases/lookup/auth/token/create/",
            json!({}),
        )
        .await
        .data
        .unwrap();
    let id = listed["keys"][0].as_str().unwrap().to_owned();
    h.root(
        Operation::Update,
        "sys/leases/revoke",
        json!({"lease_id": format!("auth/token/create/{id}")}),
    )
    .await;
    assert_eq!(
        status(
            &h.call_from(
                Some(&other),
                "127.0.0.1",
                Operation::Read,
                "auth/token/lookup-self",
                json!({})
            )
            .await
        ),
        403
    );

    // Login tokens get leases under their login path.
    h.root(
        Operation::Update,
        "sys/auth/userpass",
        json!({"type": "userpass"}),
    )
    .await;
    h.root(
        Operation::Update,
        "auth/userpass/users/gina",
        json!({"password": "pw"}),
    )
    .await;
    h.call_from(
        None,
        "127.0.0.1",
        Operation::Update,
        "auth/userpass/login/gina",
        json!({"password": "pw"}),
    )
    .await
    .unwrap();
    let listed = h
        .root(
            Operation::List,
            "sys/leases/lookup/auth/userpass/login/gina/",
            json!({}),
        )
        .await
        .data
        .unwrap();
    assert_eq!(listed["keys"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn password_policies_and_rotation_endpoints() {
    let h = Harness::new().await;
    let policy = "length = 24\nrule \"charset\" {\n  charset = \"abcdefghijklmnopqrstuvwxyz\"\n  min-chars = 2\n}\nrule \"charset\" {\n  charset = \"0123456789\"\n  min-chars = 3\n}\n";
    h.root(
        Operation::Update,
        "sys/policies/password/db",
        json!({"policy": policy}),
    )
    .await;
    let read = h
        .root(Operation::Read, "sys/policies/password/db", json!({}))
        .await
        .data
        .unwrap();
    assert!(read["policy"].as_str().unwrap().contains("length = 24"));
    let generated = h
        .root(
            Operation::Read,
            "sys/policies/password/db/generate",
            json!({}),
        )
        .await
        .data
        .unwrap();
    let password = generated["password"].as_str().unwrap();
    assert_eq!(password.len(), 24);
    assert!(password.chars().filter(char::is_ascii_digit).count() >= 3);
    let bad = h
        .call_from(
            Some(ROOT),
            "127.0.0.1",
            Operation::Update,
            "sys/policies/password/bad",
            json!({"policy": "length = 2\n"}),
        )
        .await;
    assert_eq!(status(&bad), 400);
    assert_eq!(
        status(
            &h.call_from(
                Some(ROOT),
                "127.0.0.1",
                Operation::Read,
                "sys/policies/password/none/generate",
                json!({})
            )
            .await
        ),
        404
    );
    // The ACL policy paths still work beside them.
    let acl = h
        .root(Operation::List, "sys/policies/acl", json!({}))
        .await
        .data
        .unwrap();
    assert_eq!(acl["keys"], json!(["default", "root"]));
    // No scheduled jobs yet.
    let rotation = h
        .root(Operation::Read, "sys/rotation", json!({}))
        .await
        .data
        .unwrap();
    assert_eq!(rotation["keys"], json!([]));
    assert_eq!(
        status(
            &h.call_from(
                Some(ROOT),
                "127.0.0.1",
                Operation::Update,
                "sys/rotation/run/database/static-roles/x",
                json!({})
            )
            .await
        ),
        404
    );
}
