"""Identity and the leases API through hvac."""
import hvac
import pytest


def test_entities_aliases_groups(client):
    ident = client.secrets.identity
    entity = ident.create_or_update_entity(name="hvac-ent", metadata={"team": "blue"}, policies=["default"])["data"]
    entity_id = entity["id"]
    read = ident.read_entity(entity_id)["data"]
    assert read["name"] == "hvac-ent" and read["metadata"] == {"team": "blue"}
    assert entity_id in ident.list_entities()["data"]["keys"]
    assert ident.lookup_entity(name="hvac-ent")["data"]["id"] == entity_id

    client.sys.enable_auth_method("userpass", path="hvac-id-up")
    accessor = client.sys.list_auth_methods()["data"]["hvac-id-up/"]["accessor"]
    alias = ident.create_or_update_entity_alias(name="erin", canonical_id=entity_id, mount_accessor=accessor)["data"]
    assert alias["canonical_id"] == entity_id
    with pytest.raises(hvac.exceptions.InvalidRequest):
        ident.create_or_update_entity_alias(name="x", canonical_id=entity_id, mount_accessor="auth_nope_123")

    group = ident.create_or_update_group(name="hvac-grp", policies=["hvac-grp-pol"], member_entity_ids=[entity_id])["data"]
    assert ident.read_group(group["id"])["data"]["member_entity_ids"] == [entity_id]
    assert group["id"] in ident.read_entity(entity_id)["data"]["group_ids"]

    # A login through the aliased mount lands on the same entity and gets the group policy.
    client.auth.userpass.create_or_update_user("erin", password="pw", mount_point="hvac-id-up")
    login = hvac.Client(url=client.url).auth.userpass.login("erin", "pw", mount_point="hvac-id-up")["auth"]
    assert login["entity_id"] == entity_id
    assert "hvac-grp-pol" in login["identity_policies"]

    ident.delete_group(group["id"])
    ident.delete_entity(entity_id)
    with pytest.raises(hvac.exceptions.InvalidPath):
        ident.read_entity(entity_id)


def test_leases_api(client):
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.sys.read_lease("secret/creds/nope/abc")
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.sys.renew_lease("secret/creds/nope/abc")
    with pytest.raises(hvac.exceptions.InvalidPath):
        client.sys.list_leases("secret/")


def test_revoke_prefix_revokes_the_logins_under_it(client):
    """Tokens from logins are leases under `auth/<mount>/login/<user>/`:
    revoking a prefix revokes those tokens and no others."""
    for mount in ("hvac-rp-a", "hvac-rp-b"):
        client.sys.enable_auth_method("userpass", path=mount)
        client.auth.userpass.create_or_update_user("rita", password="pw", mount_point=mount)
    try:
        def login(mount):
            c = hvac.Client(url=client.url)
            c.auth.userpass.login("rita", "pw", mount_point=mount)
            return c

        doomed = [login("hvac-rp-a") for _ in range(2)]
        kept = login("hvac-rp-b")
        listed = client.sys.list_leases("auth/hvac-rp-a/login/rita/")["data"]["keys"]
        assert len(listed) == 2, listed
        for c in (*doomed, kept):
            assert c.auth.token.lookup_self()["data"]["path"].startswith("auth/hvac-rp-")

        client.sys.revoke_prefix("auth/hvac-rp-a/login")

        for c in doomed:
            with pytest.raises(hvac.exceptions.Forbidden):
                c.auth.token.lookup_self()
        with pytest.raises(hvac.exceptions.InvalidPath):
            client.sys.list_leases("auth/hvac-rp-a/login/rita/")
        # The other mount's login, and the caller's own token, are untouched.
        assert kept.auth.token.lookup_self()["data"]["path"] == "auth/hvac-rp-b/login/rita"
        assert len(client.sys.list_leases("auth/hvac-rp-b/login/rita/")["data"]["keys"]) == 1
        assert client.auth.token.lookup_self()["data"]["id"] == client.token
        # A prefix with nothing under it is not an error, and revokes nothing.
        client.sys.revoke_prefix("secret/creds/")
        assert kept.auth.token.lookup_self()["data"]["path"] == "auth/hvac-rp-b/login/rita"
    finally:
        for mount in ("hvac-rp-a", "hvac-rp-b"):
            client.sys.disable_auth_method(mount)
