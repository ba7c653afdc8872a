"""Audit devices through hvac's audit API."""
import json

import hvac
import pytest


def test_audit_device_lifecycle(client, tmp_path):
    log = tmp_path / "audit.log"
    client.sys.enable_audit_device("file", path="hvac-file", description="hvac", options={"file_path": str(log)})
    devices = client.sys.list_enabled_audit_devices()["data"]
    assert devices["hvac-file/"]["type"] == "file"
    assert devices["hvac-file/"]["options"]["file_path"] == str(log)

    client.secrets.kv.v2.create_or_update_secret(path="audited", secret={"pw": "hvac-audit-canary"})
    client.secrets.kv.v2.read_secret_version(path="audited", raise_on_deleted_version=True)
    hashed = client.sys.calculate_hash("hvac-file", "hvac-audit-canary")["data"]["hash"]
    assert hashed.startswith("hmac-sha256:")

    text = log.read_text()
    assert "hvac-audit-canary" not in text
    assert hashed in text
    records = [json.loads(line) for line in text.splitlines()]
    assert any(r.get("request", {}).get("path") == "secret/data/audited" for r in records)

    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.sys.enable_audit_device("file", path="hvac-bad", options={"file_path": "/proc/none/x.log"})
    client.sys.disable_audit_device("hvac-file")
    assert "hvac-file/" not in client.sys.list_enabled_audit_devices()["data"]
