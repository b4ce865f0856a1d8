"""The official `@keycloak/keycloak-admin-client` (node) against Portcullis: runs
node/admin.mjs, which walks the provisioning journey (user, password, group, realm and client
role, search, update, delete; a client with protocol mappers and its secret), checks every
answer and the tokens issued afterwards, and exits non-zero on the first mismatch."""

import json
import os
import subprocess
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parent / "node"


def test_keycloak_admin_client_journey(server):
    if not (NODE_DIR / "node_modules/@keycloak/keycloak-admin-client").is_dir():
        pytest.fail("keycloak-admin-client is not installed: scripts/interop runs npm ci in node/")
    cfg = {"base": server.base, "realm": "interop", "tokenClient": "backend",
           "tokenSecret": "backend-secret"}
    run = subprocess.run([os.environ.get("INTEROP_NODE", "node"), "admin.mjs", json.dumps(cfg)],
                         cwd=NODE_DIR, capture_output=True, text=True, timeout=120)
    print(run.stdout)
    assert run.returncode == 0, f"admin.mjs failed:\n{run.stdout}\n{run.stderr}"
    assert "keycloak-admin-client: all checks passed" in run.stdout
