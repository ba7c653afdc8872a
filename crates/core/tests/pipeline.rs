//! The pipeline end to end inside one process: seal states, authentication,
//! ACL with the existence check, sudo, mounts, policies, token expiry on a
//! controllable clock, and cubbyhole cleanup on revocation.

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
    root: String,
}

fn body(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

impl Harness {
    async fn dev() -> Self {
        let clock = Arc::new(ManualClock::starting_now());
        let config = CoreConfig {
            clock: clock.clone(),
            catalog: coffer_builtins::catalog(),
            ..CoreConfig::default()
        };
        let core = Core::new(Arc::new(MemoryStorage::new()), config);
        let init = core.dev_init(None).await.unwrap();
        Self {
            core,
            clock,
            root: init.root_token.expose().to_owned(),
        }
    }

    async fn call(&self, token: &str, op: Operation, path: &str, data: Value) -> Result<Response> {
        let req = Request::new(op, path)
            .with_data(body(data))
            .with_token(token);
        self.core.handle(req).await
    }

    async fn root(&self, op: Operation, path: &str, data: Value) -> Result<Response> {
        self.call(&self.root, op, path, data).await
    }

    async fn token(&self, policies: &[&str], extra: Value) -> String {
        let mut data = json!({ "policies": policies });
        if let Value::Object(m) = extra {
            data.as_object_mut().unwrap().extend(m);
        }
        let resp = self
            .root(Operation::Update, "auth/token/create", data)
            .await
            .unwrap();
        resp.auth.unwrap().client_token
    }
}

fn status(r: &Result<Response>) -> u16 {
    match r {
        Ok(resp) => resp.status.unwrap_or(200),
        Err(e) => e.status(),
    }
}

#[tokio::test]
async fn policies_are_enforced_with_create_update_split() {
    let h = Harness::dev().await;
    let policy = r#"
path "secret/data/app/*" { capabilities = ["create", "read"] }
path "secret/data/app/shared" { capabilities = ["update", "read"] }
path "secret/metadata/app/*" { capabilities = ["list"] }
"#;
    h.root(
        Operation::Update,
        "sys/policies/acl/app",
        json!({ "policy": policy }),
    )
    .await
    .unwrap();
    let t = h.token(&["app"], json!({})).await;

    // create allowed for a new key, update of an existing key denied.
    assert_eq!(
        status(
            &h.call(
                &t,
                Operation::Update,
                "secret/data/app/one",
                json!({"data": {"a": "1"}})
            )
            .await
        ),
        200
    );
    assert_eq!(
        status(
            &h.call(
                &t,
                Operation::Update,
                "secret/data/app/one",
                json!({"data": {"a": "2"}})
            )
            .await
        ),
        403
    );
    // update-only path: creating it is denied, updating after root created it is allowed.
    assert_eq!(
        status(
            &h.call(
                &t,
                Operation::Update,
                "secret/data/app/shared",
                json!({"data": {"a": "1"}})
            )
            .await
        ),
        403
    );
    h.root(
        Operation::Update,
        "secret/data/app/shared",
        json!({"data": {"a": "0"}}),
    )
    .await
    .unwrap();
    assert_eq!(
        status(
            &h.call(
                &t,
                Operation::Update,
                "secret/data/app/shared",
                json!({"data": {"a": "1"}})
            )
            .await
        ),
        200
    );
    // reads and lists follow the policy; everything else is denied.
    let r = h
        .call(&t, Operation::Read, "secret/data/app/one", json!({}))
        .await
        .unwrap();
    assert_eq!(r.data.unwrap()["data"]["a"], "1");
    assert_eq!(
        status(
            &h.call(&t, Operation::List, "secret/metadata/app/", json!({}))
                .await
        ),
        200
    );
    assert_eq!(
        status(
            &h.call(&t, Operation::Read, "secret/data/other", json!({}))
                .await
        ),
        403
    );
    assert_eq!(
        status(
            &h.call(&t, Operation::Delete, "secret/data/app/one", json!({}))
                .await
        ),
        403
    );
    assert_eq!(
        status(&h.call(&t, Operation::Read, "sys/mounts", json!({})).await),
        403
    );
    // unknown route: root sees 404, a token without access sees 403.
    assert_eq!(
        status(&h.root(Operation::Read, "nothing/here", json!({})).await),
        404
    );
    assert_eq!(
        status(&h.call(&t, Operation::Read, "nothing/here", json!({})).await),
        403
    );

    // capabilities endpoints agree with enforcement.
    let caps = h
        .call(
            &t,
            Operation::Update,
            "sys/capabilities-self",
            json!({"paths": ["secret/data/app/x", "secret/data/app/shared"]}),
        )
        .await
        .unwrap()
        .data
        .unwrap();
    assert_eq!(caps["secret/data/app/x"], json!(["create", "read"]));
    assert_eq!(caps["secret/data/app/shared"], json!(["read", "update"]));
}

#[tokio::test]
async fn sudo_paths_need_sudo() {
    let h = Harness::dev().await;
    h.root(
        Operation::Update,
        "sys/policies/acl/ops",
        json!({"policy": r#"path "sys/rotate" { capabilities = ["update"] }"#}),
    )
    .await
    .unwrap();
    h.root(
        Operation::Update,
        "sys/policies/acl/ops-sudo",
        json!({"policy": r#"path "sys/rotate" { capabilities = ["update", "sudo"] }"#}),
    )
    .await
    .unwrap();
    let plain = h.token(&["ops"], json!({})).await;
    let sudo = h.token(&["ops-sudo"], json!({})).await;
    assert_eq!(
        status(
            &h.call(&plain, Operation::Update, "sys/rotate", json!({}))
                .await
        ),
        403
    );
    assert_eq!(
        status(
            &h.call(&sudo, Operation::Update, "sys/rotate", json!({}))
                .await
        ),
        200
    );
    let ks = h
        .root(Operation::Read, "sys/key-status", json!({}))
        .await
        .unwrap()
        .data
        .unwrap();
    assert_eq!(ks["term"], 2);
}

#[tokio::test]
async fn tokens_expire_on_the_clock_without_revocation() {
    let h = Harness::dev().await;
    let t = h.token(&["default"], json!({"ttl": "1h"})).await;
    assert_eq!(
        status(
            &h.call(&t, Operation::Read, "auth/token/lookup-self", json!({}))
                .await
        ),
        200
    );
    h.clock.advance(Duration::from_secs(3599));
    assert_eq!(
        status(
            &h.call(&t, Operation::Read, "auth/token/lookup-self", json!({}))
                .await
        ),
        200
    );
    h.clock.advance(Duration::from_secs(2));
    assert_eq!(
        status(
            &h.call(&t, Operation::Read, "auth/token/lookup-self", json!({}))
                .await
        ),
        403
    );
}

#[tokio::test]
async fn use_limited_tokens_run_out() {
    let h = Harness::dev().await;
    let t = h.token(&["default"], json!({"num_uses": 2})).await;
    for _ in 0..2 {
        assert_eq!(
            status(
                &h.call(&t, Operation::Read, "auth/token/lookup-self", json!({}))
                    .await
            ),
            200
        );
    }
    assert_eq!(
        status(
            &h.call(&t, Operation::Read, "auth/token/lookup-self", json!({}))
                .await
        ),
        403
    );
}

#[tokio::test]
async fn cubbyhole_is_private_and_wiped_on_revoke() {
    let h = Harness::dev().await;
    let a = h.token(&["default"], json!({})).await;
    let b = h.token(&["default"], json!({})).await;
    h.call(
        &a,
        Operation::Update,
        "cubbyhole/note",
        json!({"k": "mine"}),
    )
    .await
    .unwrap();
    let read = h
        .call(&a, Operation::Read, "cubbyhole/note", json!({}))
        .await
        .unwrap();
    assert_eq!(read.data.unwrap()["k"], "mine");
    assert_eq!(
        status(
            &h.call(&b, Operation::Read, "cubbyhole/note", json!({}))
                .await
        ),
        404
    );
    h.root(Operation::Update, "auth/token/revoke", json!({"token": a}))
        .await
        .unwrap();
    // A new token cannot see it either, and the storage below the mount is empty.
    let c = h.token(&["default"], json!({})).await;
    assert_eq!(
        status(&h.call(&c, Operation::List, "cubbyhole/", json!({})).await),
        404
    );
}

#[tokio::test]
async fn mounts_lifecycle_and_conflicts() {
    let h = Harness::dev().await;
    h.root(
        Operation::Update,
        "sys/mounts/team/kv",
        json!({"type": "kv-v2", "description": "team"}),
    )
    .await
    .unwrap();
    let mounts = h
        .root(Operation::Read, "sys/mounts", json!({}))
        .await
        .unwrap()
        .data
        .unwrap();
    assert_eq!(mounts["team/kv/"]["type"], "kv");
    assert_eq!(mounts["team/kv/"]["options"]["version"], "2");
    for (path, msg) in [
        ("sys/mounts/team/kv", "path is already in use at team/kv/"),
        (
            "sys/mounts/team/kv/inner",
            "path is already in use at team/kv/",
        ),
        ("sys/mounts/team", "path is already in use at team/kv/"),
    ] {
        let err = h
            .root(Operation::Update, path, json!({"type": "kv"}))
            .await
            .unwrap_err();
        assert_eq!((err.status(), err.messages()[0].as_str()), (400, msg));
    }
    h.root(
        Operation::Update,
        "team/kv/data/x",
        json!({"data": {"v": 1}}),
    )
    .await
    .unwrap();
    h.root(
        Operation::Update,
        "sys/mounts/team/kv/tune",
        json!({"max_lease_ttl": "2h", "default_lease_ttl": "1h"}),
    )
    .await
    .unwrap();
    let tune = h
        .root(Operation::Read, "sys/mounts/team/kv/tune", json!({}))
        .await
        .unwrap()
        .data
        .unwrap();
    assert_eq!(
        (
            tune["default_lease_ttl"].clone(),
            tune["max_lease_ttl"].clone()
        ),
        (json!(3600), json!(7200))
    );
    let err = h
        .root(
            Operation::Update,
            "sys/mounts/team/kv/tune",
            json!({"default_lease_ttl": "3h"}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), 400);
    // Disabling removes the mount and its data; re-enabling starts empty.
    h.root(Operation::Delete, "sys/mounts/team/kv", json!({}))
        .await
        .unwrap();
    assert_eq!(
        status(&h.root(Operation::Read, "team/kv/data/x", json!({})).await),
        404
    );
    h.root(
        Operation::Update,
        "sys/mounts/team/kv",
        json!({"type": "kv-v2"}),
    )
    .await
    .unwrap();
    assert_eq!(
        status(&h.root(Operation::Read, "team/kv/data/x", json!({})).await),
        404
    );
    // Auth mounts tune the same way.
    h.root(
        Operation::Update,
        "sys/auth/token/tune",
        json!({"default_lease_ttl": "10m", "description": "tokens"}),
    )
    .await
    .unwrap();
    let tune = h
        .root(Operation::Read, "sys/auth/token/tune", json!({}))
        .await
        .unwrap()
        .data
        .unwrap();
    assert_eq!(
        (
            tune["default_lease_ttl"].clone(),
            tune["description"].clone()
        ),
        (json!(600), json!("tokens"))
    );
    let auth = h
        .root(Operation::Read, "sys/auth", json!({}))
        .await
        .unwrap()
        .data
        .unwrap();
    assert_eq!(auth["token/"]["config"]["default_lease_ttl"], 600);
    // Protected mounts.
    for path in ["sys/mounts/cubbyhole", "sys/mounts/sys", "sys/auth/token"] {
        assert_eq!(
            status(&h.root(Operation::Delete, path, json!({})).await),
            400,
            "{path}"
        );
    }
    assert_eq!(
        status(
            &h.root(Operation::Update, "sys/auth/tok2", json!({"type": "token"}))
                .await
        ),
        400
    );
}

#[tokio::test]
async fn sealed_core_refuses_and_unseal_restores() {
    let clock = Arc::new(ManualClock::starting_now());
    let storage = Arc::new(MemoryStorage::new());
    let core = Core::new(
        storage.clone(),
        CoreConfig {
            clock,
            catalog: coffer_builtins::catalog(),
            ..CoreConfig::default()
        },
    );
    let err = core
        .handle(Request::new(Operation::Read, "secret/data/x").with_token("x"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), 503);
    let init = core.init(3, 2).await.unwrap();
    assert!(core.is_sealed());
    let root = init.root_token.expose().to_owned();
    core.unseal_with_keys(&init.keys[1..]).await.unwrap();
    let req = Request::new(Operation::Update, "cubbyhole/x")
        .with_data(body(json!({"v": "1"})))
        .with_token(root.as_str());
    core.handle(req).await.unwrap();
    core.seal().await.unwrap();
    let err = core
        .handle(Request::new(Operation::Read, "cubbyhole/x").with_token(root.as_str()))
        .await
        .unwrap_err();
    assert_eq!(err.status(), 503);
    // A new core over the same storage (a restart) is sealed, and unseals to the same data.
    let core = Core::new(
        storage,
        CoreConfig {
            catalog: coffer_builtins::catalog(),
            ..CoreConfig::default()
        },
    );
    assert!(core.is_sealed());
    core.unseal_with_keys(&init.keys_base64[..2]).await.unwrap();
    let resp = core
        .handle(Request::new(Operation::Read, "cubbyhole/x").with_token(root.as_str()))
        .await
        .unwrap();
    assert_eq!(resp.data.unwrap()["v"], "1");
}

#[tokio::test]
async fn policy_endpoints() {
    let h = Harness::dev().await;
    let err = h
        .root(
            Operation::Update,
            "sys/policies/acl/bad",
            json!({"policy": "path \"x\" {\n capabilities = [\"fly\"]\n}"}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), 400);
    assert!(err.messages()[0].contains("fly"));
    assert_eq!(
        status(
            &h.root(Operation::Delete, "sys/policies/acl/default", json!({}))
                .await
        ),
        400
    );
    assert_eq!(
        status(
            &h.root(
                Operation::Update,
                "sys/policies/acl/root",
                json!({"policy": "path \"x\" {}"})
            )
            .await
        ),
        400
    );
    let list = h
        .root(Operation::List, "sys/policies/acl", json!({}))
        .await
        .unwrap()
        .data
        .unwrap();
    assert_eq!(list["keys"], json!(["default", "root"]));
    let legacy = h
        .root(Operation::Read, "sys/policy", json!({}))
        .await
        .unwrap()
        .data
        .unwrap();
    assert_eq!(legacy["policies"], json!(["default", "root"]));
    let default = h
        .root(Operation::Read, "sys/policy/default", json!({}))
        .await
        .unwrap()
        .data
        .unwrap();
    assert!(
        default["rules"]
            .as_str()
            .unwrap()
            .contains("auth/token/lookup-self")
    );
}

#[tokio::test]
async fn health_status_codes_and_overrides() {
    let clock = Arc::new(ManualClock::starting_now());
    let core = Core::new(
        Arc::new(MemoryStorage::new()),
        CoreConfig {
            clock,
            catalog: coffer_builtins::catalog(),
            ..CoreConfig::default()
        },
    );
    let health = |data: Value| {
        let core = core.clone();
        async move {
            core.handle(Request::new(Operation::Read, "sys/health").with_data(body(data)))
                .await
                .unwrap()
        }
    };
    let r = health(json!({})).await;
    assert_eq!(r.status, Some(501));
    assert_eq!(r.raw.as_ref().unwrap()["initialized"], false);
    assert_eq!(health(json!({"uninitcode": "200"})).await.status, Some(200));
    let init = core.init(1, 1).await.unwrap();
    assert_eq!(health(json!({})).await.status, Some(503));
    assert_eq!(health(json!({"sealedcode": "299"})).await.status, Some(299));
    core.unseal_with_keys(&init.keys).await.unwrap();
    assert_eq!(health(json!({})).await.status, Some(200));
    assert_eq!(
        health(json!({"activecode": "204", "standbyok": "true"}))
            .await
            .status,
        Some(204)
    );
    let err = core
        .handle(
            Request::new(Operation::Read, "sys/health")
                .with_data(body(json!({"activecode": "abc"}))),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), 400);
}

#[tokio::test]
async fn capabilities_by_accessor_and_ui_mount_visibility() {
    let h = Harness::dev().await;
    h.root(
        Operation::Update,
        "sys/policies/acl/reader",
        json!({"policy": r#"path "secret/data/team/*" { capabilities = ["read"] }"#}),
    )
    .await
    .unwrap();
    let created = h
        .root(
            Operation::Update,
            "auth/token/create",
            json!({"policies": ["reader"]}),
        )
        .await
        .unwrap();
    let auth = created.auth.unwrap();
    let caps = h
        .root(
            Operation::Update,
            "sys/capabilities-accessor",
            json!({"accessor": auth.accessor, "path": "secret/data/team/x"}),
        )
        .await
        .unwrap()
        .data
        .unwrap();
    assert_eq!(caps["capabilities"], json!(["read"]));
    let bad = h
        .root(
            Operation::Update,
            "sys/capabilities-accessor",
            json!({"accessor": "nope", "path": "x"}),
        )
        .await;
    assert_eq!(status(&bad), 400);

    // The CLI's mount probe: the reader sees secret/ (KV v2) but not cubbyhole-only mounts it has no rule for.
    h.root(
        Operation::Update,
        "sys/mounts/private",
        json!({"type": "kv"}),
    )
    .await
    .unwrap();
    let t = auth.client_token;
    let info = h
        .call(
            &t,
            Operation::Read,
            "sys/internal/ui/mounts/secret/team/x",
            json!({}),
        )
        .await
        .unwrap()
        .data
        .unwrap();
    assert_eq!(
        (
            info["type"].clone(),
            info["options"]["version"].clone(),
            info["path"].clone()
        ),
        (json!("kv"), json!("2"), json!("secret/"))
    );
    assert_eq!(
        status(
            &h.call(
                &t,
                Operation::Read,
                "sys/internal/ui/mounts/private/x",
                json!({})
            )
            .await
        ),
        403
    );
    let all = h
        .call(&t, Operation::Read, "sys/internal/ui/mounts", json!({}))
        .await
        .unwrap()
        .data
        .unwrap();
    assert!(all["secret"].get("secret/").is_some());
    assert!(all["secret"].get("private/").is_none());
    assert_eq!(
        status(
            &h.call(
                "not-a-token",
                Operation::Read,
                "sys/internal/ui/mounts",
                json!({})
            )
            .await
        ),
        403
    );
}

async fn call_wrapped(
    h: &Harness,
    token: &str,
    op: Operation,
    path: &str,
    data: Value,
    ttl: u64,
) -> Result<Response> {
    let mut req = Request::new(op, path)
        .with_data(body(data))
        .with_token(token);
    req.wrap_ttl = Some(Duration::from_secs(ttl));
    h.core.handle(req).await
}

#[tokio::test]
async fn response_wrapping_round_trip() {
    let h = Harness::dev().await;
    h.root(
        Operation::Update,
        "secret/data/app",
        json!({"data": {"password": "wrapped-canary"}}),
    )
    .await
    .unwrap();
    let wrapped = call_wrapped(
        &h,
        &h.root,
        Operation::Read,
        "secret/data/app",
        json!({}),
        60,
    )
    .await
    .unwrap();
    assert!(wrapped.data.is_none(), "a wrapped response carries no data");
    let info = wrapped.wrap_info.unwrap();
    assert_eq!(
        (info.ttl, info.creation_path.as_str()),
        (60, "secret/data/app")
    );

    // Lookup needs no token of its own.
    let looked = h
        .core
        .handle(
            Request::new(Operation::Update, "sys/wrapping/lookup")
                .with_data(body(json!({"token": info.token}))),
        )
        .await
        .unwrap()
        .data
        .unwrap();
    assert_eq!(
        (
            looked["creation_path"].clone(),
            looked["creation_ttl"].clone()
        ),
        (json!("secret/data/app"), json!(60))
    );

    // Unwrap with the wrapping token itself: once.
    let unwrapped = h
        .call(
            &info.token,
            Operation::Update,
            "sys/wrapping/unwrap",
            json!({}),
        )
        .await
        .unwrap();
    assert_eq!(
        unwrapped.data.unwrap()["data"]["password"],
        "wrapped-canary"
    );
    let again = h
        .call(
            &info.token,
            Operation::Update,
            "sys/wrapping/unwrap",
            json!({}),
        )
        .await;
    assert_eq!(status(&again), 403);

    // sys/wrapping/wrap, then unwrap by another token naming it in the body; rewrap.
    let other = h.token(&["default"], json!({})).await;
    let w = call_wrapped(
        &h,
        &other,
        Operation::Update,
        "sys/wrapping/wrap",
        json!({"k": "v"}),
        120,
    )
    .await
    .unwrap();
    let t1 = w.wrap_info.unwrap().token;
    // The default policy does not grant rewrap (as in Vault); root may.
    assert_eq!(
        status(
            &h.call(
                &other,
                Operation::Update,
                "sys/wrapping/rewrap",
                json!({"token": t1})
            )
            .await
        ),
        403
    );
    let rewrapped = h
        .root(
            Operation::Update,
            "sys/wrapping/rewrap",
            json!({"token": t1}),
        )
        .await
        .unwrap();
    let t2 = rewrapped.wrap_info.unwrap().token;
    assert_eq!(
        status(
            &h.call(
                &other,
                Operation::Update,
                "sys/wrapping/unwrap",
                json!({"token": t1})
            )
            .await
        ),
        400
    );
    let data = h
        .call(
            &other,
            Operation::Update,
            "sys/wrapping/unwrap",
            json!({"token": t2}),
        )
        .await
        .unwrap()
        .data
        .unwrap();
    assert_eq!(data["k"], "v");
    assert_eq!(
        status(
            &h.call(
                &other,
                Operation::Update,
                "sys/wrapping/unwrap",
                json!({"token": t2})
            )
            .await
        ),
        400
    );

    // Expiry on the clock.
    let w = call_wrapped(
        &h,
        &h.root,
        Operation::Read,
        "secret/data/app",
        json!({}),
        30,
    )
    .await
    .unwrap();
    h.clock.advance(Duration::from_secs(31));
    let expired = h
        .call(
            &other,
            Operation::Update,
            "sys/wrapping/unwrap",
            json!({"token": w.wrap_info.unwrap().token}),
        )
        .await;
    assert_eq!(status(&expired), 400);
    // The response-wrapping policy is built in, unlisted and immutable.
    let list = h
        .root(Operation::List, "sys/policies/acl", json!({}))
        .await
        .unwrap()
        .data
        .unwrap();
    assert_eq!(list["keys"], json!(["default", "root"]));
    assert_eq!(
        status(
            &h.root(
                Operation::Update,
                "sys/policies/acl/response-wrapping",
                json!({"policy": "path \"x\" {}"})
            )
            .await
        ),
        400
    );
}

#[tokio::test]
async fn policy_wrapping_ttl_bounds_are_enforced() {
    let h = Harness::dev().await;
    let policy = r#"
path "secret/data/wrapped" {
  capabilities = ["read"]
  min_wrapping_ttl = "10s"
  max_wrapping_ttl = "60s"
}"#;
    h.root(
        Operation::Update,
        "sys/policies/acl/wrap-only",
        json!({"policy": policy}),
    )
    .await
    .unwrap();
    h.root(
        Operation::Update,
        "secret/data/wrapped",
        json!({"data": {"a": "b"}}),
    )
    .await
    .unwrap();
    let t = h.token(&["wrap-only"], json!({})).await;
    assert_eq!(
        status(
            &h.call(&t, Operation::Read, "secret/data/wrapped", json!({}))
                .await
        ),
        403,
        "unwrapped read refused"
    );
    assert_eq!(
        status(&call_wrapped(&h, &t, Operation::Read, "secret/data/wrapped", json!({}), 5).await),
        403
    );
    assert_eq!(
        status(
            &call_wrapped(
                &h,
                &t,
                Operation::Read,
                "secret/data/wrapped",
                json!({}),
                120
            )
            .await
        ),
        403
    );
    let ok = call_wrapped(
        &h,
        &t,
        Operation::Read,
        "secret/data/wrapped",
        json!({}),
        30,
    )
    .await
    .unwrap();
    assert!(ok.wrap_info.is_some());
}
