"""Token store through hvac."""
import hvac
import pytest


def test_create_lookup_renew_revoke(client):
    created = client.auth.token.create(policies=["default"], ttl="1h", renewable=True, meta={"app": "hvac"}, display_name="suite")
    auth = created["auth"]
    token, accessor = auth["client_token"], auth["accessor"]
    assert token.startswith("hvs.") and auth["lease_duration"] == 3600
    info = client.auth.token.lookup(token)["data"]
    assert info["display_name"] == "token-suite" and info["meta"] == {"app": "hvac"}
    assert client.auth.token.lookup_accessor(accessor)["data"]["accessor"] == accessor
    renewed = client.auth.token.renew(token, increment="30m")["auth"]
    assert renewed["lease_duration"] == 1800
    me = hvac.Client(url=client.url, token=token)
    assert me.auth.token.lookup_self()["data"]["accessor"] == accessor
    client.auth.token.revoke(token)
    with pytest.raises(hvac.exceptions.Forbidden):
        me.auth.token.lookup_self()


def test_parent_revocation_cascades(client):
    client.sys.create_or_update_policy(name="token-creator", policy='path "auth/token/create" { capabilities = ["update"] }')
    parent = client.auth.token.create(policies=["default", "token-creator"], ttl="1h")["auth"]["client_token"]
    pc = hvac.Client(url=client.url, token=parent)
    child = pc.auth.token.create(policies=["default"], ttl="1h")["auth"]["client_token"]
    orphan = client.auth.token.create_orphan(policies=["default"], ttl="1h")["auth"]["client_token"]
    client.auth.token.revoke(parent)
    with pytest.raises(hvac.exceptions.Forbidden):
        hvac.Client(url=client.url, token=child).auth.token.lookup_self()
    assert hvac.Client(url=client.url, token=orphan).auth.token.lookup_self()["data"]["orphan"] is True


def test_roles(client):
    client.auth.token.create_or_update_role("hvac-role", allowed_policies=["default", "readers"], orphan=True)
    role = client.auth.token.read_role("hvac-role")["data"]
    assert role["orphan"] is True
    assert "hvac-role" in client.auth.token.list_roles()["data"]["keys"]
    token = client.auth.token.create(role_name="hvac-role", policies=["readers"])["auth"]
    assert "readers" in token["policies"] and token["orphan"] is True
    client.auth.token.delete_role("hvac-role")


def test_invalid_token_is_403(client):
    bad = hvac.Client(url=client.url, token="hvs.notarealtokenAAAAAAAAAAAA")
    with pytest.raises(hvac.exceptions.Forbidden):
        bad.secrets.kv.v2.read_secret_version(path="anything", raise_on_deleted_version=True)
