#!/usr/bin/env bash
# The live goal board against the cluster scripts/up runs, plus a second board
# replica (the same environment on other ports, so replicas meet only through
# Redis): watchers over gRPC-web (HTTP/1.1 and HTTP/2) and REST NDJSON through
# the gateway and over gRPC (grpcio) on the second replica see another member's
# proof within 1 s; a removed member's stream ends NOT_FOUND within 1 s.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
ensure_node_tools
ensure_python_tools grpcio==1.85.1 grpcio-reflection==1.85.1

PROFILE="${MOING_PROFILE:-debug}"
SECOND=50064
[ -f "$STATE/run/board.env" ] || die "no .moing/run/board.env: run scripts/up first"
mapfile -t envs < <(grep -v -e '^MOING_GRPC__LISTEN=' -e '^MOING_ADMIN__LISTEN=' "$STATE/run/board.env")
env "${envs[@]}" MOING_GRPC__LISTEN="127.0.0.1:$SECOND" MOING_ADMIN__LISTEN="127.0.0.1:19164" \
  "$ROOT/target/$PROFILE/board" </dev/null >"$STATE/logs/board-2.log" 2>&1 &
second=$!
trap 'kill $second 2>/dev/null || true' EXIT
wait_for "the second board replica (see .moing/logs/board-2.log)" 60 \
  "$BUF" curl --protocol grpc --http2-prior-knowledge "http://127.0.0.1:$SECOND/grpc.health.v1.Health/Check"
(cd "$ROOT/proto" && "$BUF" build -o "$STATE/moing.binpb")
NODE_PATH="$STATE/tools/node_modules" node "$ROOT/scripts/checks/live-board.cjs" \
  "http://127.0.0.1:${PORTS[gateway]}" "$STATE/moing.binpb" "127.0.0.1:$SECOND" "$STATE/venv/bin/python"
