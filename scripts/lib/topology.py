#!/usr/bin/env python3
"""The event topology, read from its one declaration: helm/moing/values.yaml,
`services.<producer>.subscribers: [consumer, ...]`.

    topology.py [values.yaml]      # prints "<producer> <consumer>" lines

scripts/up wires MOING_SUBSCRIBERS__<CONSUMER> from this; compose_check.py and
rendered_run.py compare compose and the rendered chart against it. Standard
library only (scripts/up runs before any venv exists): the values file keeps
each subscribers list on one line as a YAML flow sequence.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def topology(values: Path = ROOT / "helm/moing/values.yaml") -> dict[str, list[str]]:
    """producer -> consumers, in declaration order."""
    out: dict[str, list[str]] = {}
    in_services = False
    current = None
    for line in values.read_text().splitlines():
        if re.match(r"^services:\s*$", line):
            in_services = True
            continue
        if in_services and re.match(r"^\S", line) and not line.startswith("#"):
            break
        if not in_services:
            continue
        m = re.match(r"^  (\w[\w-]*):\s*$", line)
        if m:
            current = m.group(1)
            continue
        m = re.match(r"^    subscribers:\s*\[(.*)\]\s*(#.*)?$", line)
        if m and current:
            out[current] = [c.strip() for c in m.group(1).split(",") if c.strip()]
        elif re.match(r"^    subscribers:", line):
            sys.exit(f"{values}: services.{current}.subscribers must be a one-line [a, b] list")
    return out


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "helm/moing/values.yaml"
    for producer, consumers in topology(path).items():
        for consumer in consumers:
            print(producer, consumer)
