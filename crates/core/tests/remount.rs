//! `sys/remount` through the whole pipeline: a KV v2 mount keeps its data
//! (and its rate-limit quotas) at the new path, an auth mount keeps its
//! users while the tokens it issued are revoked with their leases (as Vault
//! does), the status endpoint reports the move, and every refusal answers
//! with Vault's message.

mod support;

use coffer_types::{Operation, Response};
use serde_json::{Value, json};
use support::{Harness, error_text, status};

/// The `data` object of a response.
fn data(r: &Response) -> Value {
    Value::Object(r.data.clone().unwrap_or_default())
}

/// Starts a move and waits (briefly) until its status is no longer
/// `in-progress`; returns the status body.
async fn remount(h: &Harness, from: &str, to: &str) -> Value {
    let started = h
        .root(
            Operation::Update,
            "sys/remount",
            json!({"from": from, "to": to}),
        )
        .await
        .unwrap();
    assert!(
        started
            .warnings
            .iter()
            .any(|w| w.starts_with("Mount move has been queued")),
        "{:?}",
        started.warnings
    );
    let id = data(&started)["migration_id"].as_str().unwrap().to_owned();
    for _ in 0..500 {
        let r = h
            .root(
                Operation::Read,
                &format!("sys/remount/status/{id}"),
                Value::Null,
            )
            .await
            .unwrap();
        let body = data(&r);
        assert_eq!(body["migration_id"], id.as_str());
        if body["migration_info"]["status"] != "in-progress" {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the move of {from} did not finish");
}

async fn mount_of(h: &Harness, list: &str, path: &str) -> Option<Value> {
    let r = h.root(Operation::Read, list, Value::Null).await.unwrap();
    data(&r).get(path).cloned()
}

#[tokio::test]
async fn a_kv_mount_moves_with_its_data() {
    let h = Harness::dev().await;
    h.root(
        Operation::Update,
        "sys/mounts/team",
        json!({"type": "kv", "options": {"version": "2"}}),
    )
    .await
    .unwrap();
    h.root(
        Operation::Update,
        "team/data/app",
        json!({"data": {"password": "p1"}}),
    )
    .await
    .unwrap();
    let before = mount_of(&h, "sys/mounts", "team/").await.unwrap();
    for (name, path) in [("team", "team/"), ("app", "team/data/app"), ("all", "")] {
        h.root(
            Operation::Update,
            &format!("sys/quotas/rate-limit/{name}"),
            json!({"path": path, "rate": 1000}),
        )
        .await
        .unwrap();
    }

    let done = remount(&h, "team", "moved/team").await;
    assert_eq!(
        done["migration_info"],
        json!({"source_mount": "team/", "target_mount": "moved/team/", "status": "success"})
    );

    let read = h
        .root(Operation::Read, "moved/team/data/app", Value::Null)
        .await
        .unwrap();
    assert_eq!(data(&read)["data"]["password"], "p1");
    let old = h.root(Operation::Read, "team/data/app", Value::Null).await;
    assert_eq!(status(&old), 404, "{}", error_text(&old));

    // Same mount (uuid names the storage, accessor stays), new path.
    assert!(mount_of(&h, "sys/mounts", "team/").await.is_none());
    let after = mount_of(&h, "sys/mounts", "moved/team/").await.unwrap();
    assert_eq!(after["uuid"], before["uuid"]);
    assert_eq!(after["accessor"], before["accessor"]);
    assert_eq!(after["options"], json!({"version": "2"}));

    // The quotas on the mount followed it (Vault's HandleRemount); the
    // global one did not move.
    for (name, path) in [
        ("team", "moved/team/"),
        ("app", "moved/team/data/app"),
        ("all", ""),
    ] {
        let r = h
            .root(
                Operation::Read,
                &format!("sys/quotas/rate-limit/{name}"),
                Value::Null,
            )
            .await
            .unwrap();
        assert_eq!(data(&r)["path"], path, "{name}");
    }

    // The moved mount works for writes, and a new mount may take the old path.
    h.root(
        Operation::Update,
        "moved/team/data/app",
        json!({"data": {"password": "p2"}}),
    )
    .await
    .unwrap();
    h.enable("team", "kv").await;
    let fresh = h.root(Operation::Read, "team/app", Value::Null).await;
    assert_eq!(status(&fresh), 404);
}

#[tokio::test]
async fn an_auth_mount_moves_and_its_tokens_are_revoked() {
    let h = Harness::dev().await;
    h.enable("auth/userpass", "userpass").await;
    h.root(
        Operation::Update,
        "auth/userpass/users/alice",
        json!({"password": "pw-1", "token_ttl": "1h"}),
    )
    .await
    .unwrap();
    let login = |path: &'static str| {
        let h = &h;
        async move {
            h.call(None, Operation::Update, path, json!({"password": "pw-1"}))
                .await
                .unwrap()
                .auth
                .unwrap()
                .client_token
        }
    };
    let token = login("auth/userpass/login/alice").await;
    let listed = h
        .root(
            Operation::List,
            "sys/leases/lookup/auth/userpass/login/alice/",
            Value::Null,
        )
        .await
        .unwrap();
    let suffix = data(&listed)["keys"][0].as_str().unwrap().to_owned();
    let old_lease = format!("auth/userpass/login/alice/{suffix}");

    let done = remount(&h, "auth/userpass", "auth/people").await;
    assert_eq!(done["migration_info"]["status"], "success");
    assert_eq!(
        done["migration_info"]["source_mount"], "auth/userpass/",
        "{done}"
    );
    assert_eq!(done["migration_info"]["target_mount"], "auth/people/");

    // Vault revokes the tokens of a moved auth mount, with their leases.
    let gone = h
        .call(
            Some(&token),
            Operation::Read,
            "auth/token/lookup-self",
            Value::Null,
        )
        .await;
    assert_eq!(status(&gone), 403);
    let lookup = h
        .root(
            Operation::Update,
            "sys/leases/lookup",
            json!({"lease_id": old_lease}),
        )
        .await;
    assert_eq!(status(&lookup), 400, "{}", error_text(&lookup));

    // The users moved with the mount; the old path is gone.
    assert!(mount_of(&h, "sys/auth", "userpass/").await.is_none());
    assert!(mount_of(&h, "sys/auth", "people/").await.is_some());
    // Without a token an unknown path is a 403, as in Vault; with one, a 404.
    let old = h
        .call(
            None,
            Operation::Update,
            "auth/userpass/login/alice",
            json!({"password": "pw-1"}),
        )
        .await;
    assert_eq!(status(&old), 403, "{}", error_text(&old));
    let old = h
        .root(
            Operation::Update,
            "auth/userpass/login/alice",
            json!({"password": "pw-1"}),
        )
        .await;
    assert_eq!(status(&old), 404, "{}", error_text(&old));
    let token = login("auth/people/login/alice").await;

    // The new login's lease lives under the new path and is revocable.
    let listed = h
        .root(
            Operation::List,
            "sys/leases/lookup/auth/people/login/alice/",
            Value::Null,
        )
        .await
        .unwrap();
    let lease_id = format!(
        "auth/people/login/alice/{}",
        data(&listed)["keys"][0].as_str().unwrap()
    );
    let found = h
        .root(
            Operation::Update,
            "sys/leases/lookup",
            json!({"lease_id": lease_id}),
        )
        .await
        .unwrap();
    assert_eq!(data(&found)["id"], lease_id.as_str());
    h.root(
        Operation::Update,
        "sys/leases/revoke",
        json!({"lease_id": lease_id}),
    )
    .await
    .unwrap();
    let revoked = h
        .call(
            Some(&token),
            Operation::Read,
            "auth/token/lookup-self",
            Value::Null,
        )
        .await;
    assert_eq!(status(&revoked), 403);

    // Token leases expire on the clock at the new path too.
    let token = login("auth/people/login/alice").await;
    h.clock.advance(std::time::Duration::from_secs(2 * 3600));
    h.core.expire_leases_now().await.unwrap();
    let expired = h
        .call(
            Some(&token),
            Operation::Read,
            "auth/token/lookup-self",
            Value::Null,
        )
        .await;
    assert_eq!(status(&expired), 403);
}

#[tokio::test]
async fn refusals_are_vaults() {
    let h = Harness::dev().await;
    h.enable("kv1", "kv").await;
    h.enable("nested/inner", "kv").await;
    h.enable("auth/userpass", "userpass").await;
    let cases: &[(Value, &str)] = &[
        (
            json!({"from": "kv1"}),
            "both 'from' and 'to' path must be specified as a string",
        ),
        (
            json!({"to": "x"}),
            "both 'from' and 'to' path must be specified as a string",
        ),
        (
            json!({"from": "kv1 ", "to": "x"}),
            "'from' path cannot contain trailing whitespace",
        ),
        (
            json!({"from": "kv1", "to": " x"}),
            "'to' path cannot contain trailing whitespace",
        ),
        (
            json!({"from": "nothing", "to": "x"}),
            "no matching mount at \"nothing/\"",
        ),
        (
            json!({"from": "kv1", "to": "kv1"}),
            "path already in use at \"kv1/\"",
        ),
        (
            json!({"from": "kv1", "to": "nested/inner/deeper"}),
            "path already in use at \"nested/inner/\"",
        ),
        (
            json!({"from": "kv1", "to": "nested"}),
            "path already in use at \"nested/inner/\"",
        ),
        (
            json!({"from": "kv1", "to": "a//b"}),
            "invalid destination mount: invalid mount path \"a//b\"",
        ),
        (json!({"from": "sys", "to": "x"}), "cannot remount \"sys/\""),
        (
            json!({"from": "identity", "to": "x"}),
            "cannot remount \"identity/\"",
        ),
        (
            json!({"from": "cubbyhole", "to": "x"}),
            "cannot remount \"cubbyhole/\"",
        ),
        (
            json!({"from": "kv1", "to": "sys/x"}),
            "cannot remount to destination sys/x/",
        ),
        (
            json!({"from": "kv1", "to": "auth/x"}),
            "cannot remount to destination auth/x/",
        ),
        (
            json!({"from": "auth/token", "to": "auth/t2"}),
            "cannot remount \"auth/token/\"",
        ),
        (
            json!({"from": "auth/userpass", "to": "auth/token2"}),
            "cannot remount to destination \"auth/token2/\"",
        ),
        (
            json!({"from": "auth/userpass", "to": "people"}),
            "cannot remount auth mount to non-auth mount \"people/\"",
        ),
        (
            json!({"from": "auth/nothing", "to": "auth/x"}),
            "no matching mount at \"auth/nothing/\"",
        ),
    ];
    for (body, message) in cases {
        let r = h.root(Operation::Update, "sys/remount", body.clone()).await;
        assert_eq!(status(&r), 400, "{body}: {}", error_text(&r));
        assert!(
            error_text(&r).contains(message),
            "{body}: {} should say {message}",
            error_text(&r)
        );
    }
    let unknown = h
        .root(
            Operation::Read,
            "sys/remount/status/not-a-migration",
            Value::Null,
        )
        .await;
    assert_eq!(status(&unknown), 404);
    let wrong_op = h.root(Operation::Read, "sys/remount", Value::Null).await;
    assert_eq!(status(&wrong_op), 405);
    // Nothing moved.
    assert!(mount_of(&h, "sys/mounts", "kv1/").await.is_some());
    assert!(mount_of(&h, "sys/auth", "userpass/").await.is_some());
}

#[tokio::test]
async fn remount_needs_sudo() {
    let h = Harness::dev().await;
    h.enable("kv1", "kv").await;
    for (name, caps) in [
        ("mover", r#"["update"]"#),
        ("sudo-mover", r#"["update", "sudo"]"#),
    ] {
        h.root(
            Operation::Update,
            &format!("sys/policies/acl/{name}"),
            json!({"policy": format!(
                "path \"sys/remount\" {{ capabilities = {caps} }}\npath \"sys/remount/status/*\" {{ capabilities = [\"read\"] }}"
            )}),
        )
        .await
        .unwrap();
    }
    let token = |policy: &'static str| {
        let h = &h;
        async move {
            h.root(
                Operation::Update,
                "auth/token/create",
                json!({"policies": [policy]}),
            )
            .await
            .unwrap()
            .auth
            .unwrap()
            .client_token
        }
    };
    let plain = token("mover").await;
    let denied = h
        .call(
            Some(&plain),
            Operation::Update,
            "sys/remount",
            json!({"from": "kv1", "to": "elsewhere"}),
        )
        .await;
    assert_eq!(status(&denied), 403);
    let sudo = token("sudo-mover").await;
    let allowed = h
        .call(
            Some(&sudo),
            Operation::Update,
            "sys/remount",
            json!({"from": "kv1", "to": "elsewhere"}),
        )
        .await
        .unwrap();
    let id = data(&allowed)["migration_id"].as_str().unwrap().to_owned();
    // The status needs no sudo.
    let read = h
        .call(
            Some(&sudo),
            Operation::Read,
            &format!("sys/remount/status/{id}"),
            Value::Null,
        )
        .await
        .unwrap();
    assert_eq!(data(&read)["migration_info"]["source_mount"], "kv1/");
}
