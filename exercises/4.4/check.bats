#!/usr/bin/env bats
# Exercise 4.4 — fix exercises/4.4/count_until_signal.c: it must count until
# SIGINT (or SIGTERM), then print "stopped by SIGINT after N" (N > 0) and
# exit 0 — compiled with optimisation, by gcc and by clang.

load ../../tests/helpers

SOURCE="$WORKBOOK_ROOT/exercises/4.4/count_until_signal.c"

# run_case COMPILER SIGNAL: build with the workbook's flags, start, wait for
# the "counting" line, send SIGNAL, expect the right last line and exit 0
run_case() {
    local compiler=$1 sig=$2 prog="$BATS_TEST_TMPDIR/count_$1"
    command -v "$compiler" >/dev/null || skip "$compiler is not installed"
    "$compiler" -std=c11 -Wall -Wextra -Werror -O2 -o "$prog" "$SOURCE"
    start_bg counter "$prog"
    wait_for_line "$BG_OUT" '^counting; stop me with: kill -INT [0-9]+$'
    # it must still be counting: nobody has asked it to stop yet
    kill -0 "$BG_PID" 2>/dev/null || fail "it ended before any signal: $(tail -n 1 "$BG_OUT")"
    kill "-$sig" "$BG_PID"
    wait_exit "$BG_PID" 5 || fail "still running 5 s after SIG$sig: the loop never saw the flag change"
    assert_equal "$EXIT_STATUS" 0
    assert_regex "$(tail -n 1 "$BG_OUT")" "^stopped by SIG$sig after [1-9][0-9]*\$"
}

@test "4.4 gcc -O2: SIGINT stops the count" { run_case gcc INT; }
@test "4.4 gcc -O2: SIGTERM stops the count" { run_case gcc TERM; }
@test "4.4 clang -O2: SIGINT stops the count" { run_case clang INT; }
