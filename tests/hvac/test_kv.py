"""KV v1 and v2 through hvac."""
import hvac
import pytest


def test_kv2_versions_patch_delete_destroy(client):
    kv = client.secrets.kv.v2
    kv.create_or_update_secret(path="hvac/app", secret={"password": "one"})
    kv.create_or_update_secret(path="hvac/app", secret={"password": "two", "user": "u"})
    latest = kv.read_secret_version(path="hvac/app", raise_on_deleted_version=True)
    assert latest["data"]["data"] == {"password": "two", "user": "u"}
    assert latest["data"]["metadata"]["version"] == 2
    first = kv.read_secret_version(path="hvac/app", version=1, raise_on_deleted_version=True)
    assert first["data"]["data"] == {"password": "one"}
    kv.patch(path="hvac/app", secret={"user": "v"})
    assert kv.read_secret_version(path="hvac/app", raise_on_deleted_version=True)["data"]["data"] == {"password": "two", "user": "v"}
    with pytest.raises(hvac.exceptions.InvalidRequest):
        kv.create_or_update_secret(path="hvac/app", secret={"x": "y"}, cas=1)
    kv.create_or_update_secret(path="hvac/app", secret={"x": "y"}, cas=3)
    kv.delete_latest_version_of_secret(path="hvac/app")
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret_version(path="hvac/app", raise_on_deleted_version=True)
    kv.undelete_secret_versions(path="hvac/app", versions=[4])
    assert kv.read_secret_version(path="hvac/app", raise_on_deleted_version=True)["data"]["data"] == {"x": "y"}
    kv.destroy_secret_versions(path="hvac/app", versions=[1])
    meta = kv.read_secret_metadata(path="hvac/app")["data"]
    assert meta["versions"]["1"]["destroyed"] is True
    assert meta["current_version"] == 4
    assert "app" in kv.list_secrets(path="hvac")["data"]["keys"]
    kv.update_metadata(path="hvac/app", max_versions=2, custom_metadata={"owner": "team"})
    meta = kv.read_secret_metadata(path="hvac/app")["data"]
    assert meta["max_versions"] == 2 and meta["custom_metadata"] == {"owner": "team"}
    kv.delete_metadata_and_all_versions(path="hvac/app")
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret_metadata(path="hvac/app")


def test_kv2_config(client):
    client.secrets.kv.v2.configure(max_versions=7, cas_required=False, mount_point="secret")
    assert client.secrets.kv.v2.read_configuration(mount_point="secret")["data"]["max_versions"] == 7


def test_kv1(client):
    client.sys.enable_secrets_engine("kv", path="hvac-v1", options={"version": "1"})
    kv = client.secrets.kv.v1
    kv.create_or_update_secret(path="db", secret={"pw": "s3cret"}, mount_point="hvac-v1")
    assert kv.read_secret(path="db", mount_point="hvac-v1")["data"] == {"pw": "s3cret"}
    assert kv.list_secrets(path="", mount_point="hvac-v1")["data"]["keys"] == ["db"]
    kv.delete_secret(path="db", mount_point="hvac-v1")
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret(path="db", mount_point="hvac-v1")
    client.sys.disable_secrets_engine("hvac-v1")
