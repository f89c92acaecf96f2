#!/usr/bin/env bats
# exercises/12.3 — filter_demo --upper adds an output filter: the numbered lines
# go out in upper case. Compared byte for byte with nl -ba | tr a-z A-Z, with
# input sent one byte per segment and a last line without newline.

load ../../tests/helpers

@test "12.3: --upper: what comes back is nl -ba's numbering, upper-cased" {
    start_server filter "$(bin 12_rate_limits_and_filters/filter_demo)" --port 0 --upper
    printf 'hello, World\nlibevent filters\nno newline' >"$BATS_TEST_TMPDIR/in"
    run timeout 20 python3 "$WORKBOOK_ROOT/12_rate_limits_and_filters/split_send.py" "$PORT" "$BATS_TEST_TMPDIR/in"
    assert_success
    assert_output "$(nl -ba "$BATS_TEST_TMPDIR/in" | tr a-z A-Z)"
    # and 1 MB in big pieces
    seq 1 100000 | sed 's/$/ abc/' | head -c 1000000 >"$BATS_TEST_TMPDIR/big"
    timeout 20 nc -N 127.0.0.1 "$PORT" <"$BATS_TEST_TMPDIR/big" >"$BATS_TEST_TMPDIR/out"
    assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/out")" "$(nl -ba "$BATS_TEST_TMPDIR/big" | tr a-z A-Z | sha256sum)"
}

@test "12.3: without --upper nothing changes" {
    start_server filter "$(bin 12_rate_limits_and_filters/filter_demo)" --port 0
    run timeout 5 bash -c "printf 'Mixed Case\n' | nc -N 127.0.0.1 $PORT"
    assert_output "$(printf '     1\tMixed Case')"
}
