#!/usr/bin/env bash
# run-tests.sh — run bats files, show the results as they come, and end with
# exactly one summary line:  bats: N passed, M failed  (", K skipped" when any).
# Exits non-zero when a test failed or bats itself could not run every test.
#
# Usage: scripts/run-tests.sh tests/01_listener.bats [more.bats ...]
set -u
set -o pipefail

# A test that hangs must not hang the whole run (bats >= 1.7 honours this).
export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-180}

log=$(mktemp)
trap 'rm -f "$log"' EXIT

bats --tap "$@" | tee "$log"
bats_status=${PIPESTATUS[0]}

skipped=$(grep -cE '^ok [0-9]+ .*# skip' "$log")
passed=$(( $(grep -cE '^ok [0-9]+' "$log") - skipped ))
failed=$(grep -cE '^not ok [0-9]+' "$log")
planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$log" | head -n 1)
# Tests that never reported (bats crashed, a file did not parse) count as failed.
missing=$(( ${planned:-0} - passed - failed - skipped ))
if [ "$missing" -gt 0 ]; then
    failed=$(( failed + missing ))
fi
if [ "$bats_status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1 # bats failed before running anything countable
fi

summary="bats: $passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
