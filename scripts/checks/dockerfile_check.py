#!/usr/bin/env python3
"""deploy/Dockerfile, as far as it can be checked without a Docker engine.

    dockerfile_check.py <repository root>

The stages and their images, ARG SERVICE accepting exactly the workspace's service
binaries, a numeric non-root runtime user; and the skeleton stage's script, run with
/bin/sh on a copy of the repository, yields a workspace cargo can load: every member
of Cargo.toml with its manifest and a stub for each target root. What is not run:
the cargo builds and apt-get (no engine, and no second build on this machine).
"""

import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

SERVICES = {"auth", "moim", "mission", "board", "notification", "gateway", "envoy-control"}

errors: list[str] = []


def check(ok: bool, what: str) -> None:
    if not ok:
        errors.append(what)


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined as Docker joins them."""
    out = []
    for line in re.sub(r"\\\n", "", text).splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def main() -> int:
    root = Path(sys.argv[1]).resolve()
    text = (root / "deploy" / "Dockerfile").read_text()
    steps = instructions(text)
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", text, re.M))
    check(args.get("RUST_IMAGE") == "rust:1.95-bookworm", "builder image is not rust:1.95-bookworm")
    check(args.get("RUNTIME_IMAGE") == "debian:bookworm-slim", "runtime image is not debian:bookworm-slim")

    stages: dict[str, list[tuple[str, str]]] = {}
    current = None
    for word, rest in steps:
        if word == "FROM":
            current = rest.split(" AS ")[-1].strip()
            stages[current] = []
        elif current:
            stages[current].append((word, rest))
    check(list(stages) == ["skeleton", "builder", "runtime"], f"stages are {list(stages)}")
    runtime = stages.get("runtime", [])
    users = [rest for word, rest in runtime if word == "USER"]
    check(
        bool(users) and re.fullmatch(r"[1-9]\d*(:\d+)?", users[-1]) is not None,
        "the runtime user is not numeric and non-root",
    )
    for stage in ("builder", "runtime"):
        check(("ARG", "SERVICE") in stages.get(stage, []), f"{stage} does not declare ARG SERVICE")
    accepted = re.search(r"case \"\$\{SERVICE:-\}\" in\s+([\w|-]+)\)", re.sub(r"\\\n", "", text))
    check(
        accepted is not None and set(accepted.group(1).split("|")) == SERVICES,
        f"SERVICE accepts {accepted.group(1) if accepted else '?'}, not {sorted(SERVICES)}",
    )

    # The workspace's binaries include every accepted SERVICE.
    workspace = tomllib.loads((root / "Cargo.toml").read_text())["workspace"]["members"]
    bins = set()
    for member in workspace:
        manifest = tomllib.loads((root / member / "Cargo.toml").read_text())
        bins |= {b["name"] for b in manifest.get("bin", [])}
    check(SERVICES <= bins, f"SERVICE values without a binary: {sorted(SERVICES - bins)}")

    # Run the skeleton script on a copy of what the build context holds.
    script = next((rest for word, rest in stages.get("skeleton", []) if word == "RUN"), "")
    ignore = shutil.ignore_patterns("target", ".moing", "node_modules", ".git", "__pycache__")
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "src", Path(tmp) / "skeleton"
        shutil.copytree(root, src, ignore=ignore, symlinks=True)
        run = subprocess.run(
            ["/bin/sh", "-c", script.replace("/skeleton", str(out))], cwd=src, text=True, capture_output=True
        )
        check(run.returncode == 0, f"the skeleton script failed: {run.stderr.strip()}")
        check(
            (out / "Cargo.toml").exists() and (out / "Cargo.lock").exists(),
            "skeleton lacks Cargo.toml/Cargo.lock",
        )
        for member in workspace:
            check((out / member / "Cargo.toml").exists(), f"skeleton lacks {member}/Cargo.toml")
            for target in ("src/lib.rs", "src/main.rs"):
                if (src / member / target).exists() and member != "proto":
                    stub = out / member / target
                    check(
                        stub.exists() and len(stub.read_text()) < 20,
                        f"skeleton lacks a stub {member}/{target}",
                    )
            for bench in (src / member).glob("benches/*.rs"):
                check(
                    (out / member / "benches" / bench.name).exists(),
                    f"skeleton lacks {member}/benches/{bench.name}",
                )
        check((out / "proto" / "build.rs").exists(), "skeleton lacks the real proto crate")

    for e in errors:
        print(f"Dockerfile: {e}")
    verdict = "FAILED" if errors else "ok"
    print(f"deploy/Dockerfile: {len(stages)} stages, skeleton of {len(workspace)} members: {verdict}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
