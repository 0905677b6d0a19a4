# Shared by scripts/up, scripts/test and scripts/down: install and start the local
# infrastructure (MariaDB, Redis from Debian's packages; buf from npm) and
# provision one database and one user per service, each user limited to its schema.
# Everything the scripts create lives under .moing/ (git-ignored).

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="$ROOT/.moing"
mkdir -p "$STATE/logs" "$STATE/run" "$STATE/tools"

SERVICES=(auth moim mission board notification)
declare -A PORTS=([auth]=50051 [moim]=50052 [mission]=50053 [board]=50054 [notification]=50055 [gateway]=8080 [s3]=9000)

DB_HOST=127.0.0.1
DB_PORT="${MOING_DB_PORT:-3306}"
DB_ADMIN_USER="${MOING_DB_ADMIN_USER:-moing_admin}"
DB_ADMIN_PASSWORD="${MOING_DB_ADMIN_PASSWORD:-moing_admin_dev}"
REDIS_PORT="${MOING_REDIS_PORT:-6379}"

log() { printf '\033[1;34m[moing]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[moing]\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi
}

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

wait_for() { # wait_for <what> <seconds> <command...>
  local what="$1" secs="$2"; shift 2
  local i
  for ((i = 0; i < secs * 10; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  die "$what did not come up within ${secs}s"
}

mysql_root() { as_root mariadb --protocol=socket -uroot "$@"; }

ensure_mariadb() {
  apt_install mariadb-server mariadb-client
  if ! mysql_root -e 'SELECT 1' >/dev/null 2>&1; then
    log "starting mariadb"
    as_root mkdir -p /run/mysqld
    as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
    if ! (as_root service mariadb start >/dev/null 2>&1 && mysql_root -e 'SELECT 1' >/dev/null 2>&1); then
      as_root sh -c 'nohup mysqld_safe --user=mysql >/dev/null 2>&1 &'
    fi
    wait_for mariadb 60 mysql_root -e 'SELECT 1'
    touch "$STATE/run/mariadb.started"
  fi
  # The admin account creates per-service schemas and per-test databases.
  mysql_root <<SQL
CREATE USER IF NOT EXISTS '${DB_ADMIN_USER}'@'localhost' IDENTIFIED BY '${DB_ADMIN_PASSWORD}';
CREATE USER IF NOT EXISTS '${DB_ADMIN_USER}'@'127.0.0.1' IDENTIFIED BY '${DB_ADMIN_PASSWORD}';
GRANT ALL PRIVILEGES ON *.* TO '${DB_ADMIN_USER}'@'localhost' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '${DB_ADMIN_USER}'@'127.0.0.1' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
}

service_db_password() { echo "${MOING_DB_PASSWORD_PREFIX:-dev_}$1"; }

# One schema and one user per service; the user can touch only its own schema.
provision_databases() {
  local svc
  for svc in "${SERVICES[@]}"; do
    mysql_root <<SQL
CREATE DATABASE IF NOT EXISTS moing_${svc} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'moing_${svc}'@'127.0.0.1' IDENTIFIED BY '$(service_db_password "$svc")';
CREATE USER IF NOT EXISTS 'moing_${svc}'@'localhost' IDENTIFIED BY '$(service_db_password "$svc")';
GRANT ALL PRIVILEGES ON moing_${svc}.* TO 'moing_${svc}'@'127.0.0.1';
GRANT ALL PRIVILEGES ON moing_${svc}.* TO 'moing_${svc}'@'localhost';
FLUSH PRIVILEGES;
SQL
  done
}

service_db_url() { echo "mysql://moing_$1:$(service_db_password "$1")@${DB_HOST}:${DB_PORT}/moing_$1"; }
admin_db_url() { echo "mysql://${DB_ADMIN_USER}:${DB_ADMIN_PASSWORD}@${DB_HOST}:${DB_PORT}"; }

ensure_redis() {
  apt_install redis-server
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    log "starting redis on $REDIS_PORT"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes \
      --save '' --appendonly no --pidfile "$STATE/run/redis.pid" --logfile "$STATE/logs/redis.log"
    wait_for redis 20 redis-cli -p "$REDIS_PORT" ping
  fi
}

ensure_node_tools() {
  command -v npm >/dev/null || apt_install nodejs npm
  apt_install ca-certificates
  if [ ! -x "$STATE/tools/node_modules/.bin/buf" ] || [ ! -d "$STATE/tools/node_modules/@connectrpc/connect-node" ]; then
    log "installing buf and connect-node (npm)"
    (cd "$STATE/tools" && { [ -f package.json ] || npm init -y >/dev/null; } \
      && npm install --silent --no-audit --no-fund @bufbuild/buf@1.75.0 \
        @connectrpc/connect@2.1.2 @connectrpc/connect-node@2.1.2 @bufbuild/protobuf@2.17.0 >/dev/null)
  fi
  BUF="$STATE/tools/node_modules/.bin/buf"
}

ensure_python_tools() { # ensure_python_tools <pkg...>
  if [ ! -x "$STATE/venv/bin/python" ]; then
    apt_install python3-venv 2>/dev/null || true
    python3 -m venv "$STATE/venv"
  fi
  "$STATE/venv/bin/pip" install --quiet --disable-pip-version-check "$@"
}

ensure_rust() {
  command -v cargo >/dev/null || die "cargo is required (rustup toolchain 1.95)"
}

# The service ports 50051-50055 (and the xDS check's 50062-50063) lie inside
# Linux's ephemeral range: an outgoing connection could take one and make the
# service's bind fail. Reserve them (best effort; needs root).
reserve_ports() {
  local want="8080,9000,18000,50051-50055,50062-50063"
  if [ "$(cat /proc/sys/net/ipv4/ip_local_reserved_ports 2>/dev/null)" != "$want" ]; then
    as_root sh -c "echo $want > /proc/sys/net/ipv4/ip_local_reserved_ports" 2>/dev/null \
      || log "could not reserve service ports (not root?); a rare bind conflict is possible"
  fi
}

infra_up() {
  reserve_ports
  ensure_rust
  command -v curl >/dev/null || apt_install curl
  ensure_mariadb
  provision_databases
  ensure_redis
}

# Stops the processes up started (pid files under .moing/run), waiting for each to exit.
stop_processes() {
  local pidfile pid name
  for pidfile in "$STATE"/run/*.pid; do
    [ -e "$pidfile" ] || continue
    name="$(basename "$pidfile" .pid)"
    [ "$name" = redis ] && continue
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
}
