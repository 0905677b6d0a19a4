"""Independent proxyless xDS client (Python grpcio) against envoy-control.

Calls grpc.health.v1.Health/Check on `xds:///<cluster>` and reads the
`x-served-by` header each replica adds: calls must spread over both replicas;
after replica A is stopped (SIGTERM, and dropped from the endpoints file),
every later call must succeed on replica B.

usage: GRPC_XDS_BOOTSTRAP=bootstrap.json xds_client.py <cluster> <pid-a> <addr-a> <addr-b> <endpoints.json>
"""
import json
import os
import signal
import sys
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def served_by(stub) -> str:
    _, call = stub.Check.with_call(health_pb2.HealthCheckRequest(), timeout=10, wait_for_ready=True)
    return dict(call.initial_metadata()).get("x-served-by", "?")


def main() -> int:
    cluster, pid_a, addr_a, addr_b, endpoints = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    with grpc.insecure_channel(f"xds:///{cluster}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        seen = [served_by(stub) for _ in range(40)]
        counts = {a: seen.count(a) for a in set(seen)}
        print(f"before: {counts}")
        if set(seen) != {addr_a, addr_b}:
            print(f"calls did not spread over both replicas: {counts}")
            return 1
        os.kill(pid_a, signal.SIGTERM)
        # Wait until replica A has drained and exited (graceful shutdown may still
        # answer calls in flight; those succeed too).
        gone_by = time.monotonic() + 30
        while time.monotonic() < gone_by:
            try:
                os.kill(pid_a, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        with open(endpoints, "w") as f:
            json.dump({"clusters": {cluster: [addr_b]}}, f)
        after = []
        deadline = time.monotonic() + 30
        for _ in range(40):
            after.append(served_by(stub))
            if time.monotonic() > deadline:
                break
        counts = {a: after.count(a) for a in set(after)}
        print(f"after stopping {addr_a}: {counts}")
        if set(after) != {addr_b}:
            print("a call after the stop was not served by the remaining replica")
            return 1
    print("proxyless xDS via envoy-control ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
