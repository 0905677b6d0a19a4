#!/usr/bin/env python3
"""Runs the chart's rendered production configuration on loopback.

    rendered_run.py <rendered.yaml> <binaries dir> <state dir>

No Kubernetes runs here, so this is the closest honest proof that what the chart
deploys works: every Deployment of helm/moing/rendered/default.yaml (the set
scripts/checks/deploy.sh proves equal to what Helm renders from values.yaml) is
started as its binary with exactly the rendered environment, after only these
substitutions, each printed:

- in-cluster names become loopback: `moing-<svc>:<port>` -> 127.0.0.1:<port>,
  the database host and Redis host -> the local MariaDB and Redis; listen
  addresses 0.0.0.0 -> 127.0.0.1, and the shared admin port gets one port per
  process (they share one host here);
- `valueFrom.secretKeyRef` and Secret volumes are filled from freshly generated
  Secrets (random service token, a database user per service with a random
  password, an Ed25519 signing key, an FCM service account whose token_uri is
  the stand-in) and `$(VAR)` references are expanded as the kubelet does;
- what cannot run here is a stand-in speaking the real protocol: S3 is devs3
  (random keys), FCM v1 and Kakao's token-info/user endpoints are served by this
  script (their base URLs are the only settings added to the rendered env).

MOING_ENV stays `production`. Then, through the gateway (REST), the flow an app
makes, plus three checks that need the event topology: a proof by one member
reaches another member's inbox and phone; a withdrawal removes the member from
their team; a sign-out removes the device. With a subscriber dropped from the
chart one of them fails. Needs PyYAML and pymysql (scripts/test installs them).
"""

import base64
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pymysql
import rest_client
import yaml

SERVICES = ["auth", "moim", "mission", "board", "notification", "gateway"]
BINARIES = {s: s for s in SERVICES}
ADMIN_BASE = 19090  # admin ports: 19091.. one per process
DB_HOST, DB_PORT = "127.0.0.1", int(os.environ.get("MOING_DB_PORT", "3306"))
DB_ADMIN = (os.environ.get("MOING_DB_ADMIN_USER", "moing_admin"),
            os.environ.get("MOING_DB_ADMIN_PASSWORD", "moing_admin_dev"))
REDIS_PORT = int(os.environ.get("MOING_REDIS_PORT", "6379"))
S3_PORT = 9010


def log(msg: str) -> None:
    print(f"[rendered-run] {msg}", flush=True)


def fail(msg: str) -> None:
    print(f"[rendered-run] FAILED: {msg}", flush=True)
    raise SystemExit(1)


# ---------------------------------------------------------------- stand-ins


