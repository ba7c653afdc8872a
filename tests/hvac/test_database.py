"""The database secrets engine through hvac's `secrets.database` API, against
the machine's PostgreSQL (trust authentication, so these tests check what
exists in the database; the Rust tests prove logins with scram clusters)."""
import os
import socket
import subprocess
import uuid

import hvac
import pytest

PG_HOST, PG_PORT = "127.0.0.1", 5432


def _pg_up():
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module", autouse=True)
def postgres():
    if not _pg_up():
        if os.environ.get("COFFER_REQUIRE_SERVICES") == "1":
            pytest.fail("PostgreSQL is required (COFFER_REQUIRE_SERVICES=1) but unreachable at 127.0.0.1:5432")
        pytest.skip("PostgreSQL unreachable at 127.0.0.1:5432")


def psql(sql):
    out = subprocess.run(
        ["psql", "-h", PG_HOST, "-p", str(PG_PORT), "-U", "postgres", "-d", "postgres", "-tAc", sql],
        check=True, capture_output=True, text=True,
    )
    return out.stdout.strip()


def role_exists(name):
    return psql(f"SELECT count(*) FROM pg_roles WHERE rolname = '{name}'") == "1"


@pytest.fixture()
def db(client):
    mount = "db-" + uuid.uuid4().hex[:8]
    client.sys.enable_secrets_engine("database", path=mount)
    client.secrets.database.configure(
        name="pg",
        plugin_name="postgresql-database-plugin",
        allowed_roles=["app", "static-app"],
        connection_url=f"postgresql://{{{{username}}}}:{{{{password}}}}@{PG_HOST}:{PG_PORT}/postgres?sslmode=disable",
        username="postgres",
        password="hvac-canary-root-password",
        mount_point=mount,
    )
    yield mount
    client.sys.revoke_prefix(mount)
    client.sys.disable_secrets_engine(mount)


def test_connection_read_list_and_reset(client, db):
    conn = client.secrets.database.read_connection("pg", mount_point=db)["data"]
    assert conn["plugin_name"] == "postgresql-database-plugin"
    assert conn["allowed_roles"] == ["app", "static-app"]
    assert "password" not in conn["connection_details"]
    assert "hvac-canary-root-password" not in str(conn)
    assert client.secrets.database.list_connections(mount_point=db)["data"]["keys"] == ["pg"]
    assert client.secrets.database.reset_connection("pg", mount_point=db).status_code == 204


def test_dynamic_credentials_lifecycle(client, db):
    client.secrets.database.create_role(
        name="app",
        db_name="pg",
        creation_statements=[
            "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"
        ],
        default_ttl="1h",
        max_ttl="2h",
        mount_point=db,
    )
    role = client.secrets.database.read_role("app", mount_point=db)["data"]
    assert role["db_name"] == "pg" and role["default_ttl"] == 3600
    assert client.secrets.database.list_roles(mount_point=db)["data"]["keys"] == ["app"]

    creds = client.secrets.database.generate_credentials("app", mount_point=db)
    user = creds["data"]["username"]
    assert creds["lease_duration"] == 3600 and creds["renewable"]
    assert creds["lease_id"].startswith(f"{db}/creds/app/")
    assert role_exists(user)

    renewed = client.sys.renew_lease(creds["lease_id"], increment=7200)
    assert renewed["lease_duration"] <= 7200

    client.sys.revoke_lease(creds["lease_id"])
    assert not role_exists(user)


def test_revoke_prefix_drops_every_user_of_a_role(client, db):
    client.secrets.database.create_role(name="app", db_name="pg", creation_statements=[], mount_point=db)
    users = [
        client.secrets.database.generate_credentials("app", mount_point=db)["data"]["username"]
        for _ in range(3)
    ]
    assert all(role_exists(u) for u in users)
    client.sys.revoke_prefix(f"{db}/creds/app")
    assert not any(role_exists(u) for u in users)


def test_static_role_and_rotation(client, db):
    user = "hvac_static_" + uuid.uuid4().hex[:8]
    psql(f"CREATE ROLE \"{user}\" LOGIN PASSWORD 'initial'")
    try:
        client.secrets.database.create_static_role(
            name="static-app", db_name="pg", username=user, rotation_statements=[],
            rotation_period=3600, mount_point=db,
        )
        role = client.secrets.database.read_static_role("static-app", mount_point=db)["data"]
        assert role["username"] == user and role["rotation_period"] == 3600
        assert "password" not in role
        assert client.secrets.database.list_static_roles(mount_point=db)["data"]["keys"] == ["static-app"]
        first = client.secrets.database.get_static_credentials("static-app", mount_point=db)["data"]
        assert first["username"] == user and len(first["password"]) == 20
        assert 0 < first["ttl"] <= 3600
        client.secrets.database.rotate_static_role_credentials("static-app", mount_point=db)
        second = client.secrets.database.get_static_credentials("static-app", mount_point=db)["data"]
        assert second["password"] != first["password"]
        client.secrets.database.delete_static_role("static-app", mount_point=db)
    finally:
        psql(f"DROP ROLE IF EXISTS \"{user}\"")


def test_bad_input_is_a_400(client, db):
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.secrets.database.configure(
            name="bad", plugin_name="nope-database-plugin", mount_point=db,
        )
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.secrets.database.configure(
            name="down", plugin_name="postgresql-database-plugin",
            connection_url="postgresql://{{username}}:{{password}}@127.0.0.1:1/postgres?sslmode=disable",
            username="u", password="p", mount_point=db,
        )
    client.secrets.database.create_role(name="notallowed", db_name="pg", creation_statements=[], mount_point=db)
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.secrets.database.generate_credentials("notallowed", mount_point=db)
