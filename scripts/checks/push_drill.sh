#!/usr/bin/env bash
# Fault drills of the push pipeline (issue 18, "No push lost") against the
# cluster scripts/up runs: crates/drill (moing-drill) replaces notification
# with replicas of its own pointed at an FCM stand-in, breaks something during
# a proof load, counts lost and duplicate inbox rows and pushes, and starts
# notification again as scripts/up did.
#   scripts/checks/push_drill.sh                   kill, stop, mariadb and redis (scripts/test)
#   scripts/checks/push_drill.sh <mode> [options]  one mode (moing-drill --help lists them)
#   scripts/checks/push_drill.sh bench             burst, steady and backlog (use scripts/bench-push)
# The build follows MOING_PROFILE (debug unless release), as scripts/up does;
# the cluster must run that profile's binaries. Lines `[drill] <mode>: ...`
# carry the figures; the exit status is non-zero when a drill failed.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

PROFILE="${MOING_PROFILE:-debug}"
[ -f "$STATE/run/notification.env" ] || die "no cluster: run scripts/up first"
log "building moing-drill ($PROFILE)"
if [ "$PROFILE" = release ]; then
  (cd "$ROOT" && cargo build --quiet --release -p moing-drill --bin moing-drill)
else
  (cd "$ROOT" && cargo build --quiet -p moing-drill --bin moing-drill)
fi

drill() { # drill <mode> [options]
  log "push drill: $*"
  "$ROOT/target/$PROFILE/moing-drill" "$@" --root "$ROOT" --bin-dir "target/$PROFILE" \
    --db-url "$(admin_db_url)"
}

case "${1:-}" in
  "") modes=(kill stop mariadb redis) ;;
  bench) modes=(burst steady backlog) ;;
  *) drill "$@"; exit ;;
esac
failed=()
for mode in "${modes[@]}"; do
  drill "$mode" || failed+=("$mode")
done
[ ${#failed[@]} -eq 0 ] || die "push drills failed: ${failed[*]} (see the [drill] lines above)"
