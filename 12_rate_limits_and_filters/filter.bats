#!/usr/bin/env bats
# 12_rate_limits_and_filters/filter.bats — chapter 12's filter_demo against
# coreutils' nl -ba, byte for byte: input split into one-byte TCP segments (the
# filter's BEV_NEED_MORE), a last line without newline (flushed on close with
# BEV_FINISHED), and a large input.

load ../tests/helpers

setup() {
    FILTER=$(bin 12_rate_limits_and_filters/filter_demo)
}

@test "one byte per segment, last line unfinished: exactly what nl -ba prints" {
    start_server filter "$FILTER" --port 0
    printf 'first line\nsecond\n\nfourth, after an empty one\nno newline at the end' >"$BATS_TEST_TMPDIR/in"
    run timeout 20 python3 "$BATS_TEST_DIRNAME/split_send.py" "$PORT" "$BATS_TEST_TMPDIR/in"
    assert_success
    assert_output "$(nl -ba "$BATS_TEST_TMPDIR/in")"
    printf '%s\n' "$output" | cmp - <(nl -ba "$BATS_TEST_TMPDIR/in")
    wait_for_line "$SERVER_OUT" '^conn 1: closed after 5 lines$'
}

@test "closing with a half line still in the filter flushes it (BEV_FINISHED), then the server closes" {
    start_server filter "$FILTER" --port 0
    run timeout 5 bash -c "printf 'only half a li' | nc -N 127.0.0.1 $PORT"
    assert_success
    assert_output "$(printf '     1\tonly half a li')"
}

@test "4 MB of lines in big pieces: byte-exact against nl -ba" {
    start_server filter "$FILTER" --port 0
    seq 1 500000 | sed 's/$/ some text/' | head -c 4000000 >"$BATS_TEST_TMPDIR/in"
    timeout 20 nc -N 127.0.0.1 "$PORT" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
    assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/out")" "$(nl -ba "$BATS_TEST_TMPDIR/in" | sha256sum)"
}

@test "filter_demo: bad flags are usage errors; --trace shows the filter's reads" {
    run "$FILTER" --port 99999
    assert_failure 2
    run "$FILTER" --what
    assert_failure 2
    start_server filter "$FILTER" --port 0 --trace
    run timeout 5 bash -c "printf 'x\n' | nc -N 127.0.0.1 $PORT"
    assert_output "$(printf '     1\tx')"
    wait_for_line "$SERVER_ERR" 'dispatch .*read -> on_read'
}
