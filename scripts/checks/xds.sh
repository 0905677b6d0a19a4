#!/usr/bin/env bash
# Proves envoy-control with an independent xDS client: envoy-control plus two
# replicas of one service, Python grpcio with GRPC_XDS_BOOTSTRAP on xds:///moim.
# Expects the binaries built by scripts/up (target/debug) and the infrastructure up.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
ensure_node_tools
ensure_python_tools grpcio==1.85.1 grpcio-health-checking==1.85.1
XDS="$STATE/xds"; mkdir -p "$XDS"
PORT_A=50062; PORT_B=50063; XDS_PORT=18000
SERVICE_TOKEN="$(cat "$STATE/service-token")"
printf '{"clusters":{"moim":["127.0.0.1:%s","127.0.0.1:%s"]}}' "$PORT_A" "$PORT_B" >"$XDS/endpoints.json"
cat >"$XDS/bootstrap.json" <<JSON
{"xds_servers":[{"server_uri":"127.0.0.1:${XDS_PORT}","channel_creds":[{"type":"insecure"}],"server_features":["xds_v3"]}],
 "node":{"id":"xds-check-client","locality":{"region":"local"}}}
JSON

# Processes of this check are tracked in pid files, so a re-run stops leftovers first.
stop_all() {
  local f
  for f in "$XDS"/*.pid; do
    [ -e "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
}
stop_all
trap stop_all EXIT

LAST_PID=
start() { # start <name> <binary> [env...]; sets LAST_PID
  local name="$1" bin="$2"; shift 2
  env "$@" "$ROOT/target/debug/$bin" </dev/null >"$STATE/logs/$name.log" 2>&1 &
  LAST_PID=$!
  echo "$LAST_PID" >"$XDS/$name.pid"
}
moim_env=(MOING_DATABASE__URL="$(service_db_url moim)" MOING_AUTH__SERVICE_TOKEN="$SERVICE_TOKEN"
  MOING_AUTH__JWKS_ENDPOINT="http://127.0.0.1:${PORTS[auth]}")
start xds-control envoy-control MOING_LISTEN="127.0.0.1:$XDS_PORT" MOING_STATIC_FILE="$XDS/endpoints.json" \
  MOING_SERVICE_TOKEN="$SERVICE_TOKEN"
start xds-moim-a moim MOING_GRPC__LISTEN="127.0.0.1:$PORT_A" "${moim_env[@]}"
PID_A="$LAST_PID"
start xds-moim-b moim MOING_GRPC__LISTEN="127.0.0.1:$PORT_B" "${moim_env[@]}"
for port in "$XDS_PORT" "$PORT_A" "$PORT_B"; do
  wait_for "port $port" 60 "$BUF" curl --protocol grpc --http2-prior-knowledge \
    "http://127.0.0.1:$port/grpc.health.v1.Health/Check"
done
GRPC_XDS_BOOTSTRAP="$XDS/bootstrap.json" "$STATE/venv/bin/python" "$ROOT/scripts/checks/xds_client.py" \
  moim "$PID_A" "127.0.0.1:$PORT_A" "127.0.0.1:$PORT_B" "$XDS/endpoints.json"
