"""sys/ endpoints through hvac: seal lifecycle, mounts, auth, policies, capabilities."""
import hvac
import pytest


def test_init_unseal_seal_cycle(prod_server):
    client = hvac.Client(url=prod_server.address)
    assert client.sys.is_initialized() is False
    result = client.sys.initialize(secret_shares=5, secret_threshold=3)
    assert len(result["keys"]) == 5 and len(result["keys_base64"]) == 5
    assert result["root_token"].startswith("hvs.")
    assert client.sys.is_initialized() is True
    assert client.sys.is_sealed() is True
    status = client.sys.submit_unseal_key(result["keys"][0])
    assert status["sealed"] is True and status["progress"] == 1 and status["t"] == 3
    status = client.sys.submit_unseal_keys(result["keys"][1:3])
    assert status["sealed"] is False
    client.token = result["root_token"]
    client.secrets.kv.v1.create_or_update_secret(path="x", secret={"a": "b"}, mount_point="cubbyhole")
    client.sys.seal()
    assert client.sys.is_sealed() is True
    with pytest.raises(hvac.exceptions.VaultDown):
        client.secrets.kv.v1.read_secret(path="x", mount_point="cubbyhole")
    client.sys.submit_unseal_keys(result["keys_base64"][2:5])
    assert client.sys.is_sealed() is False
    assert client.secrets.kv.v1.read_secret(path="x", mount_point="cubbyhole")["data"] == {"a": "b"}


def test_health_and_leader(client):
    health = client.sys.read_health_status(method="GET")
    assert health["initialized"] is True and health["sealed"] is False
    assert client.sys.read_leader_status()["ha_enabled"] is False


def test_mounts_enable_tune_disable(client):
    client.sys.enable_secrets_engine("kv", path="hvac-kv1", description="v1 store")
    mounts = client.sys.list_mounted_secrets_engines()["data"]
    assert mounts["hvac-kv1/"]["type"] == "kv"
    assert mounts["hvac-kv1/"]["description"] == "v1 store"
    assert "secret/" in mounts and "sys/" in mounts and "cubbyhole/" in mounts
    client.sys.tune_mount_configuration(path="hvac-kv1", default_lease_ttl="1h", max_lease_ttl="2h")
    tune = client.sys.read_mount_configuration(path="hvac-kv1")["data"]
    assert tune["default_lease_ttl"] == 3600 and tune["max_lease_ttl"] == 7200
    with pytest.raises(hvac.exceptions.InvalidRequest) as err:
        client.sys.enable_secrets_engine("kv", path="hvac-kv1")
    assert "path is already in use at hvac-kv1/" in str(err.value)
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.sys.enable_secrets_engine("kv", path="hvac-kv1/nested")
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.sys.enable_secrets_engine("no-such-engine", path="nope")
    client.sys.disable_secrets_engine("hvac-kv1")
    assert "hvac-kv1/" not in client.sys.list_mounted_secrets_engines()["data"]


def test_auth_methods_listed(client):
    methods = client.sys.list_auth_methods()["data"]
    assert methods["token/"]["type"] == "token"


def test_policies_and_capabilities(client):
    rules = 'path "secret/data/app/*" { capabilities = ["read", "list"] }'
    client.sys.create_or_update_policy(name="hvac-app", policy=rules)
    assert "hvac-app" in client.sys.list_policies()["data"]["policies"]
    assert client.sys.read_policy("hvac-app")["data"]["rules"] == rules
    acl = client.sys.read_acl_policy("hvac-app")["data"]
    assert acl["policy"] == rules
    token = client.auth.token.create(policies=["hvac-app"], ttl="1h")["auth"]["client_token"]
    resp = client.adapter.post("/v1/sys/capabilities", json={"token": token, "paths": ["secret/data/app/x", "sys/mounts"]})
    assert resp["data"]["secret/data/app/x"] == ["list", "read"]
    assert resp["data"]["sys/mounts"] == ["deny"]
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.sys.create_or_update_policy(name="bad", policy='path "x" { capabilities = ["fly"] }')
    client.sys.delete_policy("hvac-app")
    with pytest.raises(hvac.exceptions.InvalidPath):
        client.sys.read_policy("hvac-app")


def test_key_status_and_rotate(client):
    before = client.sys.get_encryption_key_status()["data"]["term"]
    client.sys.rotate_encryption_key()
    after = client.sys.get_encryption_key_status()["data"]["term"]
    assert after == before + 1
