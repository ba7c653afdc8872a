"""The database secrets engine through hvac's `secrets.database` API, against
a private PostgreSQL cluster where every connection needs its password
(scram-sha-256; the machine's server trusts local connections, so it could
not show that a password works or stopped working). Each test logs in with
what Coffer handed out, and with what it replaced."""
import uuid

import hvac
import pytest

from pgcluster import start_or_skip


@pytest.fixture(scope="module")
def cluster():
    c = start_or_skip()
    yield c
    c.stop()


class Db:
    """A database mount configured with a root user of its own."""

    def __init__(self, mount, cluster, admin, admin_password):
        self.mount, self.cluster = mount, cluster
        self.admin, self.admin_password = admin, admin_password


@pytest.fixture()
def db(client, cluster):
    mount = "db-" + uuid.uuid4().hex[:8]
    # A root user per test, so rotating it touches no other test; its
    # password is a canary that no response may show.
    admin = "hvac_root_" + uuid.uuid4().hex[:8]
    admin_password = "hvac-canary-root-" + uuid.uuid4().hex
    cluster.psql(f"CREATE ROLE \"{admin}\" SUPERUSER LOGIN PASSWORD '{admin_password}'")
    client.sys.enable_secrets_engine("database", path=mount)
    client.secrets.database.configure(
        name="pg",
        plugin_name="postgresql-database-plugin",
        allowed_roles=["app", "static-app"],
        connection_url=f"postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{cluster.port}/postgres?sslmode=disable",
        username=admin,
        password=admin_password,
        mount_point=mount,
    )
    yield Db(mount, cluster, admin, admin_password)
    client.sys.revoke_prefix(mount)
    client.sys.disable_secrets_engine(mount)
    cluster.psql(f"DROP ROLE IF EXISTS \"{admin}\"")


def role_exists(cluster, name):
    return cluster.psql(f"SELECT count(*) FROM pg_roles WHERE rolname = '{name}'") == "1"


def logs_in(cluster, user, password):
    """Whether `user` logs in with `password` (and is then that user)."""
    ok, out = cluster.login(user, password, "SELECT current_user")
    if ok:
        assert out == user
        return True
    assert "password authentication failed" in out, out
    return False


def test_connection_read_list_and_reset(client, db):
    conn = client.secrets.database.read_connection("pg", mount_point=db.mount)["data"]
    assert conn["plugin_name"] == "postgresql-database-plugin"
    assert conn["allowed_roles"] == ["app", "static-app"]
    assert conn["connection_details"]["username"] == db.admin
    assert "password" not in conn["connection_details"]
    assert db.admin_password not in str(conn)
    assert client.secrets.database.list_connections(mount_point=db.mount)["data"]["keys"] == ["pg"]
    assert client.secrets.database.reset_connection("pg", mount_point=db.mount).status_code == 204


def test_dynamic_credentials_lifecycle(client, db):
    client.secrets.database.create_role(
        name="app",
        db_name="pg",
        creation_statements=[
            "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"
        ],
        default_ttl="1h",
        max_ttl="2h",
        mount_point=db.mount,
    )
    role = client.secrets.database.read_role("app", mount_point=db.mount)["data"]
    assert role["db_name"] == "pg" and role["default_ttl"] == 3600
    assert client.secrets.database.list_roles(mount_point=db.mount)["data"]["keys"] == ["app"]

    creds = client.secrets.database.generate_credentials("app", mount_point=db.mount)
    user, password = creds["data"]["username"], creds["data"]["password"]
    assert creds["lease_duration"] == 3600 and creds["renewable"]
    assert creds["lease_id"].startswith(f"{db.mount}/creds/app/")
    assert role_exists(db.cluster, user)
    assert logs_in(db.cluster, user, password)
    assert not logs_in(db.cluster, user, password + "x")

    renewed = client.sys.renew_lease(creds["lease_id"], increment=7200)
    assert renewed["lease_duration"] <= 7200
    assert logs_in(db.cluster, user, password)

    client.sys.revoke_lease(creds["lease_id"])
    assert not role_exists(db.cluster, user)
    assert not logs_in(db.cluster, user, password)


