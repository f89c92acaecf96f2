#!/usr/bin/env bats
# 12_rate_limits_and_filters/shaper.bats — chapter 12: the shaper's token
# buckets measured from outside by meter (real TCP connections reading as fast
# as they may): a connection's rate, a group's total, libevent's group and
# --fair side by side, a client that never reads, and the values refused.
# Runs are 2 s, so the bounds are generous: at most 15% above the rate (what
# a limit promises), at least 35% below it (the suite runs beside other tests:
# on a loaded machine the meter's readers and the shaper's ticks run late, and
# a 2 s total came out 24% short once under a load average of 10). The ±5%
# over 10 s on a quiet machine is the bench's (make bench-chapter12).

load ../tests/helpers

setup() {
    SHAPER=$(bin 12_rate_limits_and_filters/shaper)
    METER=$(bin 12_rate_limits_and_filters/meter)
}

# near_rate VALUE WANT: VALUE (B/s) is at most 15% above WANT, at most 35% below
near_rate() {
    awk -v v="$1" -v w="$2" 'BEGIN { exit !(v >= w * 0.65 && v <= w * 1.15) }' ||
        fail "$1 B/s is not between 35% below and 15% above $2"
}

# total FILE / jain FILE: meter's summary figures
total() { awk '/^total:/ { print $2 }' "$1"; }
jain() { awk '/^jain:/ { print $2 }' "$1"; }

@test "one connection at --rate 65536 gets 64 KiB/s (2 s, -35%…+15%), CSV line by line; poll backend" {
    start_server shaper "$SHAPER" --port 0 --rate 65536 --backend poll
    assert_equal "$(head -n 1 "$SERVER_OUT")" "backend: poll"
    grep -qx 'limits: tick 50 ms; per connection 65536 B/s = 3276 bytes per tick, burst 65536' "$SERVER_OUT"
    run timeout 10 "$METER" --port "$PORT" --connections 1 --seconds 2
    assert_success
    assert_line --index 0 "second,c1,total"
    assert_line --regexp '^1\.00,[0-9]+,[0-9]+$'
    echo "$output" >"$BATS_TEST_TMPDIR/m"
    near_rate "$(total "$BATS_TEST_TMPDIR/m")" 65536
    # the shaper's own count agrees: about 2 s of it went out
    line=$(signal_for_line USR1 'stats: 0 connections now')
    assert_equal "$line" "stats: 0 connections now, 1 in all, 0 bytes sent by those now"
}

@test "10 connections: libevent's group and --fair side by side — each total is the group rate, --fair's Jain >= 0.98" {
    start_server group "$SHAPER" --port 0 --group-rate 1048576
    local group_port=$PORT
    start_server fair "$SHAPER" --port 0 --group-rate 1048576 --fair
    local fair_port=$PORT
    start_bg group-meter timeout 10 "$METER" --port "$group_port" --connections 10 --seconds 2
    local g=$BG_PID
    timeout 10 "$METER" --port "$fair_port" --connections 10 --seconds 2 >"$BATS_TEST_TMPDIR/fair"
    wait_exit "$g" 20
    assert_equal "$EXIT_STATUS" 0
    cp "$BG_OUT" "$BATS_TEST_TMPDIR/group"
    echo "# libevent's group: total $(total "$BATS_TEST_TMPDIR/group") B/s, jain $(jain "$BATS_TEST_TMPDIR/group")" >&3
    echo "# --fair:           total $(total "$BATS_TEST_TMPDIR/fair") B/s, jain $(jain "$BATS_TEST_TMPDIR/fair")" >&3
    near_rate "$(total "$BATS_TEST_TMPDIR/group")" 1048576
    near_rate "$(total "$BATS_TEST_TMPDIR/fair")" 1048576
    awk -v j="$(jain "$BATS_TEST_TMPDIR/fair")" 'BEGIN { exit !(j >= 0.98) }' || fail "--fair's Jain index below 0.98"
    # every one of the ten got something from libevent's group
    assert_equal "$(grep -cE '^conn [0-9]+: [1-9][0-9]* bytes' "$BATS_TEST_TMPDIR/group")" 10
}

@test "--min-share is taken, and a group member with a per-connection --rate keeps to the smaller" {
    start_server shaper "$SHAPER" --port 0 --rate 32768 --group-rate 1048576 --min-share 128
    run timeout 10 "$METER" --port "$PORT" --connections 2 --seconds 2
    assert_success
    echo "$output" >"$BATS_TEST_TMPDIR/m"
    near_rate "$(total "$BATS_TEST_TMPDIR/m")" 65536
}

