"""Issue 3 paths through hvac: userpass, AppRole, response wrapping, quotas, batch tokens."""
import hvac
import pytest


def test_userpass_login(client):
    client.sys.enable_auth_method("userpass", path="hvac-up")
    client.sys.create_or_update_policy(name="up-read", policy='path "secret/data/up/*" { capabilities = ["read"] }')
    client.auth.userpass.create_or_update_user("alice", password="correct horse", policies=["up-read"], mount_point="hvac-up")
    assert "alice" in client.auth.userpass.list_user(mount_point="hvac-up")["data"]["keys"]
    user = client.auth.userpass.read_user("alice", mount_point="hvac-up")["data"]
    assert "password" not in user and user["token_policies"] == ["up-read"]
    client.secrets.kv.v2.create_or_update_secret(path="up/x", secret={"v": "1"})
    login = hvac.Client(url=client.url)
    with pytest.raises(hvac.exceptions.InvalidRequest):
        login.auth.userpass.login("alice", "wrong", mount_point="hvac-up")
    resp = login.auth.userpass.login("alice", "correct horse", mount_point="hvac-up")
    assert resp["auth"]["policies"] == ["default", "up-read"]
    assert login.is_authenticated()
    assert login.secrets.kv.v2.read_secret_version(path="up/x", raise_on_deleted_version=True)["data"]["data"] == {"v": "1"}
    client.auth.userpass.update_password_on_user("alice", "new password", mount_point="hvac-up")
    login.auth.userpass.login("alice", "new password", mount_point="hvac-up")
    client.auth.userpass.delete_user("alice", mount_point="hvac-up")
    client.sys.disable_auth_method("hvac-up")


def test_approle_login(client):
    client.sys.enable_auth_method("approle", path="hvac-ar")
    client.auth.approle.create_or_update_approle("ci", token_policies=["default"], token_ttl="10m", mount_point="hvac-ar")
    role_id = client.auth.approle.read_role_id("ci", mount_point="hvac-ar")["data"]["role_id"]
    secret = client.auth.approle.generate_secret_id("ci", mount_point="hvac-ar")["data"]
    machine = hvac.Client(url=client.url)
    resp = machine.auth.approle.login(role_id=role_id, secret_id=secret["secret_id"], mount_point="hvac-ar")
    assert resp["auth"]["lease_duration"] == 600
    assert machine.auth.token.lookup_self()["data"]["meta"]["role_name"] == "ci"
    looked = client.auth.approle.read_secret_id("ci", secret["secret_id"], mount_point="hvac-ar")["data"]
    assert looked["secret_id_accessor"] == secret["secret_id_accessor"]
    client.auth.approle.destroy_secret_id("ci", secret["secret_id"], mount_point="hvac-ar")
    with pytest.raises(hvac.exceptions.InvalidRequest):
        machine.auth.approle.login(role_id=role_id, secret_id=secret["secret_id"], mount_point="hvac-ar")


def test_response_wrapping(client):
    client.secrets.kv.v2.create_or_update_secret(path="wrapped", secret={"pw": "w"})
    wrapped = client.adapter.get("/v1/secret/data/wrapped", headers={"X-Vault-Wrap-TTL": "60s"})
    info = wrapped["wrap_info"]
    assert info["creation_path"] == "secret/data/wrapped" and info["ttl"] == 60
    looked = client.adapter.post("/v1/sys/wrapping/lookup", json={"token": info["token"]})
    assert looked["data"]["creation_ttl"] == 60
    # As Vault: without a token of its own, the wrapping token is the client token.
    unwrapped = hvac.Client(url=client.url, token=info["token"]).sys.unwrap()
    assert unwrapped["data"]["data"] == {"pw": "w"}
    with pytest.raises(hvac.exceptions.InvalidRequest):
        hvac.Client(url=client.url, token=client.token).sys.unwrap(token=info["token"])


def test_rate_limit_quota(client):
    client.adapter.post("/v1/sys/quotas/rate-limit/hvac-q", json={"path": "cubbyhole/", "rate": 2, "interval": "1m"})
    quota = client.adapter.get("/v1/sys/quotas/rate-limit/hvac-q")["data"]
    assert quota["rate"] == 2 and quota["path"] == "cubbyhole/"
    # hvac's kv v1 write reads first (existence check): that read and the write use the two.
    client.secrets.kv.v1.create_or_update_secret(path="q", secret={"a": "b"}, mount_point="cubbyhole")
    with pytest.raises(hvac.exceptions.RateLimitExceeded):
        client.secrets.kv.v1.read_secret(path="q", mount_point="cubbyhole")
    client.adapter.delete("/v1/sys/quotas/rate-limit/hvac-q")


def test_batch_token(client):
    batch = client.auth.token.create(type="batch", policies=["default"], ttl="5m")["auth"]
    assert batch["client_token"].startswith("hvb.") and batch["token_type"] == "batch"
    assert hvac.Client(url=client.url, token=batch["client_token"]).auth.token.lookup_self()["data"]["type"] == "batch"