def test_revoke_prefix_drops_every_user_of_a_role(client, db):
    client.secrets.database.create_role(name="app", db_name="pg", creation_statements=[], mount_point=db.mount)
    creds = [
        client.secrets.database.generate_credentials("app", mount_point=db.mount)["data"]
        for _ in range(3)
    ]
    assert len({c["username"] for c in creds}) == 3
    for c in creds:
        assert role_exists(db.cluster, c["username"])
        assert logs_in(db.cluster, c["username"], c["password"])
    client.sys.revoke_prefix(f"{db.mount}/creds/app")
    for c in creds:
        assert not role_exists(db.cluster, c["username"])
        assert not logs_in(db.cluster, c["username"], c["password"])


def test_static_role_and_rotation(client, db):
    user = "hvac_static_" + uuid.uuid4().hex[:8]
    db.cluster.psql(f"CREATE ROLE \"{user}\" LOGIN PASSWORD 'initial-Password-1'")
    try:
        assert logs_in(db.cluster, user, "initial-Password-1")
        client.secrets.database.create_static_role(
            name="static-app", db_name="pg", username=user, rotation_statements=[],
            rotation_period=3600, mount_point=db.mount,
        )
        role = client.secrets.database.read_static_role("static-app", mount_point=db.mount)["data"]
        assert role["username"] == user and role["rotation_period"] == 3600
        assert "password" not in role
        assert client.secrets.database.list_static_roles(mount_point=db.mount)["data"]["keys"] == ["static-app"]
        first = client.secrets.database.get_static_credentials("static-app", mount_point=db.mount)["data"]
        assert first["username"] == user and len(first["password"]) == 20
        assert 0 < first["ttl"] <= 3600
        # Creating the role rotated the password: only Coffer's works now.
        assert logs_in(db.cluster, user, first["password"])
        assert not logs_in(db.cluster, user, "initial-Password-1")

        client.secrets.database.rotate_static_role_credentials("static-app", mount_point=db.mount)
        second = client.secrets.database.get_static_credentials("static-app", mount_point=db.mount)["data"]
        assert second["password"] != first["password"]
        assert logs_in(db.cluster, user, second["password"])
        assert not logs_in(db.cluster, user, first["password"])
        client.secrets.database.delete_static_role("static-app", mount_point=db.mount)
    finally:
        db.cluster.psql(f"DROP ROLE IF EXISTS \"{user}\"")


def test_rotate_root_replaces_the_root_password(client, db):
    assert logs_in(db.cluster, db.admin, db.admin_password)
    client.secrets.database.rotate_root_credentials("pg", mount_point=db.mount)
    # The old root password no longer works; Coffer (alone) has the new one.
    assert not logs_in(db.cluster, db.admin, db.admin_password)
    client.secrets.database.create_role(name="app", db_name="pg", creation_statements=[], mount_point=db.mount)
    creds = client.secrets.database.generate_credentials("app", mount_point=db.mount)["data"]
    assert logs_in(db.cluster, creds["username"], creds["password"])
    conn = client.secrets.database.read_connection("pg", mount_point=db.mount)["data"]
    assert "password" not in conn["connection_details"]


def test_bad_input_is_a_400(client, db):
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.secrets.database.configure(
            name="bad", plugin_name="nope-database-plugin", mount_point=db.mount,
        )
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.secrets.database.configure(
            name="down", plugin_name="postgresql-database-plugin",
            connection_url="postgresql://{{username}}:{{password}}@127.0.0.1:1/postgres?sslmode=disable",
            username="u", password="p", mount_point=db.mount,
        )
    # A wrong root password is refused (the cluster checks it).
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.secrets.database.configure(
            name="wrong", plugin_name="postgresql-database-plugin",
            connection_url=f"postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{db.cluster.port}/postgres?sslmode=disable",
            username=db.admin, password=db.admin_password + "-wrong", mount_point=db.mount,
        )
    client.secrets.database.create_role(name="notallowed", db_name="pg", creation_statements=[], mount_point=db.mount)
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.secrets.database.generate_credentials("notallowed", mount_point=db.mount)