@test "a client that never reads: the shaper's queue for it stays at 64 KiB at most, RSS bounded" {
    start_server shaper "$SHAPER" --port 0
    start_bg never python3 "$BATS_TEST_DIRNAME/never_reads.py" "$PORT"
    wait_for_line "$BG_OUT" '^connected$'
    # no limit: the kernel's buffers fill at once; wait until nothing more goes out
    local before=-1 now
    for _ in $(seq 50); do
        now=$(signal_for_line USR1 'stats: conn 1 ' | sed -E 's/.*sent ([0-9]+) bytes.*/\1/')
        [ "$now" = "$before" ] && break
        before=$now
        sleep 0.1
    done
    assert_equal "$now" "$before"
    line=$(signal_for_line USR1 'stats: conn 1 ')
    queued=$(sed -E 's/.*queued ([0-9]+).*/\1/' <<<"$line")
    echo "# $line" >&3
    [ "$queued" -gt 0 ] && [ "$queued" -le 65536 ] || fail "queued $queued"
    assert_rss_below "$SERVER_PID" 20000
}

@test "values libevent refuses, or would crash on, are usage errors (exit 2, with why)" {
    run "$SHAPER" --port 0 --rate 65536 --burst 1000
    assert_failure 2
    assert_output --partial "shaper: --burst 1000 is less than one tick's refill (65536 B/s x 50 ms = 3276 bytes)"
    run "$SHAPER" --port 0 --rate 10 --tick-ms 50
    assert_failure 2
    assert_output --partial "shaper: --rate 10 B/s at --tick-ms 50 is 0 bytes per tick: libevent needs at least 1"
    run "$SHAPER" --port 0 --rate 65536 --tick-ms 0
    assert_failure 2
    assert_output --partial "shaper: --tick-ms:"
    run "$SHAPER" --port 0 --fair
    assert_failure 2
    assert_output --partial "--fair splits --group-rate"
    run "$SHAPER" --port 0 --min-share 64
    assert_failure 2
    run "$SHAPER" --port 0 --burst 100
    assert_failure 2
    run "$SHAPER" --port 0 --rate fast
    assert_failure 2
    run "$METER" --connections 3
    assert_failure 2
    assert_output --partial "meter: --port is required"
}

@test "meter: a server that is not there is a runtime error (exit 1), not a hang" {
    run timeout 5 "$METER" --port "$(free_port)" --seconds 1
    assert_failure 1
    assert_output --partial "meter: connection 1:"
}

@test "shutdown with clients still in libevent's group exits 0 (they leave the group before it is freed)" {
    start_server shaper "$SHAPER" --port 0 --group-rate 65536
    start_bg never python3 "$BATS_TEST_DIRNAME/never_reads.py" "$PORT"
    wait_for_line "$BG_OUT" '^connected$'
    wait_for_line "$SERVER_OUT" '^limits: '
    signal_for_line USR1 'stats: conn 1 ' >/dev/null
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID" 5
    assert_equal "$EXIT_STATUS" 0
    grep -q '^summary: conn 1 ' "$SERVER_OUT"
}

@test "a reference client agrees: nc | pv counts 128 KiB/s at --rate 131072 (±20%)" {
    start_server shaper "$SHAPER" --port 0 --rate 131072
    # pv -n -b -i 0.5: the byte count so far, every half second, on stderr
    timeout 2.3 nc 127.0.0.1 "$PORT" | pv -n -b -i 0.5 -f >/dev/null 2>"$BATS_TEST_TMPDIR/pv" || true
    sed "s/^/# pv: /" "$BATS_TEST_TMPDIR/pv" >&3
    [ "$(wc -l <"$BATS_TEST_TMPDIR/pv")" -ge 4 ] || fail "pv printed fewer than 4 counts"
    # from the first count (0.5 s) to the fourth (2.0 s): 1.5 s
    rate=$(awk 'NR == 1 { a = $1 } NR == 4 { print ($1 - a) / 1.5 }' "$BATS_TEST_TMPDIR/pv")
    awk -v v="$rate" 'BEGIN { exit !(v >= 131072 * 0.8 && v <= 131072 * 1.2) }' || fail "pv saw $rate B/s"
}
