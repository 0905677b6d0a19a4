#!/usr/bin/env python3
"""deploy/compose.yaml agrees with itself, the MySQL init SQL and the chart's ports.

    compose_check.py <compose.yaml> <helm values.yaml>

No Docker engine runs here, so this checks what compose would only find out at
`up`: every service is built from deploy/Dockerfile with SERVICE set to its name,
listens on the port the chart gives it, is reached at that port by the others, and
has a healthcheck; the event subscribers are exactly the chart's topology
(values.yaml services.<name>.subscribers); depends_on names services that exist (and have a healthcheck
where it waits for health); mounted files exist; each service's database URL uses
the user, password and schema that mysql-init/ creates, and every grant stays on
its own user's schema. Needs PyYAML.
"""

import re
import sys
from pathlib import Path
from urllib.parse import urlparse

import yaml

SERVICES = ["auth", "moim", "mission", "board", "notification", "gateway"]

errors: list[str] = []


def check(ok: bool, what: str) -> None:
    if not ok:
        errors.append(what)


def init_sql(directory: Path) -> tuple[set, dict, list]:
    """Schemas, users (name -> password) and grants (user, schema) of the init SQL."""
    sql = "\n".join(p.read_text() for p in sorted(directory.glob("*.sql")))
    schemas = set(re.findall(r"CREATE DATABASE IF NOT EXISTS (\w+)", sql))
    users = dict(re.findall(r"CREATE USER IF NOT EXISTS '(\w+)'@'%' IDENTIFIED BY '([^']*)'", sql))
    grants = [(u, s) for s, u in re.findall(r"GRANT [A-Z ,]+ ON (\S+)\.\* TO '(\w+)'@'%'", sql)]
    check(not re.search(r"GRANT [A-Z ,]+ ON \*\.\*", sql), "mysql-init grants on *.*")
    return schemas, users, grants


def main() -> int:
    compose_path, values_path = Path(sys.argv[1]), Path(sys.argv[2])
    base = compose_path.parent
    compose = yaml.safe_load(compose_path.read_text())
    ports = {name: svc["port"] for name, svc in yaml.safe_load(values_path.read_text())["services"].items()}
    services = compose["services"]
    volumes = set(compose.get("volumes") or {})

    check(sorted(ports) == sorted(SERVICES), f"the chart's services {sorted(ports)} are not {SERVICES}")
    schemas, users, grants = init_sql(base / "mysql-init")
    for user, schema in grants:
        check(user == schema, f"mysql-init: {user} is granted {schema}, not its own schema")

    for name, svc in services.items():
        for dep, cond in (svc.get("depends_on") or {}).items():
            check(dep in services, f"{name} depends on unknown service {dep}")
            if cond.get("condition") == "service_healthy":
                check(
                    "healthcheck" in services.get(dep, {}),
                    f"{name} waits for {dep}'s health, which has no healthcheck",
                )
        for mount in svc.get("volumes") or []:
            source = mount.split(":")[0]
            if source.startswith("."):
                check((base / source).exists(), f"{name} mounts missing {source}")
            else:
                check(source in volumes, f"{name} mounts undeclared volume {source}")

    for name in SERVICES:
        svc = services.get(name)
        check(svc is not None, f"compose has no {name}")
        if not svc:
            continue
        build = svc.get("build") or {}
        check(build.get("dockerfile") == "deploy/Dockerfile", f"{name}: not built from deploy/Dockerfile")
        check((base / build.get("context", ".") / "deploy" / "Dockerfile").exists(), f"{name}: build context")
        check((build.get("args") or {}).get("SERVICE") == name, f"{name}: build arg SERVICE is not {name}")
        test = " ".join((svc.get("healthcheck") or {}).get("test") or [])
        check(f"/{ports[name]}" in test, f"{name}: no healthcheck on port {ports[name]}")
        env = svc.get("environment") or {}
        listen = env.get("MOING_LISTEN" if name == "gateway" else "MOING_GRPC__LISTEN")
        check(
            listen == f"0.0.0.0:{ports[name]}", f"{name}: listens on {listen}, the chart says {ports[name]}"
        )
        for other in SERVICES:
            if other != "gateway":
                want = f"http://{other}:{ports[other]}"
                check(
                    env.get(f"MOING_SERVICES__{other.upper()}") == want,
                    f"{name}: endpoint of {other} is not {want}",
                )
        if name == "gateway":
            continue
        url = urlparse(env.get("MOING_DATABASE__URL", ""))
        schema = url.path.lstrip("/")
        check(schema in schemas, f"{name}: schema {schema!r} is not created by mysql-init")
        check(
            url.username in users and users[url.username] == url.password,
            f"{name}: user/password not in mysql-init",
        )
        check((url.username, schema) in grants, f"{name}: {url.username} has no grant on {schema}")
        check(url.hostname in services, f"{name}: database host {url.hostname} is not a compose service")
        check("mysql" in (svc.get("depends_on") or {}), f"{name}: does not wait for mysql")

    # The event topology is declared once, in the chart's values: compose wires
    # exactly those subscribers, at the consumers' compose addresses.
    values = yaml.safe_load(values_path.read_text())["services"]
    for name in SERVICES:
        if name == "gateway":
            continue
        env = (services.get(name) or {}).get("environment") or {}
        wired = {k.removeprefix("MOING_SUBSCRIBERS__").lower(): v for k, v in env.items()
                 if k.startswith("MOING_SUBSCRIBERS__")}
        want = {c: f"http://{c}:{ports[c]}" for c in values[name].get("subscribers") or []}
        check(wired == want, f"{name}: subscribers {wired} are not the topology's {want} (helm/moing/values.yaml)")

    for e in errors:
        print(f"compose: {e}")
    print(f"{compose_path.name}: {len(services)} services, {'FAILED' if errors else 'consistent'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
