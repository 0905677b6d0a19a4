#!/usr/bin/env python3
"""Envoy's bootstrap in the rendered set parses as envoy.config.bootstrap.v3.Bootstrap.

    envoy_bootstrap.py <rendered set>

No Envoy binary runs here, so this is the closest offline check: every field name,
enum and typed_config "@type" must exist in Envoy's v3 API (the xds-protos package,
generated from Envoy's protos), unknown fields are errors. What Envoy would still
check at start-up (validation rules, reachable clusters) is not covered.
"""

import sys

import yaml
from google.protobuf import json_format

from envoy.config.bootstrap.v3 import bootstrap_pb2

# typed_config types the bootstrap uses: importing registers them for "@type".
from envoy.extensions.filters.http.router.v3 import router_pb2  # noqa: F401
from envoy.extensions.filters.network.http_connection_manager.v3 import (  # noqa: F401
    http_connection_manager_pb2,
)
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2  # noqa: F401


def main() -> int:
    found = failed = 0
    with open(sys.argv[1]) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    for doc in docs:
        text = (doc.get("data") or {}).get("envoy.yaml") if doc["kind"] == "ConfigMap" else None
        if text is None:
            continue
        found += 1
        name = doc["metadata"]["name"]
        try:
            json_format.ParseDict(yaml.safe_load(text), bootstrap_pb2.Bootstrap())
            print(f"envoy bootstrap {name}: parses as envoy.config.bootstrap.v3.Bootstrap")
        except json_format.ParseError as e:
            failed += 1
            print(f"envoy bootstrap {name}: {e}")
    if not found:
        print("envoy bootstrap: no ConfigMap with envoy.yaml in the rendered set")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
