"""`sys/internal/specs/openapi` read through hvac and checked by a real
OpenAPI validator (openapi-spec-validator): the document generated from the
path declarations of every mounted engine and auth method must be valid
OpenAPI 3, give every path operations, and carry Vault's `x-vault-*`
extensions where Vault emits them."""
import copy
import re

import hvac
import pytest
from conftest import ROOT_TOKEN
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

OPERATIONS = ("get", "put", "post", "patch", "delete")

# Mount paths of this module only, so other tests' mounts do not matter.
SECRETS = {
    "oas-kv2": ("kv", {"version": "2"}),
    "oas-kv1": ("kv", {"version": "1"}),
    "oas-db": ("database", None),
}
AUTHS = {"oas-userpass": "userpass", "oas-approle": "approle"}


@pytest.fixture(scope="module")
def document(dev_server):
    client = hvac.Client(url=dev_server.address, token=ROOT_TOKEN)
    for path, (kind, options) in SECRETS.items():
        client.sys.enable_secrets_engine(kind, path=path, options=options)
    for path, kind in AUTHS.items():
        client.sys.enable_auth_method(kind, path=path)
    try:
        # hvac has no method for this endpoint: its adapter sends the GET with
        # the token and decodes the JSON body.
        yield client.adapter.get("/v1/sys/internal/specs/openapi")
    finally:
        for path in SECRETS:
            client.sys.disable_secrets_engine(path)
        for path in AUTHS:
            client.sys.disable_auth_method(path)


def test_the_document_is_valid_openapi_3(document):
    assert document["openapi"].startswith("3.0")
    assert document["info"]["title"] and document["info"]["version"]
    validate(document)


def test_the_validator_rejects_a_broken_copy(document):
    """The validation above can fail: a path template whose parameter is no
    longer declared is refused."""
    broken = copy.deepcopy(document)
    item = broken["paths"]["/oas-kv2/data/{path}"]
    item.pop("parameters", None)
    for op in OPERATIONS:
        if op in item:
            item[op].pop("parameters", None)
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_every_mount_is_documented_and_every_path_has_operations(document):
    paths = document["paths"]
    for expected in (
        "/oas-kv2/data/{path}",
        "/oas-kv2/metadata/{path}",
        "/oas-kv2/config",
        "/oas-kv1/{path}",
        "/oas-db/config/{name}",
        "/oas-db/roles/{name}",
        "/oas-db/creds/{name}",
        "/auth/oas-userpass/users/{username}",
        "/auth/oas-userpass/login/{username}",
        "/auth/oas-approle/role/{role_name}",
        "/auth/oas-approle/login",
        "/auth/token/create",
        "/sys/mounts",
        "/sys/policies/acl/{name}",
    ):
        assert expected in paths, expected
    for name, item in paths.items():
        assert name.startswith("/"), name
        ops = [op for op in OPERATIONS if op in item]
        assert ops, f"{name} has no operations"
        for op in ops:
            assert item[op]["responses"], f"{name} {op} has no responses"
            assert item[op]["operationId"] and item[op]["tags"], f"{name} {op}"
        if "delete" in item:
            assert set(item["delete"]["responses"]) == {"204"}, name
        # Every template segment is a declared, required path parameter.
        declared = {p["name"] for p in item.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"\{([^}]+)\}", name)), name
        for p in item.get("parameters", []):
            if p["in"] == "path":
                assert p["required"] is True, name


def test_request_bodies_describe_declared_fields(document):
    post = document["paths"]["/oas-kv2/data/{path}"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert schema["type"] == "object"
    assert {"data", "options"} <= set(schema["properties"])
    assert schema["properties"]["data"]["type"] == "object"


def body_schema(document, path, method="post"):
    return document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]


def test_fields_carry_vaults_types_flags_and_defaults(document):
    user = body_schema(document, "/auth/oas-userpass/users/{username}")
    assert user["properties"]["token_ttl"]["type"] == "string"
    assert user["properties"]["token_ttl"]["format"] == "duration"
    assert user["properties"]["token_policies"]["type"] == "array"
    assert user["properties"]["password"]["x-vault-displayAttrs"] == {"sensitive": True}
    # The path parameter is not repeated as a body field.
    assert "username" not in user["properties"]
    login = body_schema(document, "/auth/oas-userpass/login/{username}")
    assert login["required"] == ["password"]
    assert login["properties"]["password"]["x-vault-displayAttrs"] == {"sensitive": True}
    approle_login = body_schema(document, "/auth/oas-approle/login")
    assert "role_id" in approle_login["required"]
    assert approle_login["properties"]["secret_id"]["x-vault-displayAttrs"] == {"sensitive": True}
    db = body_schema(document, "/oas-db/config/{name}")
    assert db["properties"]["password"]["x-vault-displayAttrs"] == {"sensitive": True}
    assert db["properties"]["max_open_connections"]["default"] == 4
    assert document["paths"]["/oas-kv2/data/{path}"]["post"]["tags"] == ["secrets"]
    assert document["paths"]["/auth/oas-userpass/users/{username}"]["post"]["tags"] == ["auth"]
    assert document["paths"]["/sys/mounts"]["get"]["tags"] == ["system"]


def test_sudo_and_unauthenticated_paths_carry_vaults_extensions(document):
    paths = document["paths"]
    for sudo in ("/sys/audit", "/sys/audit/{path}", "/sys/auth/{path}", "/sys/seal", "/auth/token/accessors"):
        assert paths[sudo].get("x-vault-sudo") is True, sudo
    for unauth in (
        "/sys/seal-status",
        "/sys/init",
        "/sys/unseal",
        "/sys/wrapping/lookup",
        "/auth/oas-userpass/login/{username}",
        "/auth/oas-approle/login",
    ):
        assert paths[unauth].get("x-vault-unauthenticated") is True, unauth
    for ordinary in ("/oas-kv2/data/{path}", "/sys/mounts", "/auth/oas-userpass/users/{username}"):
        assert "x-vault-sudo" not in paths[ordinary], ordinary
        assert "x-vault-unauthenticated" not in paths[ordinary], ordinary
    # Paths whose writes are split into create and update by an existence check.
    assert paths["/oas-kv2/data/{path}"].get("x-vault-createSupported") is True
    assert paths["/auth/oas-userpass/users/{username}"].get("x-vault-createSupported") is True
