"""Fixtures: real Portcullis servers on loopback, and a browser-like login helper."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
REALM_FILES = [REPO / "examples/import/myrealm-realm.json", HERE / "realm/interop-realm.json"]
# Placeholders of the realm templates: unset, so their documented defaults apply.
TEMPLATE_VARS = {"KEYCLOAK_CLIENT_SECRET", "DEV_USER_PASSWORD", "DEV_ADMIN_PASSWORD", "DOMAIN",
                 "SMTP_HOST", "SMTP_PORT"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    base: str  # http://127.0.0.1:P/auth
    port: int
    log: Path

    def realm(self, name: str) -> str:
        return f"{self.base}/realms/{name}"


def _start(name: str, port: int, extra: list[str]):
    binary = os.environ.get("PORTCULLIS_BIN") or str(REPO / "target/release/portcullis")
    logdir = Path(os.environ.get("INTEROP_LOG_DIR") or tempfile.mkdtemp(prefix="interop-logs-"))
    logdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"interop-{name}-"))
    imports = work / "import"
    imports.mkdir()
    for f in REALM_FILES:
        shutil.copy(f, imports / f.name)
    mport = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("KC_") and k not in TEMPLATE_VARS}
    log = logdir / f"server-{name}.log"
    cmd = [binary, "start-dev", "--import-realm", "--http-relative-path=/auth",
           f"--http-port={port}", f"--http-management-port={mport}",
           "--http-host=127.0.0.1", "--http-management-host=127.0.0.1",
           f"--import-dir={imports}", "--health-enabled=true", *extra]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    (logdir / f"server-{name}.pid").write_text(str(proc.pid))  # scripts/interop's safety net
    ready = f"http://127.0.0.1:{mport}/auth/health/ready"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            pytest.fail(f"portcullis ({name}) exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if requests.get(ready, timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            _stop(proc)
            pytest.fail(f"portcullis ({name}) not ready after 60 s:\n{log.read_text()}")
        time.sleep(0.1)
    return proc, Server(f"http://127.0.0.1:{port}/auth", port, log), work


def _stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def server():
    """start-dev as in the README: issuer and every URL taken from the request."""
    proc, srv, work = _start("dev", free_port(), [])
    yield srv
    _stop(proc)
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="session")
def platform_server():
    """The platform's layout: a fixed public issuer (here http://localhost:P/auth) and
    back-channel URLs derived from the request (services reach it as 127.0.0.1:P)."""
    port = free_port()
    proc, srv, work = _start("platform", port, [f"--hostname=http://localhost:{port}/auth",
                                                "--hostname-backchannel-dynamic=true"])
    yield srv
    _stop(proc)
    shutil.rmtree(work, ignore_errors=True)
