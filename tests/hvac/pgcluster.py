"""A throwaway PostgreSQL cluster that checks passwords, for the hvac suite.

The machine's PostgreSQL trusts every local connection, so it cannot show
that a password works, or that it stopped working after a rotation. This
starts a private server the way crates/support/test-services/src/pg_cluster.rs does:
its own data directory, its own port on 127.0.0.1, `scram-sha-256` for every
connection (TCP and Unix socket), a random superuser password, and, when the
tests run as root, the server running as the `postgres` OS user.

`skip_or_fail` is the suite's one skip rule: under COFFER_REQUIRE_SERVICES=1
nothing may skip, so a missing prerequisite fails the test instead.
"""
import glob
import os
import pwd
import secrets
import shutil
import socket
import string
import subprocess
import tempfile

import pytest


def skip_or_fail(why):
    """Skips the calling test, or fails it under COFFER_REQUIRE_SERVICES=1."""
    if os.environ.get("COFFER_REQUIRE_SERVICES") == "1":
        pytest.fail(f"cannot run here, and COFFER_REQUIRE_SERVICES=1 forbids skipping: {why}")
    pytest.skip(why)


def _bin_dir():
    """The newest /usr/lib/postgresql/<major>/bin with initdb and pg_ctl."""
    found = []
    for d in glob.glob("/usr/lib/postgresql/*/bin"):
        major = os.path.basename(os.path.dirname(d))
        if major.isdigit() and os.access(os.path.join(d, "initdb"), os.X_OK):
            found.append((int(major), d))
    if not found:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    return max(found)[1]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _random(n):
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(n))


class PgCluster:
    """A private PostgreSQL server with scram-sha-256 everywhere; `stop()`
    stops it and removes its directory."""

    def __init__(self):
        self.bin = _bin_dir()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root needs a `postgres` OS user") from None
            if shutil.which("runuser") is None:
                raise RuntimeError("running as root needs runuser")
            self.ids = (pw.pw_uid, pw.pw_gid)
        if shutil.which("psql") is None:
            raise RuntimeError("no psql on PATH")
        self.password = _random(32)
        self.dir = tempfile.mkdtemp(prefix="coffer-hvac-pg-")
        self.running = False
        self.port = None
        try:
            self._init()
            self._start()
        except BaseException:
            self.stop()
            raise

    def _own(self, path, mode):
        os.chmod(path, mode)
        if self.as_postgres:
            os.chown(path, *self.ids)

    def _run(self, *args):
        cmd = [os.path.join(self.bin, args[0]), *args[1:]]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        out = subprocess.run(cmd, cwd=self.dir, capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {out.stderr.strip()}\n{self.log()}")
        return out

    def _init(self):
        self._own(self.dir, 0o700)
        sock = os.path.join(self.dir, "sock")
        os.mkdir(sock)
        self._own(sock, 0o700)
        pwfile = os.path.join(self.dir, "pwfile")
        with open(pwfile, "w") as f:
            f.write(self.password + "\n")
        self._own(pwfile, 0o600)
        data = os.path.join(self.dir, "data")
        self._run("initdb", "-D", data, "-U", "postgres", "--auth=scram-sha-256",
                  f"--pwfile={pwfile}", "-E", "UTF8", "--no-sync")
        os.remove(pwfile)
        with open(os.path.join(data, "pg_hba.conf"), "w") as f:
            f.write("local all all scram-sha-256\n"
                    "host all all 127.0.0.1/32 scram-sha-256\n"
                    "host all all ::1/128 scram-sha-256\n")
        with open(os.path.join(data, "postgresql.conf"), "a") as f:
            f.write("\n# coffer hvac suite\n"
                    "listen_addresses = '127.0.0.1'\n"
                    f"unix_socket_directories = '{sock}'\n"
                    "password_encryption = 'scram-sha-256'\n"
                    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                    "shared_buffers = 16MB\nmax_connections = 50\n")

    def _start(self):
        data = os.path.join(self.dir, "data")
        log = os.path.join(self.dir, "server.log")
        last = ""
        for _ in range(5):
            port = _free_port()
            try:
                self._run("pg_ctl", "start", "-D", data, "-l", log, "-w", "-t", "60", "-s",
                          "-o", f"-p {port}")
            except RuntimeError as e:
                if "Address already in use" not in self.log():
                    raise
                last = str(e)
                continue
            self.port = port
            self.running = True
            return
        raise RuntimeError(f"no free port after 5 attempts: {last}")

    def log(self):
        try:
            with open(os.path.join(self.dir, "server.log")) as f:
                return f.read()
        except OSError:
            return ""

    def login(self, user, password, sql="SELECT 1"):
        """Runs `sql` as `user` with `password` over TCP; (ok, output)."""
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", user, "-d", "postgres",
             "-w", "-tAc", sql],
            env=dict(os.environ, PGPASSWORD=password, PGPASSFILE="/nonexistent",
                     PGCONNECT_TIMEOUT="10", PGSSLMODE="disable"),
            capture_output=True, text=True, timeout=60,
        )
        return out.returncode == 0, (out.stdout if out.returncode == 0 else out.stderr).strip()

    def psql(self, sql):
        """Runs `sql` as the superuser; its output (fails the test on error)."""
        ok, out = self.login("postgres", self.password, sql)
        assert ok, out
        return out

    def stop(self):
        if self.running:
            try:
                self._run("pg_ctl", "stop", "-D", os.path.join(self.dir, "data"),
                          "-m", "immediate", "-w", "-t", "30", "-s")
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
            self.running = False
        shutil.rmtree(self.dir, ignore_errors=True)


def start_or_skip():
    """A started cluster; skips (or fails under COFFER_REQUIRE_SERVICES=1)
    when this machine cannot run one. A cluster that fails to start fails."""
    try:
        _bin_dir()
    except RuntimeError as e:
        skip_or_fail(f"cannot start a PostgreSQL cluster ({e})")
    try:
        return PgCluster()
    except RuntimeError as e:
        if "needs" in str(e) or "no psql" in str(e):
            skip_or_fail(f"cannot start a PostgreSQL cluster ({e})")
        raise
