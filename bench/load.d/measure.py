"""The measuring half of bench/load (see its header): run by it with its settings in the
environment, writes bench/out/load.json and prints the table."""

import base64
import datetime
import json
import os
import pathlib
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = pathlib.Path(os.environ["ROOT"])
OUT = pathlib.Path(os.environ["OUT"])
BIN = os.environ["BIN"]
DRIVER = os.environ["DRIVER"]
PEER_DIR = pathlib.Path(os.environ["PEER_DIR"])
SECONDS = int(os.environ["SECONDS_RUN"])
WARMUP = int(os.environ["WARMUP"])
CONNECTIONS = int(os.environ["CONNECTIONS"])
USERS = int(os.environ["USERS"])
SKIP_PEER = os.environ["SKIP_PEER"] == "1"
ONLY = [s for s in os.environ["ONLY"].split(",") if s]
EVENTS = os.environ.get("EVENTS", "0") == "1"
METRICS_ONLY = os.environ.get("EVENTS", "0") == "metrics"
COUNT_ONLY = os.environ.get("EVENTS", "0") == "count"
RESULTS_FILE = ROOT / ("bench/out/load-events.json" if EVENTS
                       else "bench/out/load-metrics.json" if METRICS_ONLY
                       else "bench/out/load-count.json" if COUNT_ONLY else "bench/out/load.json")
LUA = ROOT / "bench/load.d/wrk.lua"
REALM_FILE = ROOT / "bench/load.d/bench-realm.json"
CLEAN_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
SERVER_CORE, LOAD_CORE = "0", "1"

REALM = json.loads(REALM_FILE.read_text())
CLIENTS = {c["clientId"]: c for c in REALM["clients"]}
CC_ID, CC_SECRET = "bench-cc", CLIENTS["bench-cc"]["secret"]
WEB_ID, WEB_SECRET = "bench-web", CLIENTS["bench-web"]["secret"]
REDIRECT_URI = CLIENTS["bench-web"]["redirectUris"][0]
USER = REALM["users"][0]
USERNAME, PASSWORD = USER["username"], USER["credentials"][0]["value"]

results = {
    "settings": {"seconds": SECONDS, "warmup_s": WARMUP, "wrk_connections": CONNECTIONS,
                 "flow_virtual_users": USERS, "server_core": SERVER_CORE, "load_core": LOAD_CORE},
    "loadavg_before": open("/proc/loadavg").read().split()[:3],
    "limits": {}, "portcullis": {"scenarios": {}}, "peer": {"scenarios": {}},
}


