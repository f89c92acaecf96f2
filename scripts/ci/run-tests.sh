#!/usr/bin/env bash
# run-tests.sh — run bats files, show the results as they come, and end with
# exactly one summary line:  bats: N passed, M failed  (", K skipped" when any).
# Just before it, the slowest tests with their durations (TEST_TIMES=N of them,
# 10 by default; TEST_TIMES=0 for none).
# Exits non-zero when a test failed or bats itself could not run every test.
#
# Files run in parallel (bats --jobs, through GNU parallel): each file has its
# own private Redis and free ports, so files never share state. Tests inside a
# file run in order, as written. The longest files start first, so none starts
# last and runs alone: each run notes how long each file's tests took, in
# build/test-durations ("MS FILE" lines, kept across runs), and the next run
# orders by it, longest first (a file not noted yet counts as longest). TEST_JOBS=N sets how many files run at once
# (default: 2 per core, at least 4 — most of a test's time is spent waiting on
# sockets and child processes, not computing); TEST_JOBS=1 runs them one by one.
#
# Usage: scripts/ci/run-tests.sh FILE.bats [more.bats ...]
set -u
set -o pipefail

# A test that hangs must not hang the whole run (bats >= 1.7 honours this;
# it needs ps or pkill, from procps). BATS_TEST_TIMEOUT= (set, but empty)
# turns it off: tests/harness.bats runs this script inside a test, and there
# bats 1.11's watchdog (a `sleep 180` per test) outlives the inner test while
# holding the inner formatter's pipe, so the inner run hangs for 180 s.
if [ "${BATS_TEST_TIMEOUT+set}" = set ] && [ -z "$BATS_TEST_TIMEOUT" ]; then
    unset BATS_TEST_TIMEOUT
else
    export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-180}
fi

jobs=${TEST_JOBS:-$(($(nproc) * 2))}
[ "$jobs" -lt 4 ] && [ -z "${TEST_JOBS-}" ] && jobs=4
slowest=${TEST_TIMES:-10}

log=$(mktemp)
names=$(mktemp)
trap 'rm -f "$log" "$names"' EXIT
durations=${TEST_DURATIONS:-$(cd "$(dirname "$0")/../.." && pwd)/build/test-durations}

# which file each test name comes from (names with $ in them: not found; fine)
for f in "$@"; do
    sed -n 's/^@test "\(.*\)" {.*$/\1/p' "$f" | sed "s|\$|\t$f|"
done >"$names"

# longest first: the files sorted by their noted durations (unknown: first)
if [ -f "$durations" ] && [ "$#" -gt 1 ]; then
    mapfile -t ordered < <(printf '%s\n' "$@" | awk 'NR == FNR { ms[$2] = $1; next }
        { print ($0 in ms ? ms[$0] : 999999999) "\t" $0 }' "$durations" - | sort -t "$(printf '\t')" -k1,1rn -s | cut -f2-)
    set -- "${ordered[@]}"
fi

parallel_args=()
if [ "$jobs" -gt 1 ] && [ "$#" -gt 1 ] && command -v parallel >/dev/null; then
    parallel_args=(--jobs "$jobs" --no-parallelize-within-files)
fi

bats --tap --timing "${parallel_args[@]}" "$@" | tee "$log"
bats_status=${PIPESTATUS[0]}

# note how long each file's tests took, for the next run's order
if mkdir -p "$(dirname "$durations")" 2>/dev/null; then
    {
        sed -nE 's/^(not )?ok [0-9]+ (.*) in ([0-9]+)ms$/\3\t\2/p' "$log" |
            awk -F '\t' 'NR == FNR { file[$1] = $2; next }
                $2 in file { ms[file[$2]] += $1 } END { for (f in ms) print ms[f] " " f }' "$names" -
        if [ -f "$durations" ]; then cat "$durations"; fi
    } | awk '!seen[$2]++ && system("test -f \"" $2 "\"") == 0' >"$durations.$$" &&
        mv "$durations.$$" "$durations"
fi

skipped=$(grep -cE '^ok [0-9]+ .*# skip' "$log")
passed=$(($(grep -cE '^ok [0-9]+' "$log") - skipped))
failed=$(grep -cE '^not ok [0-9]+' "$log")
planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$log" | head -n 1)
# Tests that never reported (bats crashed, a file did not parse) count as failed.
missing=$((${planned:-0} - passed - failed - skipped))
if [ "$missing" -gt 0 ]; then
    failed=$((failed + missing))
fi
if [ "$bats_status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1 # bats failed before running anything countable
fi

if [ "$slowest" -gt 0 ]; then
    echo "slowest tests:"
    # TAP lines with --timing end in " in 1234ms"
    sed -nE 's/^(not )?ok [0-9]+ (.*) in ([0-9]+)ms$/\3 \2/p' "$log" | sort -rn |
        head -n "$slowest" | awk '{ printf "  %6.1f s  %s\n", $1 / 1000, substr($0, length($1) + 2) }'
fi

summary="bats: $passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