class StandIns:
    """FCM HTTP v1 (OAuth token + messages:send) and Kakao (token info, user, unlink)."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.grants = 0
        self.kakao_app_id = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def body(self) -> bytes:
                n = int(self.headers.get("content-length") or 0)
                return self.rfile.read(n) if n else b""

            def kakao_id(self):
                m = re.fullmatch(r"Bearer kakao-(\d+)", self.headers.get("authorization", ""))
                return int(m.group(1)) if m else None

            def do_GET(self):
                if self.path.startswith("/kakao/v1/user/access_token_info"):
                    kid = self.kakao_id()
                    if kid is None:
                        return self.reply(401, {"msg": "this access token does not exist", "code": -401})
                    return self.reply(200, {"id": kid, "app_id": outer.kakao_app_id, "expires_in": 3600})
                if self.path.startswith("/kakao/v2/user/me"):
                    kid = self.kakao_id()
                    if kid is None:
                        return self.reply(401, {"msg": "this access token does not exist", "code": -401})
                    return self.reply(200, {"id": kid, "kakao_account": {"email": f"k{kid}@example.com"}})
                self.reply(404, {})

            def do_POST(self):
                body = self.body()
                if self.path == "/fcm/token":
                    form = urllib.parse.parse_qs(body.decode())
                    assertion = (form.get("assertion") or [""])[0]
                    if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"] \
                            or assertion.count(".") != 2:
                        return self.reply(400, {"error": "invalid_grant"})
                    with outer.lock:
                        outer.grants += 1
                    return self.reply(200, {"access_token": "sa-" + secrets.token_hex(8),
                                            "expires_in": 3600, "token_type": "Bearer"})
                if self.path.startswith("/fcm/v1/projects/") and self.path.endswith("/messages:send"):
                    if not self.headers.get("authorization", "").startswith("Bearer sa-"):
                        return self.reply(401, {"error": {"status": "UNAUTHENTICATED"}})
                    msg = json.loads(body or b"{}").get("message", {})
                    with outer.lock:
                        outer.messages.append(msg)
                        n = len(outer.messages)
                    return self.reply(200, {"name": f"projects/moing/messages/{n}"})
                if self.path.startswith("/kakao/v1/user/unlink"):
                    kid = self.kakao_id()
                    return self.reply(200 if kid else 401, {"id": kid} if kid else {"code": -401})
                self.reply(404, {})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def to_token(self, token: str) -> list[dict]:
        with self.lock:
            return [m for m in self.messages if m.get("token") == token]


# ---------------------------------------------------------------- the rendered set


def deployments(rendered: Path) -> dict[str, dict]:
    out = {}
    for doc in yaml.safe_load_all(rendered.read_text()):
        if doc and doc.get("kind") == "Deployment":
            name = doc["metadata"]["name"].removeprefix("moing-")
            if name in SERVICES:
                out[name] = doc
    missing = set(SERVICES) - set(out)
    if missing:
        fail(f"the rendered set has no Deployment for {sorted(missing)}")
    return out


class Secrets:
    """Generated values for every Secret the rendered set refers to."""

    def __init__(self, workdir: Path, fcm_token_uri: str) -> None:
        self.values: dict[tuple[str, str], str] = {}
        self.workdir = workdir
        self.fcm_token_uri = fcm_token_uri
        self.db_users: dict[str, tuple[str, str]] = {}

    def get(self, secret: str, key: str) -> str:
        if (secret, key) not in self.values:
            self.values[(secret, key)] = self.generate(secret, key)
        return self.values[(secret, key)]

    def generate(self, secret: str, key: str) -> str:
        if secret.endswith("-database"):
            svc = secret.removeprefix("moing-").removesuffix("-database")
            user, password = self.db_users.setdefault(
                svc, (f"moing_{svc}_rr", "rr-" + secrets.token_urlsafe(18)))
            return user if key == "username" else password
        if key.endswith(".pem"):
            pem = self.workdir / f"{secret}-{key}"
            subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(pem)],
                           check=True, capture_output=True)
            return pem.read_text()
        if key.endswith(".json"):
            rsa = self.workdir / "fcm-rsa.pem"
            subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                            "-out", str(rsa)], check=True, capture_output=True)
            return json.dumps({
                "type": "service_account", "project_id": "moing-rendered-run",
                "private_key_id": "rr-1", "private_key": rsa.read_text(),
                "client_email": "push@moing-rendered-run.iam.gserviceaccount.com",
                "token_uri": self.fcm_token_uri,
            })
        if secret.endswith("-s3"):
            return ("rr-access-" if "access" in key else "rr-secret-") + secrets.token_hex(12)
        return "rr-" + secrets.token_urlsafe(32)


def expand(value: str, env: dict[str, str]) -> str:
    """The kubelet's $(VAR) expansion of earlier variables; $$ escapes."""
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                  lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)), value)


def localize(value: str, ports: dict[str, int], admin: str) -> str:
    value = value.replace("0.0.0.0:9090", admin)
    value = re.sub(r"0\.0\.0\.0:(\d+)", r"127.0.0.1:\1", value)
    for svc, port in ports.items():
        value = value.replace(f"moing-{svc}:{port}", f"127.0.0.1:{port}")
    value = re.sub(r"@mysql:3306/", f"@{DB_HOST}:{DB_PORT}/", value)
    value = value.replace("redis://redis:6379", f"redis://127.0.0.1:{REDIS_PORT}")
    return value


