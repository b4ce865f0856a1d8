"""node's openid-client (v6) as a relying party: runs node/rp.mjs, which asserts and exits
non-zero on the first mismatch."""

import json
import os
import subprocess
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parent / "node"

CASES = {
    "confidential myclient (platform template)": dict(
        realm="myrealm", clientId="myclient", clientSecret="my-client-secret",
        redirectUri="http://localhost:8000/node/callback", username="alice", password="password",
        email="alice@example.com", groups=["editors"],
        postLogoutRedirectUri="http://localhost:8000/bye"),
    "public spa with PKCE required": dict(
        realm="interop", clientId="spa", clientSecret=None,
        redirectUri="http://localhost:3000/callback", username="dave", password="dave-password",
        email="dave@example.com", groups=["engineering", "staff"], postLogoutRedirectUri=None),
}


@pytest.mark.parametrize("case", CASES)
def test_openid_client_rp(server, case):
    if not (NODE_DIR / "node_modules/openid-client").is_dir():
        pytest.fail("openid-client is not installed: scripts/interop runs npm ci in node/")
    cfg = dict(CASES[case])
    cfg["issuer"] = server.realm(cfg.pop("realm"))
    run = subprocess.run([os.environ.get("INTEROP_NODE", "node"), "rp.mjs", json.dumps(cfg)],
                         cwd=NODE_DIR, capture_output=True, text=True, timeout=60)
    print(run.stdout)
    assert run.returncode == 0, f"rp.mjs failed:\n{run.stdout}\n{run.stderr}"
    assert "openid-client: all checks passed" in run.stdout
