#!/usr/bin/env bats
# exercises/11.3 — tally, built with clang -fsanitize=thread, runs without a
# ThreadSanitizer report, and its total is exact.

load ../../tests/helpers

@test "11.3: tally under ThreadSanitizer: no data race, total 200000 ticks (4 x 50000)" {
    command -v clang >/dev/null || fail "clang is missing: scripts/deps.sh tsan installs it"
    local prog=$BATS_TEST_TMPDIR/tally
    # just this program and common.c: a few seconds
    # shellcheck disable=SC2046 # pkg-config's flags are words
    clang -std=c11 -g -O1 -fsanitize=thread -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
        -I"$WORKBOOK_ROOT/common" -o "$prog" "$WORKBOOK_ROOT/11_threads/tally.c" \
        "$WORKBOOK_ROOT/common/common.c" $(pkg-config --cflags --libs libevent) -pthread
    TSAN_OPTIONS="halt_on_error=1 exitcode=66" run "$prog" --threads 4 --ticks 50000
    refute_output --partial "WARNING: ThreadSanitizer"
    assert_success
    assert_line "total 200000 ticks (4 x 50000)"
}
