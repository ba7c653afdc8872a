//! What the scenarios need on the server: a policy, a non-root token that
//! holds it (so the ACL is evaluated on every request, as for a real
//! client), a 1 KiB secret, and on demand an AppRole role and a transit key.
//! Everything the benchmark creates is named `coffer-bench`.

use std::net::SocketAddr;

use anyhow::Context as _;
use hyper::Method;
use serde_json::json;

use crate::admin::{Admin, server_message};
use crate::scenario::kib_value;

/// The benchmark's policy: its KV paths and its transit key, nothing else
/// (the token also gets `default`, which grants `lookup-self`).
const POLICY: &str = r#"
path "secret/data/coffer-bench/*" {
  capabilities = ["create", "read", "update"]
}
path "transit/encrypt/coffer-bench" {
  capabilities = ["update"]
}
"#;

/// The name of everything the benchmark creates.
pub(crate) const NAME: &str = "coffer-bench";

/// What the scenarios use. `Debug` shows neither the token nor the
/// AppRole credentials.
#[derive(Clone)]
pub(crate) struct Fixture {
    /// The non-root token every authenticated scenario sends.
    pub token: String,
    /// Size of the answer to a read of the 1 KiB secret, in bytes.
    pub read_answer_bytes: usize,
    /// The AppRole role id and secret id, once set up.
    pub approle: Option<(String, String)>,
}

impl std::fmt::Debug for Fixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fixture")
            .field("read_answer_bytes", &self.read_answer_bytes)
            .field("approle", &self.approle.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

impl Fixture {
    /// `/v1/...` of the 1 KiB secret.
    pub(crate) fn read_uri(&self) -> String {
        format!("/v1/secret/data/{NAME}/read")
    }

    /// `/v1/...` prefix of written keys in group `group`.
    pub(crate) fn write_uri_prefix(&self, group: &str) -> String {
        format!("/v1/secret/data/{NAME}/{group}/")
    }

    /// A fixture with made-up values, for unit tests of request builders.
    #[cfg(test)]
    pub(crate) fn for_tests() -> Self {
        Self {
            token: "hvs.test".into(),
            read_answer_bytes: 1352,
            approle: None,
        }
    }
}

/// Creates the policy, the token and the secret with `admin` (a token that
/// may do so), and measures the size of a read.
pub(crate) async fn prepare(addr: SocketAddr, admin_token: &str) -> anyhow::Result<Fixture> {
    let mut admin = Admin::connect(addr, Some(admin_token.to_owned())).await?;
    let mounts = admin
        .read("sys/mounts")
        .await
        .context("the setup token cannot read sys/mounts (pass a root token with --token)")?;
    let kv = &mounts.body["data"]["secret/"];
    if kv["type"] != "kv" || kv["options"]["version"] != "2" {
        anyhow::bail!(
            "the kv2 scenarios need a KV v2 engine mounted at secret/ (coffer secrets enable -path=secret kv-v2)"
        );
    }
    admin
        .write(
            &format!("sys/policies/acl/{NAME}"),
            &json!({ "policy": POLICY }),
        )
        .await?;
    let created = admin
        .write(
            "auth/token/create",
            &json!({"policies": [NAME], "ttl": "8h", "display_name": NAME}),
        )
        .await?;
    let token = created.body["auth"]["client_token"]
        .as_str()
        .context("auth/token/create returned no token")?
        .to_owned();
    let mut client = admin.with_token(&token).await?;
    client
        .write(
            &format!("secret/data/{NAME}/read"),
            &json!({"data": {"value": kib_value()}}),
        )
        .await?;
    let read = client.read(&format!("secret/data/{NAME}/read")).await?;
    let read_answer_bytes = read.body_bytes;
    Ok(Fixture {
        token,
        read_answer_bytes,
        approle: None,
    })
}

/// Enables AppRole at `approle/` if needed, creates the benchmark's role and
/// a secret id with unlimited uses, and raises the `default-login` rate
/// limit (10 logins/s per client) so that it does not cap the measurement;
/// the quota stays in place, so its check is still paid on every login.
pub(crate) async fn prepare_approle(
    addr: SocketAddr,
    admin_token: &str,
    fixture: &mut Fixture,
) -> anyhow::Result<()> {
    if fixture.approle.is_some() {
        return Ok(());
    }
    let mut admin = Admin::connect(addr, Some(admin_token.to_owned())).await?;
    let auths = admin.read("sys/auth").await?;
    match auths.body["data"]["approle/"]["type"].as_str() {
        Some("approle") => {}
        Some(other) => anyhow::bail!("approle/ is already an auth method of type {other}"),
        None => {
            admin
                .write("sys/auth/approle", &json!({"type": "approle"}))
                .await?;
        }
    }
    admin
        .write(
            &format!("auth/approle/role/{NAME}"),
            &json!({
                "token_policies": [NAME],
                "token_ttl": "24h",
                "secret_id_num_uses": 0,
                "secret_id_ttl": 0,
            }),
        )
        .await?;
    let role = admin
        .read(&format!("auth/approle/role/{NAME}/role-id"))
        .await?;
    let role_id = role
        .data_str("role_id")
        .context("no role_id in the answer")?
        .to_owned();
    let secret = admin
        .expect_ok(
            Method::POST,
            &format!("auth/approle/role/{NAME}/secret-id"),
            Some(&json!({})),
        )
        .await?;
    let secret_id = secret
        .data_str("secret_id")
        .context("no secret_id in the answer")?
        .to_owned();
    let quota = admin
        .call(
            Method::PUT,
            "sys/quotas/rate-limit/default-login",
            Some(&json!({"rate": 1_000_000, "interval": "1s"})),
        )
        .await?;
    if !quota.status.is_success() && quota.status.as_u16() != 404 {
        anyhow::bail!(
            "raising the default-login rate limit failed: {}",
            server_message(&quota.body)
        );
    }
    fixture.approle = Some((role_id, secret_id));
    Ok(())
}

/// Mounts transit at `transit/` if needed and creates the benchmark's key;
/// a server without a transit engine gets a clear error.
pub(crate) async fn prepare_transit(addr: SocketAddr, admin_token: &str) -> anyhow::Result<()> {
    let mut admin = Admin::connect(addr, Some(admin_token.to_owned())).await?;
    let mounts = admin.read("sys/mounts").await?;
    if mounts.body["data"]["transit/"]["type"] != "transit" {
        let enabled = admin
            .call(
                Method::PUT,
                "sys/mounts/transit",
                Some(&json!({"type": "transit"})),
            )
            .await?;
        if !enabled.status.is_success() {
            anyhow::bail!(
                "scenario transit-encrypt needs the transit secrets engine, and this server cannot mount it: {}",
                server_message(&enabled.body)
            );
        }
    }
    admin
        .write(&format!("transit/keys/{NAME}"), &json!({}))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token_or_the_secret_id() {
        let mut fixture = Fixture::for_tests();
        fixture.approle = Some(("role-canary".into(), "secret-canary".into()));
        let shown = format!("{fixture:?}");
        assert!(!shown.contains("hvs.test"), "{shown}");
        assert!(!shown.contains("canary"), "{shown}");
    }
}