def note(msg):
    print(f"   {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def basic(user, secret):
    return "Basic " + base64.b64encode(f"{urllib.parse.quote(user)}:{urllib.parse.quote(secret)}".encode()).decode()


def http(url, form=None, auth=None, timeout=30):
    """One request: (status, body text). Never follows redirects."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    req = urllib.request.Request(url, data=data)
    if auth:
        req.add_header("Authorization", auth)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except OSError as e:
        return None, str(e)


def status_kb(pid, key):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def mem(pid):
    rss, hwm = status_kb(pid, "VmRSS"), status_kb(pid, "VmHWM")
    return {"rss_mb": rss / 1024 if rss else None, "hwm_mb": hwm / 1024 if hwm else None}


TICK = os.sysconf("SC_CLK_TCK")


def cpu_sample(pid):
    """(server CPU seconds, core-0 busy seconds, core-0 total seconds, wall time)."""
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        proc = (int(f[11]) + int(f[12])) / TICK
    except (OSError, IndexError, ValueError):
        proc = None
    core = next(l.split() for l in open("/proc/stat") if l.startswith(f"cpu{SERVER_CORE} "))
    vals = [int(x) for x in core[1:]]
    idle = vals[3] + vals[4]  # idle + iowait
    return proc, (sum(vals) - idle) / TICK, sum(vals) / TICK, time.perf_counter()


def cpu_share(before, after):
    """Share of one core used by the server, and how busy the core was in all, over a window."""
    if before[0] is None or after[0] is None:
        return {}
    wall = after[3] - before[3]
    return {"server_cpu_pct": 100 * (after[0] - before[0]) / wall,
            "core_busy_pct": 100 * (after[1] - before[1]) / max(after[2] - before[2], 1e-9)}


def spawn(cmd, cwd, log_path, env, name):
    log = open(log_path, "wb")
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    with open(OUT / "pids", "a") as f:
        f.write(f"{p.pid} {name}\n")
    return p


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def wait_ready(p, url, log_path, limit=60):
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        if p.poll() is not None:
            raise SystemExit(f"{url}: process exited ({p.returncode}):\n{log_path.read_text(errors='replace')[-3000:]}")
        status, _ = http(url, timeout=2)
        if status == 200:
            return (time.perf_counter() - t0) * 1000
        time.sleep(0.02)
    raise SystemExit(f"{url}: not ready after {limit} s")


def jwt_algs(token_json):
    """The `alg` of each JWT in a token response: what one request costs in signatures."""
    algs = {}
    for k in ("access_token", "id_token", "refresh_token"):
        v = token_json.get(k)
        if isinstance(v, str) and v.count(".") == 2:
            head = v.split(".")[0]
            try:
                algs[k] = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["alg"]
            except (ValueError, KeyError):
                algs[k] = "?"
    return algs


def wrk(url, label, method="GET", body=None, auth=None, pid=None):
    env = dict(CLEAN_ENV, LOAD_METHOD=method, LOAD_BODY=body or "", LOAD_AUTH=auth or "")
    base = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{CONNECTIONS}", "--timeout", "10s", "-s", str(LUA)]
    if WARMUP:
        subprocess.run(base + [f"-d{WARMUP}s", url], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=WARMUP + 60, check=True)
    out = OUT / f"{label}.wrk.json"
    out.unlink(missing_ok=True)
    env["LOAD_OUT"] = str(out)
    c0 = cpu_sample(pid) if pid else None
    text = subprocess.run(base + [f"-d{SECONDS}s", url], env=env, capture_output=True, text=True,
                          timeout=SECONDS + 60, check=True).stdout
    cpu = cpu_share(c0, cpu_sample(pid)) if pid else {}
    (OUT / f"{label}.wrk.txt").write_text(text)
    w = json.loads(out.read_text())
    sock = sum(w["socket_errors"].values())
    r = {
        "requests": w["requests"],
        "per_s": w["requests"] / (w["duration_us"] / 1e6),
        "p50_ms": w["latency_us"]["p50"] / 1000,
        "p99_ms": w["latency_us"]["p99"] / 1000,
        "max_ms": w["latency_us"]["max"] / 1000,
        "errors": w["non2xx"] + sock,
        "non2xx": w["non2xx"],
        "socket_errors": w["socket_errors"],
        "error_sample": w["error_sample"] or None,
        "concurrency": CONNECTIONS,
        "driver": "wrk",
        **cpu,
    }
    if pid:
        r.update(mem(pid))
    return r


def code_flow(base, pid):
    cmd = ["taskset", "-c", LOAD_CORE, DRIVER, "flow", "--base", base, "--realm", "bench",
           "--client", WEB_ID, "--secret", WEB_SECRET, "--username", USERNAME, "--password", PASSWORD,
           "--redirect-uri", REDIRECT_URI, "--concurrency", str(USERS), "--warmup", str(WARMUP),
           "--seconds", str(SECONDS)]
    c0 = cpu_sample(pid)  # over warm-up and run: the driver does both in one process
    p = subprocess.run(cmd, env=CLEAN_ENV, capture_output=True, text=True, timeout=WARMUP + SECONDS + 120)
    cpu = cpu_share(c0, cpu_sample(pid))
    if p.returncode != 0:
        raise SystemExit(f"login_load failed ({p.returncode}): {p.stderr[-2000:]}")
    d = json.loads(p.stdout)
    (OUT / "code_flow.driver.json").write_text(json.dumps(d, indent=2) + "\n")
    lat = d["latency_ms"]["iteration"] or {}
    r = {
        "requests": d["iterations"],
        "per_s": d["iterations_per_s"],
        "http_requests_per_s": d["requests_per_s"],
        "p50_ms": lat.get("p50"),
        "p99_ms": lat.get("p99"),
        "max_ms": lat.get("max"),
        "errors": d["errors"],
        "error_sample": (d["error_samples"] or [None])[0],
        "steps_ms": {k: v for k, v in d["latency_ms"].items() if k != "iteration"},
        "concurrency": USERS,
        "driver": "login_load",
        **cpu,
    }
    r.update(mem(pid))
    return r


def log_findings(log_path):
    """Log lines written after start-up (under load and at shutdown), by level."""
    lines = log_path.read_text(errors="replace").splitlines()
    start = next((i + 1 for i, l in enumerate(lines) if "started in" in l), 0)
    after = lines[start:]
    bad = [l for l in after if re.search(r"\b(ERROR|WARN)\b|panick", l)]
    return {"lines": len(lines), "after_start": len(after),
            "error": sum(1 for l in after if re.search(r"\bERROR\b", l)),
            "warn": sum(1 for l in after if re.search(r"\bWARN\b", l)),
            "panic": sum(1 for l in after if "panick" in l), "samples": bad[:10]}


# --- Physical limits, on the server's core --------------------------------------------------
def limits():
    note("limit: openssl speed -seconds 3 rsa2048 on core 0")
    text = subprocess.run(["taskset", "-c", SERVER_CORE, "openssl", "speed", "-seconds", "3", "rsa2048"],
                          env=CLEAN_ENV, capture_output=True, text=True, timeout=120, check=True).stdout
    m = re.search(r"^rsa\s+2048 bits\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", text, re.M)
    if not m:
        raise SystemExit(f"cannot read openssl speed output:\n{text}")
    results["limits"]["rs256_openssl_signs_per_s"] = float(m.group(1))
    results["limits"]["openssl"] = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    note(f"RS256 (openssl rsa2048 sign): {float(m.group(1)):.0f}/s")
    note("limit: argon2id verify, Keycloak's parameters, server's code, on core 0")
    p = subprocess.run(["taskset", "-c", SERVER_CORE, DRIVER, "argon2", "--password", PASSWORD, "--seconds", "5"],
                       env=CLEAN_ENV, capture_output=True, text=True, timeout=120, check=True)
    a = json.loads(p.stdout)
    results["limits"]["argon2"] = a
    note(f"argon2id verify: {a['per_s']:.1f}/s ({a['ms_each']:.2f} ms each)")


# --- Portcullis -----------------------------------------------------------------------------
def portcullis():
    work = OUT / "portcullis"
    shutil.rmtree(work, ignore_errors=True)
    (work / "import").mkdir(parents=True)
    realm = json.loads(REALM_FILE.read_text())
    extra = []
    if EVENTS:
        # Every user event stored (both forms of every type) and counted.
        types = ["LOGIN", "CODE_TO_TOKEN", "CLIENT_LOGIN", "REFRESH_TOKEN", "LOGOUT"]
        realm["eventsEnabled"] = True
        realm["enabledEventTypes"] = types + [t + "_ERROR" for t in types]
        extra = ["--metrics-enabled=true", "--event-metrics-user-enabled=true",
                 "--event-metrics-user-tags=realm,clientId"]
    if METRICS_ONLY:
        extra = ["--metrics-enabled=true"]
    if COUNT_ONLY:
        extra = ["--metrics-enabled=true", "--event-metrics-user-enabled=true",
                 "--event-metrics-user-tags=realm,clientId"]
    (work / "import" / "bench-realm.json").write_text(json.dumps(realm))
    hp, mp = free_port(), free_port()
    cmd = ["taskset", "-c", SERVER_CORE, BIN, "start-dev", "--import-realm", f"--import-dir={work / 'import'}",
           "--http-relative-path=/auth", f"--http-port={hp}", f"--http-management-port={mp}",
           "--http-host=127.0.0.1", "--http-management-host=127.0.0.1", "--health-enabled=true"] + extra
    log_path = work / "server.log"
    p = spawn(cmd, work, log_path, CLEAN_ENV, "portcullis")
    res = results["portcullis"]
    try:
        res["ready_ms"] = wait_ready(p, f"http://127.0.0.1:{mp}/auth/health/ready", log_path)
        res["after_start"] = mem(p.pid)
        note(f"portcullis ready in {res['ready_ms']:.0f} ms (import hashes loaduser's password), "
             f"RSS {res['after_start']['rss_mb']:.1f} MB")
        base = f"http://127.0.0.1:{hp}/auth"
        oidc = f"{base}/realms/bench/protocol/openid-connect"
        token_url = f"{oidc}/token"
        sc = res["scenarios"]

        def probe(name, url, form=None, auth=None, expect=200):
            status, body = http(url, form, auth)
            if status != expect:
                sc[name] = {"skipped": f"probe: HTTP {status}: {body[:300]}"}
                note(f"{name}: not available ({status}: {body[:120]!r})")
                return None
            return body

        def run(name, fn):
            note(f"{name} ...")
            r = fn()
            sc[name] = {**sc.get(name, {}), **r}
            note(f"{name}: {r['per_s']:.1f}/s, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, "
                 f"errors {r['errors']}, RSS {r.get('rss_mb') or 0:.1f} MB (peak {r.get('hwm_mb') or 0:.1f})"
                 + (f" — {r['error_sample']}" if r.get("error_sample") else ""))
            if p.poll() is not None:
                raise SystemExit(f"the server exited during {name} ({p.returncode})")

        if "health" in ONLY:
            # The HTTP floor on this core: a handler that touches neither the database nor a key.
            url = f"http://127.0.0.1:{mp}/auth/health/live"
            if probe("health", url) is not None:
                run("health", lambda: wrk(url, "health", pid=p.pid))
        if "discovery" in ONLY:
            url = f"{base}/realms/bench/.well-known/openid-configuration"
            if probe("discovery", url) is not None:
                run("discovery", lambda: wrk(url, "discovery", pid=p.pid))
        if "jwks" in ONLY:
            url = f"{oidc}/certs"
            if probe("jwks", url) is not None:
                run("jwks", lambda: wrk(url, "jwks", pid=p.pid))
        if "cc" in ONLY:
            form = {"grant_type": "client_credentials"}
            body = probe("cc", token_url, form, basic(CC_ID, CC_SECRET))
            if body is not None:
                sc["cc"] = {"signatures": jwt_algs(json.loads(body))}
                run("cc", lambda: wrk(token_url, "cc", "POST", urllib.parse.urlencode(form),
                                      basic(CC_ID, CC_SECRET), pid=p.pid))
        if "cc_es256" in ONLY:
            form = {"grant_type": "client_credentials"}
            auth = basic("bench-cc-es256", "bench-cc-es256-secret")
            body = probe("cc_es256", token_url, form, auth)
            if body is not None:
                sc["cc_es256"] = {"signatures": jwt_algs(json.loads(body))}
                run("cc_es256", lambda: wrk(token_url, "cc_es256", "POST", urllib.parse.urlencode(form),
                                            auth, pid=p.pid))
        refresh_token = None
        if "password" in ONLY or "refresh" in ONLY:
            form = {"grant_type": "password", "username": USERNAME, "password": PASSWORD}
            body = probe("password", token_url, form, basic(WEB_ID, WEB_SECRET))
            if body is not None:
                tok = json.loads(body)
                refresh_token = tok.get("refresh_token")
                if "password" in ONLY:
                    sc["password"] = {"signatures": jwt_algs(tok)}
                    run("password", lambda: wrk(token_url, "password", "POST", urllib.parse.urlencode(form),
                                                basic(WEB_ID, WEB_SECRET), pid=p.pid))
                else:
                    sc.pop("password", None)
        if "refresh" in ONLY:
            if refresh_token is None:
                sc.setdefault("refresh", {"skipped": "no refresh token: the password grant did not give one"})
                note("refresh: skipped (no refresh token from the password grant)")
            else:
                form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
                body = probe("refresh", token_url, form, basic(WEB_ID, WEB_SECRET))
                if body is not None:
                    sc["refresh"] = {"signatures": jwt_algs(json.loads(body))}
                    run("refresh", lambda: wrk(token_url, "refresh", "POST", urllib.parse.urlencode(form),
                                               basic(WEB_ID, WEB_SECRET), pid=p.pid))
                    # The same refresh token still works after the whole run (no rotation policing).
                    sc["refresh"]["reused_token_still_valid"] = http(token_url, form, basic(WEB_ID, WEB_SECRET))[0] == 200
        if "code_flow" in ONLY:
            q = urllib.parse.urlencode({"response_type": "code", "client_id": WEB_ID, "redirect_uri": REDIRECT_URI,
                                        "scope": "openid", "state": "probe"})
            if probe("code_flow", f"{oidc}/auth?{q}") is not None:
                run("code_flow", lambda: code_flow(base, p.pid))
        time.sleep(1.0)
        res["end"] = mem(p.pid)
        res["threads_at_end"] = status_kb(p.pid, "Threads")
        db = work / "data"
        res["db_mb_at_end"] = sum(f.stat().st_size for f in db.iterdir()) / 1e6 if db.is_dir() else None
    finally:
        stop(p)
    res["exit_code"] = p.returncode
    res["log"] = log_findings(log_path)


# --- The peer: oidc-provider ----------------------------------------------------------------
def peer():
    work = OUT / "peer"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    port = free_port()
    env = dict(CLEAN_ENV, PORT=str(port), NODE_ENV="production")
    log_path = work / "peer.log"
    p = spawn(["taskset", "-c", SERVER_CORE, "node", str(PEER_DIR / "server.mjs")], PEER_DIR, log_path, env, "server.mjs")
    res = results["peer"]
    res["version"] = json.loads((PEER_DIR / "node_modules/oidc-provider/package.json").read_text())["version"]
    res["node"] = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    try:
        base = f"http://127.0.0.1:{port}"
        res["ready_ms"] = wait_ready(p, f"{base}/.well-known/openid-configuration", log_path)
        res["after_start"] = mem(p.pid)
        sc = res["scenarios"]
        for name, url in (("discovery", f"{base}/.well-known/openid-configuration"), ("jwks", f"{base}/jwks")):
            if name in ONLY:
                note(f"peer {name} ...")
                sc[name] = wrk(url, f"peer-{name}", pid=p.pid)
                note(f"peer {name}: {sc[name]['per_s']:.1f}/s, p99 {sc[name]['p99_ms']:.2f} ms, errors {sc[name]['errors']}")
        if "cc" in ONLY:
            form = {"grant_type": "client_credentials"}
            status, body = http(f"{base}/token", form, basic(CC_ID, CC_SECRET))
            if status != 200:
                raise SystemExit(f"peer client_credentials probe: {status} {body[:300]}")
            sigs = jwt_algs(json.loads(body))
            if sigs.get("access_token") != "RS256":
                raise SystemExit(f"peer access token is not an RS256 JWT: {body[:300]}")
            note("peer cc ...")
            sc["cc"] = {"signatures": sigs, **wrk(f"{base}/token", "peer-cc", "POST", urllib.parse.urlencode(form),
                                                   basic(CC_ID, CC_SECRET), pid=p.pid)}
            note(f"peer cc: {sc['cc']['per_s']:.1f}/s, p99 {sc['cc']['p99_ms']:.2f} ms, errors {sc['cc']['errors']}")
        res["end"] = mem(p.pid)
    finally:
        stop(p)


if float(results["loadavg_before"][0]) > 0.5:
    note(f"warning: load average {results['loadavg_before'][0]} before the run: another process competes "
         "for the cores (see each scenario's 'core busy' against 'server CPU')")
limits()
portcullis()
if not SKIP_PEER:
    peer()
else:
    results.pop("peer")


# --- Report ---------------------------------------------------------------------------------
def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT).stdout.strip()
    except OSError:
        return "?"


dirty = sh("git", "status", "--porcelain", "--untracked-files=no")
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
results["machine"] = {
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "commit": sh("git", "rev-parse", "--short=12", "HEAD") + (" + uncommitted changes" if dirty else ""),
    "cores": os.cpu_count(), "cpu": cpu, "kernel": platform.release(), "rustc": sh("rustc", "--version"),
    "wrk": (sh("wrk", "--version") or "").splitlines()[0] if sh("wrk", "--version") else "?",
    "loadavg_after": open("/proc/loadavg").read().split()[:3],
}

ours = results["portcullis"]["scenarios"]
theirs = results.get("peer", {}).get("scenarios", {})
lim = results["limits"]
rsa = lim["rs256_openssl_signs_per_s"]
argon = lim["argon2"]["per_s"]


def val(d, name, key="per_s"):
    s = d.get(name) or {}
    return s.get(key)


def ratio(a, b):
    return a / b if a is not None and b else None


peak = results["portcullis"].get("end", {}).get("hwm_mb")
ratios = [
    # label, value, target (≥ unless noted)
    ("client_credentials ÷ RS256 sign rate (openssl)", ratio(val(ours, "cc"), rsa), 0.8),
    ("refresh_token ÷ RS256 sign rate (openssl)", ratio(val(ours, "refresh"), rsa), 0.8),
    ("code flow (logins/s) ÷ argon2id verify rate", ratio(val(ours, "code_flow"), argon), 0.9),
    ("password grant ÷ argon2id verify rate", ratio(val(ours, "password"), argon), None),
    ("client_credentials, ours ÷ oidc-provider", ratio(val(ours, "cc"), val(theirs, "cc")), 1.8),
    ("client_credentials with ES256 ÷ 10,000/s per core", ratio(val(ours, "cc_es256"), 10000), 1.0),
    ("discovery, ours ÷ oidc-provider", ratio(val(ours, "discovery"), val(theirs, "discovery")), 5.0),
    ("JWKS, ours ÷ oidc-provider", ratio(val(ours, "jwks"), val(theirs, "jwks")), 5.0),
    ("code flow ÷ Keycloak sizing (15 password logins/s per vCPU)", ratio(val(ours, "code_flow"), 15), None),
    ("password grant ÷ Keycloak sizing (15 logins/s per vCPU)", ratio(val(ours, "password"), 15), None),
    ("client_credentials ÷ Keycloak sizing (120/s per vCPU)", ratio(val(ours, "cc"), 120), None),
    ("refresh_token ÷ Keycloak sizing (120/s per vCPU)", ratio(val(ours, "refresh"), 120), None),
]
results["ratios"] = {label: {"value": v, "target": t, "met": (v >= t) if v is not None and t else None}
                     for label, v, t in ratios}
results["peak_rss"] = {"mb": peak, "target_mb": 64, "met": peak is not None and peak <= 64}
results["settings"]["events"] = EVENTS
results["settings"]["metrics_only"] = METRICS_ONLY
results["settings"]["count_only"] = COUNT_ONLY
RESULTS_FILE.write_text(json.dumps(results, indent=2) + "\n")


def f(x, fmt="{:,.1f}"):
    return "—" if x is None else fmt.format(x)


m = results["machine"]
print()
print(f"OIDC load — {m['date']}, commit {m['commit']}, {m['cores']} cores ({m['cpu']}); server on core {SERVER_CORE}, "
      f"load on core {LOAD_CORE}; {WARMUP} s warm-up + {SECONDS} s per scenario")
print(f"load average before: {' '.join(results['loadavg_before'])}, after: {' '.join(m['loadavg_after'])}; "
      f"{m['wrk']}; {lim['openssl']}; peer: node {results.get('peer', {}).get('node', '—')} "
      f"oidc-provider {results.get('peer', {}).get('version', '—')}")
print()
print("| scenario | conc. | Portcullis req/s | p50 ms | p99 ms | errors | server CPU % (core busy %) | RSS after (MB) "
      "| oidc-provider req/s | p50 ms | p99 ms | errors | peer CPU % (core busy %) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
LABELS = [("cc", "client_credentials (bench-cc)"), ("cc_es256", "client_credentials, ES256 tokens (bench-cc-es256)"), ("refresh", "refresh_token (one token reused)"),
          ("password", "password grant (argon2id)"), ("code_flow", "code flow with login form (logins/s)"),
          ("discovery", "discovery"), ("jwks", "JWKS"),
          ("health", "HTTP floor: management /health/live (no database, no key)")]
for key, label in LABELS:
    o, t = ours.get(key), theirs.get(key)
    if o is None:
        continue
    if "skipped" in o:
        print(f"| {label} | — | not run: {o['skipped'][:80]} | | | | | | | | | | |")
        continue
    row = [label, str(o["concurrency"]), f(o["per_s"]), f(o["p50_ms"], "{:.2f}"), f(o["p99_ms"], "{:.2f}"),
           str(o["errors"]), f"{f(o.get('server_cpu_pct'), '{:.0f}')} ({f(o.get('core_busy_pct'), '{:.0f}')})",
           f(o.get("rss_mb"))]
    row += ([f(t["per_s"]), f(t["p50_ms"], "{:.2f}"), f(t["p99_ms"], "{:.2f}"), str(t["errors"]),
             f"{f(t.get('server_cpu_pct'), '{:.0f}')} ({f(t.get('core_busy_pct'), '{:.0f}')})"] if t else ["—"] * 5)
    print("| " + " | ".join(row) + " |")
print()
print(f"limits on core {SERVER_CORE}: RS256 sign (openssl speed rsa2048) {rsa:,.0f}/s; argon2id verify "
      f"(7168 KiB, 5 iterations, p=1, 32 bytes; the server's code) {argon:,.1f}/s")
print(f"peak RSS of the server over the whole run (VmHWM): {f(peak)} MB (target ≤ 64); "
      f"at start {f(results['portcullis'].get('after_start', {}).get('rss_mb'))} MB, "
      f"at end {f(results['portcullis'].get('end', {}).get('rss_mb'))} MB; "
      f"peer peak {f(results.get('peer', {}).get('end', {}).get('hwm_mb'))} MB")
print()
print("| ratio | measured | target |")
print("|---|---:|---:|")
for label, v, t in ratios:
    print(f"| {label} | {f(v, '{:.2f}')} | {'≥ ' + f(t, '{:g}') if t else '—'} |")
lg = results["portcullis"]["log"]
print()
print(f"server log after start-up: {lg['after_start']} lines, ERROR {lg['error']}, WARN {lg['warn']}, panics {lg['panic']}"
      + (f"; first: {lg['samples'][0][:200]}" if lg["samples"] else ""))
print(f"details: {RESULTS_FILE}")
