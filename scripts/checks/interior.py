#!/usr/bin/env python3
"""The limits of docs/service-inside.md, checked on the tree.

- every service has the core files (main lib config startup error grpc domain store);
- no `sqlx::` under a `grpc*` path; no `tonic` or `pb::` in a `domain*` path;
- no file over 600 lines unless its first line says why (`//! Over 600 lines: ...`);
- no function over 80 lines (unit tests in `#[cfg(test)]` modules aside).

    scripts/checks/interior.py [ROOT]      exit 1 and a list when a limit is broken
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[2])
SERVICES = ["auth", "moim", "mission", "board", "notification"]
CORE = ["main.rs", "lib.rs", "config.rs", "startup.rs", "error.rs", "grpc.rs", "domain", "store"]
FILE_LIMIT = 600
FN_LIMIT = 80
FN = re.compile(r"^(\s*)(pub(\([a-z]+\))? )?(const )?(async )?(unsafe )?fn [A-Za-z_0-9]+")


def functions(lines):
    """(name line, length) of each fn outside #[cfg(test)] modules (rustfmt layout)."""
    out = []
    for i, line in enumerate(lines):
        if line.strip() == "#[cfg(test)]":
            break
        m = FN.match(line)
        if not m or line.rstrip().endswith(";"):
            continue
        indent = m.group(1)
        for j in range(i + 1, len(lines)):
            if lines[j].rstrip() == indent + "}":
                out.append((i + 1, line.strip(), j - i + 1))
                break
    return out


def main():
    problems = []
    crates = [ROOT / "services" / s / "src" for s in SERVICES]
    for src in crates:
        names = {p.name.removesuffix(".rs") if p.is_dir() or p.suffix == ".rs" else p.name for p in src.iterdir()}
        for core in CORE:
            if core.removesuffix(".rs") not in names:
                problems.append(f"{src.relative_to(ROOT)}: no {core}")
    for src in crates + [ROOT / "gateway" / "src", ROOT / "crates"]:
        for path in sorted(src.rglob("*.rs")):
            rel = path.relative_to(ROOT)
            if "/tests/" in str(rel) or "/benches/" in str(rel) or "/target/" in str(rel):
                continue
            text = path.read_text()
            lines = text.splitlines()
            parts = rel.parts
            in_service = parts[0] == "services"
            if in_service and any(p.startswith("grpc") for p in parts[3:]) and "sqlx::" in text:
                problems.append(f"{rel}: sqlx:: in a grpc path")
            if in_service and any(p.startswith("domain") for p in parts[3:]):
                code = text.split("#[cfg(test)]")[0]
                if re.search(r"\btonic\b|\bpb::", code):
                    problems.append(f"{rel}: tonic or pb:: in a domain path")
            if len(lines) > FILE_LIMIT and not lines[0].startswith("//! Over 600 lines:"):
                problems.append(f"{rel}: {len(lines)} lines and no reason on its first line")
            for at, head, n in functions(lines):
                if n > FN_LIMIT:
                    problems.append(f"{rel}:{at}: {n}-line function: {head[:70]}")
    for p in problems:
        print(p)
    print(f"interior: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
