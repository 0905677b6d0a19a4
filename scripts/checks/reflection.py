"""Lists every service of a MOING server through gRPC reflection v1alpha, the
version Python's grpcio-reflection speaks, and checks health through it.

usage: reflection.py host:port [expected-service ...]
"""
import sys

import grpc
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)


def main() -> int:
    target, expected = sys.argv[1], sys.argv[2:]
    with grpc.insecure_channel(target) as channel:
        db = ProtoReflectionDescriptorDatabase(channel)
        services = set(db.get_services())
        pool = DescriptorPool(db)
        for name in services:
            # Resolving each service proves its file and dependencies are served.
            pool.FindServiceByName(name)
        missing = [s for s in expected + ["grpc.health.v1.Health"] if s not in services]
        if missing:
            print(f"{target}: missing {missing}; got {sorted(services)}")
            return 1
        status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        if status.status != health_pb2.HealthCheckResponse.SERVING:
            print(f"{target}: not serving")
            return 1
        print(f"{target}: {len(services)} services via reflection v1alpha, SERVING")
    return 0


if __name__ == "__main__":
    sys.exit(main())