def environment(name: str, deploy: dict, secrets_: Secrets, ports: dict[str, int],
                files: Path, stand: StandIns) -> dict[str, str]:
    pod = deploy["spec"]["template"]["spec"]
    container = pod["containers"][0]
    admin = f"127.0.0.1:{ADMIN_BASE + 1 + SERVICES.index(name)}"
    # Secret volumes: mountPath -> a local directory holding the Secret's keys.
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    mounts = {}
    for m in container.get("volumeMounts") or []:
        vol = volumes.get(m["name"], {})
        if "secret" in vol:
            local = files / name / m["name"]
            local.mkdir(parents=True, exist_ok=True)
            for item in vol["secret"].get("items") or []:
                (local / item["path"]).write_text(secrets_.get(vol["secret"]["secretName"], item["key"]))
            mounts[m["mountPath"]] = str(local)
    env: dict[str, str] = {}
    for var in container.get("env") or []:
        if "value" in var:
            value = expand(str(var["value"]), env)
        else:
            ref = var["valueFrom"]["secretKeyRef"]
            value = secrets_.get(ref["name"], ref["key"])
        for mount, local in mounts.items():
            value = value.replace(mount, local)
        env[var["name"]] = localize(value, ports, admin)
    # The external endpoints: stand-ins (the only settings added).
    if name == "auth":
        env["MOING_KAKAO__TOKEN_INFO_URL"] = f"{stand.base}/kakao/v1/user/access_token_info"
        env["MOING_KAKAO__USER_URL"] = f"{stand.base}/kakao/v2/user/me"
        env["MOING_KAKAO__UNLINK_URL"] = f"{stand.base}/kakao/v1/user/unlink"
        stand.kakao_app_id = int(env.get("MOING_KAKAO__APP_ID", "0") or 0)
    if name == "notification":
        env["MOING_FCM__BASE_URL"] = f"{stand.base}/fcm"
    if "MOING_S3__ENDPOINT" in env:
        env["MOING_S3__ENDPOINT"] = f"http://127.0.0.1:{S3_PORT}"
    return env


# ---------------------------------------------------------------- the flow


class Api(rest_client.Api):
    def __init__(self, base: str) -> None:
        super().__init__(base, fail)

    def member(self, kakao_id: int, prefix: str, push_token: str) -> dict:
        """Signs a new Kakao member in and up. The nickname is the prefix and
        random digits, drawn again while it is taken: the database keeps the
        members of earlier runs, and nicknames are unique among active ones."""
        r = self.ok("POST", "/v1/auth/sign-in", body={
            "kakao": {"accessToken": f"kakao-{kakao_id}"},
            "device": {"name": "rendered-run", "platform": "DEVICE_PLATFORM_ANDROID"}})
        for _ in range(8):
            nickname = prefix + str(secrets.randbelow(10 ** (10 - len(prefix))))
            status, up = self.call("POST", "/v1/auth/sign-up", r["tokens"]["accessToken"],
                                   {"nickname": nickname})
            if status == 409 and "NICKNAME_TAKEN" in json.dumps(up):
                continue
            if status != 200:
                fail(f"POST /v1/auth/sign-up: {status} {up}")
            break
        else:
            fail("POST /v1/auth/sign-up: eight random nicknames were all taken")
        token = up["accessToken"]
        self.ok("PUT", "/v1/members/me/devices/current", token,
                {"pushToken": push_token, "platform": "DEVICE_PLATFORM_ANDROID"})
        return {"token": token, "refresh": up.get("refreshToken") or r["tokens"].get("refreshToken"),
                "id": up.get("member", {}).get("memberId") or r["member"]["memberId"],
                "push": push_token, "nickname": nickname}


