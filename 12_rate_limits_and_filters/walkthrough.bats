#!/usr/bin/env bats
# 12_rate_limits_and_filters/walkthrough.bats — the "what you should see"
# blocks of docs/12-rate-limits-and-filters.md, compared with a real run
# (tests/walkthrough.bash's transcript helpers).

load ../tests/helpers
load ../tests/walkthrough

PAGE=12-rate-limits-and-filters.md

@test "page: the shaper's first lines, as the page shows them" {
    start_server shaper "$(bin 12_rate_limits_and_filters/shaper)" --port 0 --rate 65536
    assert_transcript "$PAGE" shaper-start "$SERVER_OUT" "$PORT" 8092
}

@test "page: the filter's numbered lines, the last one flushed on close" {
    start_server filter "$(bin 12_rate_limits_and_filters/filter_demo)" --port 0
    {
        echo "\$ printf 'first\\nsecond\\nthird, unfinished' | nc -N 127.0.0.1 8093"
        printf 'first\nsecond\nthird, unfinished' | timeout 5 nc -N 127.0.0.1 "$PORT"
    } >"$BATS_TEST_TMPDIR/out"
    assert_transcript "$PAGE" filter "$BATS_TEST_TMPDIR/out"
}

@test "page: a burst below one tick's refill is refused, exit 2" {
    {
        echo '$ build/12_rate_limits_and_filters/shaper --rate 65536 --burst 1000'
        "$(bin 12_rate_limits_and_filters/shaper)" --rate 65536 --burst 1000 2>&1 && status=0 || status=$?
        echo '$ echo $?'
        echo "$status"
    } >"$BATS_TEST_TMPDIR/out"
    assert_transcript "$PAGE" refused "$BATS_TEST_TMPDIR/out"
}
