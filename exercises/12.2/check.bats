#!/usr/bin/env bats
# exercises/12.2 — with --fair, a connection that stopped reading should not
# keep a share it cannot use: three readers beside one client that never reads
# share the whole group rate (today they get 3/4 of it), and stay fair.

load ../../tests/helpers

@test "12.2: three readers beside a never-reading client get the whole group rate, fairly" {
    start_server shaper "$(bin 12_rate_limits_and_filters/shaper)" --port 0 --group-rate 1048576 --fair
    start_bg never python3 "$WORKBOOK_ROOT/12_rate_limits_and_filters/never_reads.py" "$PORT"
    wait_for_line "$BG_OUT" '^connected$'
    # wait until the never-reader's kernel buffers are full: its sent count stops moving
    local before=-1 now
    for _ in $(seq 100); do
        now=$(signal_for_line USR1 'stats: conn 1 ' | sed -E 's/.*sent ([0-9]+) bytes.*/\1/')
        [ "$now" = "$before" ] && break
        before=$now
        sleep 0.25
    done
    run timeout 15 "$(bin 12_rate_limits_and_filters/meter)" --port "$PORT" --connections 3 --seconds 3 --warmup-ms 500
    assert_success
    total=$(awk '/^total:/ { print $2 }' <<<"$output")
    jain=$(awk '/^jain:/ { print $2 }' <<<"$output")
    echo "# three readers: total $total B/s, jain $jain" >&3
    awk -v t="$total" 'BEGIN { exit !(t >= 0.85 * 1048576) }' ||
        fail "the three readers got $total B/s of 1048576: the idle client still holds a share"
    awk -v t="$total" 'BEGIN { exit !(t <= 1.15 * 1048576) }' || fail "total $total B/s: above the group rate"
    awk -v j="$jain" 'BEGIN { exit !(j >= 0.95) }' || fail "Jain's index $jain: no longer fair"
}
