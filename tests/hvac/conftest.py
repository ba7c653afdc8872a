"""Fixtures that run the real `coffer` binary for the hvac compatibility suite."""
import os
import re
import subprocess
import tempfile
import time

import hvac
import pytest

COFFER_BIN = os.environ.get("COFFER_BIN", "target/debug/coffer")
ROOT_TOKEN = "hvac-suite-root"


class Server:
    """A coffer server process and the address it listens on."""

    def __init__(self, args, env_home):
        env = dict(os.environ, HOME=env_home, COFFER_LOG="warn")
        for var in ("VAULT_ADDR", "VAULT_TOKEN", "COFFER_ADDR", "COFFER_TOKEN"):
            env.pop(var, None)
        self.proc = subprocess.Popen(
            [COFFER_BIN, "server", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.output = []
        self.address = None
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            m = re.search(r'Listener 1: tcp \(addr: "([^"]+)"', line)
            if m:
                self.address = "http://" + m.group(1)
            if "Development mode should NOT" in line or "server started" in line:
                break
        if self.address is None:
            self.stop()
            raise RuntimeError("coffer did not start:\n" + "".join(self.output))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture(scope="session", autouse=True)
def home():
    """A throwaway HOME for the servers and for hvac itself: hvac falls back
    to VAULT_TOKEN and ~/.vault-token, which must not leak into the suite
    from whoever runs it."""
    saved = {k: os.environ.get(k) for k in ("HOME", "VAULT_TOKEN", "VAULT_ADDR")}
    with tempfile.TemporaryDirectory() as d:
        os.environ["HOME"] = d
        os.environ.pop("VAULT_TOKEN", None)
        os.environ.pop("VAULT_ADDR", None)
        try:
            yield d
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.fixture(scope="session")
def dev_server(home):
    server = Server(
        ["-dev", "-dev-listen-address=127.0.0.1:0", f"-dev-root-token-id={ROOT_TOKEN}"],
        home,
    )
    yield server
    server.stop()


@pytest.fixture()
def client(dev_server):
    return hvac.Client(url=dev_server.address, token=ROOT_TOKEN)


@pytest.fixture()
def prod_server(home, tmp_path):
    """A production-mode server (in-memory storage, plain HTTP), uninitialised."""
    config = tmp_path / "config.hcl"
    config.write_text(
        'storage "inmem" {}\n'
        'listener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n}\n'
    )
    server = Server([f"-config={config}"], home)
    yield server
    server.stop()