def eventually(what: str, probe, seconds: float = 15.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        got = probe()
        if got:
            return got
        time.sleep(0.2)
    fail(f"{what}: not within {seconds:.0f}s")


def wait_port(port: int, seconds: float, proc: subprocess.Popen, name: str, logfile: Path) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            fail(f"{name} exited with {proc.returncode}:\n{logfile.read_text()[-3000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    fail(f"{name} did not listen on {port} within {seconds}s:\n{logfile.read_text()[-3000:]}")


def main() -> int:
    rendered, bindir, state = (Path(a).resolve() for a in sys.argv[1:4])
    deploys = deployments(rendered)
    ports = {}
    for name, d in deploys.items():
        ports[name] = d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
    for name, port in [*ports.items(), ("s3", S3_PORT)]:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                fail(f"port {port} ({name}) is taken: stop the running cluster (scripts/down) first")

    work = Path(tempfile.mkdtemp(prefix="rendered-run-", dir=state))
    logs = state / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    stand = StandIns()
    secrets_ = Secrets(work, f"{stand.base}/fcm/token")
    envs = {name: environment(name, deploys[name], secrets_, ports, work / "secrets", stand)
            for name in SERVICES}

    # The database users the Secrets name, each confined to its own schema.
    admin = pymysql.connect(host=DB_HOST, port=DB_PORT, user=DB_ADMIN[0], password=DB_ADMIN[1],
                            autocommit=True)
    with admin.cursor() as c:
        for svc, (user, password) in secrets_.db_users.items():
            schema = f"moing_{svc}"
            c.execute(f"CREATE DATABASE IF NOT EXISTS {schema} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            for host in ("127.0.0.1", "localhost"):
                c.execute(f"DROP USER IF EXISTS '{user}'@'{host}'")
                c.execute(f"CREATE USER '{user}'@'{host}' IDENTIFIED BY %s", (password,))
                c.execute(f"GRANT ALL PRIVILEGES ON {schema}.* TO '{user}'@'{host}'")

    log("substitutions: moing-<svc>:<port> -> 127.0.0.1:<port>; mysql:3306 -> "
        f"{DB_HOST}:{DB_PORT}; redis:6379 -> 127.0.0.1:{REDIS_PORT}; 0.0.0.0 -> 127.0.0.1; "
        f"admin 9090 -> {ADMIN_BASE + 1}..; S3 -> devs3 :{S3_PORT}; FCM/Kakao -> stand-ins {stand.base}")
    for name in SERVICES:
        shown = {k: ("<secret>" if any(s in k for s in ("TOKEN", "PASSWORD", "SECRET", "KEY", "URL"))
                     and k not in ("MOING_AUTH__JWKS_ENDPOINT",) else v) for k, v in envs[name].items()}
        log(f"{name}: " + " ".join(f"{k}={v}" for k, v in sorted(shown.items())))

    procs: list[tuple[str, subprocess.Popen]] = []

    def stop_all() -> None:
        for _, p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for _, p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()

    try:
        s3_env = {"PATH": os.environ.get("PATH", ""), "MOING_LISTEN": f"127.0.0.1:{S3_PORT}",
                  "MOING_ROOT": str(work / "s3"),
                  "MOING_ACCESS_KEY": secrets_.get("moing-mission-s3", "access-key"),
                  "MOING_SECRET_KEY": secrets_.get("moing-mission-s3", "secret-key")}
        logfile = logs / "rendered-devs3.log"
        p = subprocess.Popen([str(bindir / "devs3")], env=s3_env, stdout=logfile.open("w"),
                             stderr=subprocess.STDOUT)
        procs.append(("devs3", p))
        wait_port(S3_PORT, 20, p, "devs3", logfile)
        for name in SERVICES:
            env = {"PATH": os.environ.get("PATH", ""), "HOME": str(work), **envs[name]}
            logfile = logs / f"rendered-{name}.log"
            p = subprocess.Popen([str(bindir / BINARIES[name])], env=env, cwd=work,
                                 stdout=logfile.open("w"), stderr=subprocess.STDOUT)
            procs.append((name, p))
            wait_port(ports[name], 60, p, name, logfile)
        log("every Deployment runs with its rendered environment (MOING_ENV=production)")
        flow(Api(f"http://127.0.0.1:{ports['gateway']}"), stand, ports)
    finally:
        stop_all()
        shutil.rmtree(work / "secrets", ignore_errors=True)
    log("passed")
    return 0


def flow(api: Api, stand: StandIns, ports: dict[str, int]) -> None:
    run = secrets.randbelow(10**9)
    leader = api.member(run * 10 + 1, "rr리더", f"push-a-{run}")
    member = api.member(run * 10 + 2, "rr멤버", f"push-b-{run}")
    leaver = api.member(run * 10 + 3, "rr탈퇴", f"push-c-{run}")

    today = rest_client.team_today()
    def d(days: int) -> dict:
        x = today + timedelta(days=days)
        return {"year": x.year, "month": x.month, "day": x.day}
    team = api.ok("POST", "/v1/teams", leader["token"], {
        "name": "렌더팀", "category": "TEAM_CATEGORY_STUDY", "startDate": d(0), "endDate": d(30)})["team"]
    team_id = team["teamId"]
    code = api.ok("POST", f"/v1/teams/{team_id}/invites", leader["token"], {})["invite"]["code"]
    for m in (member, leaver):
        api.ok("POST", f"/v1/invites/{code}:accept", m["token"], {})
    mission = api.ok("POST", f"/v1/teams/{team_id}/missions", leader["token"], {
        "title": "매일 읽기", "kind": "MISSION_KIND_REPEAT", "way": "PROOF_WAY_TEXT",
        "timesPerWeek": 7})["mission"]["id"]
    log(f"team {team_id}: leader, member and leaver joined; mission {mission}")

    # 1. A proof by one member reaches another member's inbox and phone.
    api.ok("POST", f"/v1/teams/{team_id}/missions/{mission}/proofs", member["token"], {"text": "30쪽 읽음"})

    def proof_in_inbox():
        out = api.ok("GET", "/v1/members/me/notifications", leader["token"])
        return [n for n in out.get("notifications", []) if "PROOF" in json.dumps(n)]
    got = eventually("the leader's inbox shows the member's proof (mission -> notification)", proof_in_inbox)
    log(f"inbox: {len(got)} proof notification(s) for the leader")
    pushed = eventually("FCM receives the proof push for the leader's phone",
                        lambda: [m for m in stand.to_token(leader["push"])
                                 if "PROOF" in json.dumps(m.get("data", {}))])
    title = json.dumps(pushed[0].get("notification", {}), ensure_ascii=False)
    if "[렌더팀]" not in title:
        fail(f"the proof push does not name the team: {title}")
    log(f"push: {title}")

    # 2. A withdrawal removes the member from their teams (auth -> moim).
    status, out = api.call("POST", "/v1/members/me:withdraw", leaver["token"], {})
    if status != 200:
        fail(f"withdraw: {status} {out}")

    def leaver_gone():
        out = api.ok("GET", f"/v1/teams/{team_id}/members", leader["token"])
        ids = json.dumps(out)
        return leaver["id"] not in ids and member["id"] in ids
    eventually("the withdrawn member leaves the team (auth -> moim)", leaver_gone)
    log("withdrawal: the member left the team")

    # 3. A sign-out removes the device (auth -> notification): the next push to
    #    the team reaches the leader's phone but never the signed-out one.
    api.ok("POST", "/v1/auth/sign-out", member["token"], {})
    db = pymysql.connect(host=DB_HOST, port=DB_PORT, user=DB_ADMIN[0], password=DB_ADMIN[1],
                         database="moing_notification", autocommit=True)

    def device_gone():
        with db.cursor() as c:
            c.execute("SELECT COUNT(*) FROM device WHERE token = %s", (member["push"],))
            return c.fetchone()[0] == 0
    eventually("the signed-out device is removed (auth -> notification)", device_gone)
    # Immediate revocation as deployed: the signed-out token is refused by moim.
    eventually("the signed-out access token is refused (session check)",
               lambda: api.call("GET", "/v1/members/me/teams", member["token"])[0] == 401, 2)
    before = len(stand.to_token(member["push"]))
    api.ok("POST", f"/v1/teams/{team_id}/missions", leader["token"], {
        "title": "주말 산책", "kind": "MISSION_KIND_REPEAT", "way": "PROOF_WAY_TEXT", "timesPerWeek": 2})
    time.sleep(3)
    if len(stand.to_token(member["push"])) != before:
        fail("a push reached the signed-out device")
    log("sign-out: the token is refused, the device is gone and receives nothing")


if __name__ == "__main__":
    sys.exit(main())
