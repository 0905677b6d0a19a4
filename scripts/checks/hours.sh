#!/usr/bin/env bash
# Runs the Rust suite with the process clock moved to other hours of the day
# (moing_common::clock reads MOING_CLOCK_OFFSET), so a test that only passes at
# some hours fails here, whatever the hour CI runs at.
#
#   scripts/checks/hours.sh                      # the date-sensitive suites at 15:30 UTC
#   scripts/checks/hours.sh --all 00:30 08:30 15:30 23:30   # the whole suite at each instant
#
# 15:30 UTC is 00:30 the next day in Asia/Seoul: the UTC and team dates differ.
# Expects MOING_TEST_DATABASE_URL / MOING_TEST_REDIS_URL (scripts/test sets them).
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

ALL=0
if [ "${1:-}" = "--all" ]; then ALL=1; shift; fi
INSTANTS=("$@")
[ ${#INSTANTS[@]} -gt 0 ] || INSTANTS=(15:30)

# The suites whose behaviour depends on the date or the hour: every API suite
# that creates teams, missions, proofs, reminders or votes, and the end-to-end ones.
DATE_SENSITIVE=(-p moing-common -p moing-moim -p moing-mission -p moing-board
  -p moing-notification -p moing-auth -p moing-e2e -p moing-gateway)

for at in "${INSTANTS[@]}"; do
  log "cargo test with the clock at $at UTC"
  if [ "$ALL" = 1 ]; then sel=(--workspace); else sel=("${DATE_SENSITIVE[@]}"); fi
  # One offset for every process of the run (each computes "now" from it).
  offset=$(( $(date -u -d "today $at" +%s) - $(date -u +%s) ))
  (cd "$ROOT" && MOING_CLOCK_OFFSET="$offset" cargo test "${sel[@]}" --no-fail-fast --quiet 2>&1 \
    | grep -Ev '^(running 0 tests|test result: ok. 0 passed.*|)$')
  [ "${PIPESTATUS[0]}" = 0 ] || die "cargo test failed with the clock at $at UTC"
done
