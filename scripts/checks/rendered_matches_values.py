#!/usr/bin/env python3
"""The rendered example set of helm/moing says what values.yaml says.

    rendered_matches_values.py <chart dir> <rendered set>

For every entry of `services`: a ServiceAccount, a Service and a headless Service
on the entry's port, a Deployment with its replicas (or, with autoscaling, an HPA
with its bounds), its image, probes on its port and the hardened security context,
its database Secret and mounted secret files, and a PodDisruptionBudget; Envoy and
envoy-control exactly when enabled; and nothing else in the set. Release "moing"
in namespace "moing", as rendered/default.yaml is written. Needs PyYAML.
"""

import sys
from pathlib import Path

import yaml

RELEASE = NAMESPACE = "moing"

errors: list[str] = []


def check(ok: bool, what: str) -> None:
    if not ok:
        errors.append(what)


def env_of(container: dict) -> dict:
    return {e["name"]: e for e in container.get("env", [])}


def check_hardened(deploy: dict) -> None:
    """Pod Security Standard "restricted" plus a read-only root filesystem."""
    name = deploy["metadata"]["name"]
    pod = deploy["spec"]["template"]["spec"]
    psc = pod.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True, f"{name}: pod runAsNonRoot is not true")
    check(
        psc.get("seccompProfile", {}).get("type") == "RuntimeDefault",
        f"{name}: pod seccompProfile is not RuntimeDefault",
    )
    check(pod.get("automountServiceAccountToken") is False, f"{name}: service account token mounted")
    check(pod.get("enableServiceLinks") is False, f"{name}: service links enabled")
    for c in pod["containers"]:
        sc = c.get("securityContext", {})
        where = f"{name}/{c['name']}"
        check(sc.get("allowPrivilegeEscalation") is False, f"{where}: allowPrivilegeEscalation")
        check(sc.get("readOnlyRootFilesystem") is True, f"{where}: root filesystem writable")
        check(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{where}: capabilities not dropped")
        check(sc.get("privileged") is not True, f"{where}: privileged")
        check(c.get("resources", {}).get("requests"), f"{where}: no resource requests")


def check_selects(selector_owner: dict, selector: dict, deploy: dict) -> None:
    labels = deploy["spec"]["template"]["metadata"]["labels"]
    name = f"{selector_owner['kind']}/{selector_owner['metadata']['name']}"
    check(
        bool(selector) and all(labels.get(k) == v for k, v in selector.items()),
        f"{name} does not select the pods of {deploy['metadata']['name']}",
    )


def main() -> int:
    chart, rendered = Path(sys.argv[1]), Path(sys.argv[2])
    values = yaml.safe_load((chart / "values.yaml").read_text())
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    docs = [d for d in yaml.safe_load_all(rendered.read_text()) if d]
    by_key = {}
    for d in docs:
        key = (d["kind"], d["metadata"]["name"])
        check(key not in by_key, f"{key[0]}/{key[1]} appears twice")
        check(d["metadata"].get("namespace") == NAMESPACE, f"{key[0]}/{key[1]}: namespace")
        by_key[key] = d
    seen = set()

    def get(kind: str, name: str) -> dict:
        seen.add((kind, name))
        doc = by_key.get((kind, name))
        check(doc is not None, f"missing {kind}/{name}")
        return doc or {}

    fullname = RELEASE if meta["name"] in RELEASE else f"{RELEASE}-{meta['name']}"
    tag = values["image"]["tag"] or meta["appVersion"]
    services = values["services"]

    for name, svc in services.items():
        res = f"{fullname}-{name}"
        port, edge = svc["port"], bool(svc.get("edge"))
        sa = get("ServiceAccount", res)
        check(sa.get("automountServiceAccountToken") is False, f"{res}: SA token automounted")

        deploy = get("Deployment", res)
        if not deploy:
            continue
        pod = deploy["spec"]["template"]["spec"]
        container = pod["containers"][0]
        check(pod.get("serviceAccountName") == res, f"{res}: serviceAccountName")
        check(container["image"] == f"{values['image']['repository']}/{name}:{tag}", f"{res}: image")
        ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
        port_name = "http" if edge else "grpc"
        check(ports.get(port_name) == port, f"{res}: container port {port_name} is not {port}")

        for svc_name, headless in ((res, False), (f"{res}-headless", True)):
            service = get("Service", svc_name)
            spec = service.get("spec", {})
            sports = spec.get("ports", [])
            check(
                len(sports) == 1 and sports[0]["port"] == port and sports[0]["targetPort"] == port_name,
                f"Service/{svc_name}: port is not {port} -> {port_name}",
            )
            check((spec.get("clusterIP") == "None") == headless, f"Service/{svc_name}: clusterIP")
            check_selects(service, spec.get("selector", {}), deploy)

        autoscaling = svc.get("autoscaling") or {}
        if autoscaling.get("enabled"):
            check("replicas" not in deploy["spec"], f"{res}: replicas set although an HPA scales it")
            hpa = get("HorizontalPodAutoscaler", res)
            spec = hpa.get("spec", {})
            check(spec.get("scaleTargetRef", {}).get("name") == res, f"HPA/{res}: target")
            check(spec.get("minReplicas") == autoscaling["minReplicas"], f"HPA/{res}: minReplicas")
            check(spec.get("maxReplicas") == autoscaling["maxReplicas"], f"HPA/{res}: maxReplicas")
            target = spec.get("metrics", [{}])[0].get("resource", {}).get("target", {})
            check(
                target.get("averageUtilization") == autoscaling["targetCPUUtilizationPercentage"],
                f"HPA/{res}: CPU target",
            )
        else:
            check(
                deploy["spec"].get("replicas") == svc["replicas"], f"{res}: replicas is not {svc['replicas']}"
            )
            check(("HorizontalPodAutoscaler", res) not in by_key, f"{res}: HPA although autoscaling is off")

        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            p = container.get(probe, {})
            ok = p.get("httpGet", {}).get("port") == "http" if edge else p.get("grpc", {}).get("port") == port
            check(ok, f"{res}: {probe} does not check {'/healthz' if edge else 'grpc.health.v1'} on {port}")

        env = env_of(container)
        listen = env.get("MOING_LISTEN" if edge else "MOING_GRPC__LISTEN", {})
        check(listen.get("value") == f"0.0.0.0:{port}", f"{res}: listen address")
        token = env.get("MOING_AUTH__SERVICE_TOKEN", {}).get("valueFrom", {}).get("secretKeyRef", {})
        check(token.get("name") == values["serviceToken"]["secret"], f"{res}: service token Secret")
        for other, osvc in services.items():
            if not osvc.get("edge"):
                want = f"http://{fullname}-{other}:{osvc['port']}"
                check(
                    env.get(f"MOING_SERVICES__{other.upper()}", {}).get("value") == want,
                    f"{res}: endpoint of {other}",
                )
        # The event topology: exactly the declared subscribers, at their Services.
        wired = {k.removeprefix("MOING_SUBSCRIBERS__").lower(): v.get("value")
                 for k, v in env.items() if k.startswith("MOING_SUBSCRIBERS__")}
        want = {c: f"http://{fullname}-{c}:{services[c]['port']}" for c in svc.get("subscribers") or []}
        check(wired == want, f"{res}: subscribers {wired} are not values' {want}")
        db = svc.get("database")
        if db:
            for var, key in (("DATABASE_USER", "username"), ("DATABASE_PASSWORD", "password")):
                ref = env.get(var, {}).get("valueFrom", {}).get("secretKeyRef", {})
                check(ref == {"name": db["secret"], "key": key}, f"{res}: {var} is not {db['secret']}/{key}")
            url = env.get("MOING_DATABASE__URL", {}).get("value", "")
            check(
                url.endswith(f"/{db['name']}{values['database']['parameters']}"),
                f"{res}: database URL schema",
            )
            check("$(DATABASE_PASSWORD)" in url, f"{res}: database URL without the Secret's password")
        else:
            check("MOING_DATABASE__URL" not in env, f"{res}: a database although values give none")
        check(("MOING_REDIS__URL" in env) == bool(svc.get("redis")), f"{res}: Redis setting")
        mounts = {m["name"]: m for m in container.get("volumeMounts", [])}
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for f in svc.get("secretFiles") or []:
            check(
                mounts.get(f["secret"], {}).get("mountPath") == f["mountPath"],
                f"{res}: {f['secret']} not mounted",
            )
            check(
                mounts.get(f["secret"], {}).get("readOnly") is True, f"{res}: {f['secret']} mounted writable"
            )
            check(
                volumes.get(f["secret"], {}).get("secret", {}).get("secretName") == f["secret"],
                f"{res}: volume {f['secret']}",
            )
            check(env.get(f["env"], {}).get("value") == f"{f['mountPath']}/{f['key']}", f"{res}: {f['env']}")
        for key, value in {**values["env"], **(svc.get("env") or {})}.items():
            check(env.get(key, {}).get("value") == str(value), f"{res}: {key} is not {value!r}")
        for key, ref in (svc.get("secretEnv") or {}).items():
            got = env.get(key, {}).get("valueFrom", {}).get("secretKeyRef", {})
            check(got == {"name": ref["secret"], "key": ref["key"]}, f"{res}: {key} Secret")
        check_hardened(deploy)

        pdb = get("PodDisruptionBudget", res)
        check(
            pdb.get("spec", {}).get("maxUnavailable") == values["podDisruptionBudget"]["maxUnavailable"],
            f"PDB/{res}: maxUnavailable",
        )
        check_selects(pdb, pdb.get("spec", {}).get("selector", {}).get("matchLabels", {}), deploy)

    envoy, control = values["envoy"], values["envoyControl"]
    control_name = f"{fullname}-envoy-control"
    if envoy["enabled"]:
        res = f"{fullname}-envoy"
        get("ServiceAccount", res)
        deploy = get("Deployment", res)
        get("PodDisruptionBudget", res)
        service = get("Service", res)
        bootstrap = yaml.safe_load(
            get("ConfigMap", f"{res}-bootstrap").get("data", {}).get("envoy.yaml", "{}")
        )
        if deploy:
            check(deploy["spec"]["replicas"] == envoy["replicas"], f"{res}: replicas")
            container = deploy["spec"]["template"]["spec"]["containers"][0]
            check(container["image"] == envoy["image"], f"{res}: image")
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            check(ports.get("http") == envoy["listenerPort"], f"{res}: listener port")
            # envoy-control gives the edge configuration to node ids starting with "envoy".
            args = container.get("args", [])
            node = args[args.index("--service-node") + 1] if "--service-node" in args[:-1] else ""
            check(node.startswith("envoy"), f"{res}: node id {node!r} does not start with 'envoy'")
            check(
                service.get("spec", {}).get("ports", [{}])[0].get("port") == envoy["service"]["port"],
                f"{res}: Service port",
            )
            check_selects(service, service.get("spec", {}).get("selector", {}), deploy)
            check_hardened(deploy)
        clusters = (bootstrap or {}).get("static_resources", {}).get("clusters", [])
        xds = next((c for c in clusters if c["name"] == "envoy-control"), None)
        try:
            socket = xds["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"][
                "socket_address"
            ]
        except (TypeError, KeyError, IndexError):
            socket = {}
        check(
            str(socket.get("address", "")).startswith(f"{control_name}.{NAMESPACE}.")
            and socket.get("port_value") == control["port"],
            f"{res}: bootstrap does not point at {control_name}:{control['port']}",
        )
    if control["enabled"]:
        get("ServiceAccount", control_name)
        service = get("Service", control_name)
        deploy = get("Deployment", control_name)
        if deploy:
            check(deploy["spec"]["replicas"] == control["replicas"], f"{control_name}: replicas")
            container = deploy["spec"]["template"]["spec"]["containers"][0]
            check(
                container["image"] == f"{values['image']['repository']}/envoy-control:{tag}",
                f"{control_name}: image",
            )
            check(
                service.get("spec", {}).get("ports", [{}])[0].get("port") == control["port"],
                f"{control_name}: port",
            )
            check_selects(service, service.get("spec", {}).get("selector", {}), deploy)
            env = env_of(container)
            check(
                env.get("MOING_LISTEN", {}).get("value") == f"0.0.0.0:{control['port']}",
                f"{control_name}: listen",
            )
            check(
                env.get("MOING_EDGE_PORT", {}).get("value") == str(envoy["listenerPort"]),
                f"{control_name}: edge port",
            )
            token = env.get("MOING_SERVICE_TOKEN", {}).get("valueFrom", {}).get("secretKeyRef", {})
            check(
                token.get("name") == values["serviceToken"]["secret"], f"{control_name}: service token Secret"
            )
            for name, svc in services.items():
                want = f"{fullname}-{name}-headless.{NAMESPACE}.svc.{values['clusterDomain']}:{svc['port']}"
                check(
                    env.get(f"MOING_DNS__{name.upper()}", {}).get("value") == want,
                    f"{control_name}: discovery of {name}",
                )
            check_hardened(deploy)

    for kind, name in sorted(set(by_key) - seen):
        errors.append(f"{kind}/{name} is in the rendered set but not in values.yaml")
    for e in errors:
        print(f"rendered set vs values: {e}")
    verdict = "FAILED" if errors else "ok"
    print(f"{rendered.name} vs values.yaml ({len(docs)} documents, {len(services)} services): {verdict}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
