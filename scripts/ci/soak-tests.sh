#!/usr/bin/env bash
# soak-tests.sh — run the whole suite N times and count the runs that failed,
# to find flaky tests: a test that passes 9 times in 10 is a bug to fix at its
# cause (a wait on the condition, not a longer sleep). With --load, two busy
# loops hog the CPUs the whole time, as a loaded CI machine or a student's
# laptop compiling something else would.
#
# Usage: scripts/ci/soak-tests.sh N [--load]        (make soak N=10 [LOAD=1])
# Prints one line per run (its summary line and duration), the failing tests
# of failed runs, and ends with "soak: N runs, F failed". Stopped (Ctrl-C,
# kill), it stops the run in progress with it — every process of that run is
# in one process group — and exits 130. SOAK_TESTS="FILE..." runs those bats
# files instead of the whole suite (the soak's own test uses it).
set -u
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh

runs=${1:-}
case $runs in '' | *[!0-9]*) echo "usage: $0 N [--load]" >&2; exit 2 ;; esac
load=${2:-}
[ -z "$load" ] || [ "$load" = --load ] || { echo "usage: $0 N [--load]" >&2; exit 2; }

make_workdir
if [ -n "$load" ]; then
    for _ in 1 2; do
        (exec 0</dev/null 1>/dev/null 2>&1; while :; do :; done) &
        pids+=($!)
    done
fi

# shellcheck disable=SC2206  # a list of file names, split on purpose
tests=(${SOAK_TESTS:-tests/*.bats [0-9][0-9]_*/*.bats})
failed=0 run_pid=''
stop() {
    trap - INT TERM
    [ -z "$run_pid" ] || kill -TERM -- "-$run_pid" 2>/dev/null
    echo "soak: stopped during run $i of $runs" >&2
    exit 130
}
trap stop INT TERM
for i in $(seq "$runs"); do
    start=$SECONDS
    set -m # the run gets a process group of its own: stop() ends all of it
    scripts/ci/run-tests.sh "${tests[@]}" >"$work/run.log" 2>&1 &
    run_pid=$!
    set +m
    wait "$run_pid"
    status=$?
    run_pid=
    summary=$(grep -E '^bats: ' "$work/run.log" | tail -n 1)
    echo "run $i/$runs${load:+ (under load)}: ${summary:-no summary} in $((SECONDS - start)) s"
    if [ "$status" -ne 0 ]; then
        failed=$((failed + 1))
        grep -E '^not ok' "$work/run.log" | sed 's/^/    /'
        cp "$work/run.log" "build/soak-run-$i.log" 2>/dev/null ||
            { mkdir -p build && cp "$work/run.log" "build/soak-run-$i.log"; }
        echo "    (full log: build/soak-run-$i.log)"
    fi
done
echo "soak: $runs runs, $failed failed"
[ "$failed" -eq 0 ]
