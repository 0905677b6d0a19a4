"""A WatchGoalBoard watcher over plain gRPC with grpcio (an independent client),
messages built from the descriptor set (no generated stubs). Prints one JSON
line per message: {"kind": "board", "etag", "rates": {member: rate}} or
{"kind": "heartbeat"}, then {"kind": "end", "code": "<gRPC code name>"}.

usage: live_board_grpcio.py <host:port> <descriptor.binpb> <team id> <access token>
"""
import json
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory


def main() -> None:
    target, binpb, team, token = sys.argv[1:5]
    fds = descriptor_pb2.FileDescriptorSet()
    with open(binpb, "rb") as f:
        fds.ParseFromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for fd in fds.file:
        pool.Add(fd)
    request_type = message_factory.GetMessageClass(
        pool.FindMessageTypeByName("moing.board.v1.WatchGoalBoardRequest"))
    response_type = message_factory.GetMessageClass(
        pool.FindMessageTypeByName("moing.board.v1.WatchGoalBoardResponse"))
    channel = grpc.insecure_channel(target)
    watch = channel.unary_stream(
        "/moing.board.v1.BoardService/WatchGoalBoard",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=response_type.FromString,
    )
    stream = watch(request_type(team_id=team), metadata=[("authorization", f"Bearer {token}")])
    try:
        for msg in stream:
            if msg.WhichOneof("update") == "goal_board":
                board = msg.goal_board
                rates = {r.member_id: (r.rate if r.HasField("rate") else None) for r in board.ranking}
                print(json.dumps({"kind": "board", "etag": board.etag, "rates": rates}), flush=True)
            else:
                print(json.dumps({"kind": "heartbeat"}), flush=True)
        print(json.dumps({"kind": "end", "code": "OK"}), flush=True)
    except grpc.RpcError as e:
        print(json.dumps({"kind": "end", "code": e.code().name}), flush=True)


if __name__ == "__main__":
    main()
