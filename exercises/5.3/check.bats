#!/usr/bin/env bats
# Exercise 5.3 — backpressure_relay ends with
#   relay: paused the producer N times
# N: how many times it stopped reading the producer because the consumer's
# buffer reached --high. The check compares N with the relay's own --csv
# (ms,buffered,reading): every pause is a row where reading goes from 1 to 0,
# and so is the producer's end (reading stops for good), which is not a pause.

load ../../tests/helpers

setup() {
    RELAY=$(bin 05_bufferevent_watermarks/backpressure_relay)
    head -c 8388608 /dev/urandom >"$BATS_TEST_TMPDIR/source"
}

# relay_run ARGS...: 8 MiB through the relay to a consumer that naps 1 s (and a small receive buffer)
# first; checks the bytes and the exit, sets PAUSES (empty if not printed)
relay_run() {
    start_server relay "$RELAY" --port 0 --producer-port 0 --csv "$BATS_TEST_TMPDIR/trace.csv" "$@"
    pport=$(sed -n 's/^producers connect to .*:\([0-9]*\)$/\1/p' "$SERVER_OUT")
    nc -I 4096 127.0.0.1 "$PORT" | { sleep 1; cat; } >"$BATS_TEST_TMPDIR/received" &
    consumer=$!
    wait_for_line "$SERVER_OUT" 'relay: consumer connected'
    nc -N 127.0.0.1 "$pport" <"$BATS_TEST_TMPDIR/source"
    wait "$consumer"
    wait_exit "$SERVER_PID" 30
    assert_equal "$EXIT_STATUS" 0
    assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/received")" "$(sha256sum <"$BATS_TEST_TMPDIR/source")"
    PAUSES=$(sed -n 's/.*relay: paused the producer \([0-9]*\) times$/\1/p' "$SERVER_OUT")
    echo "# the relay says: paused ${PAUSES:-(nothing)}" >&3
    [ -n "$PAUSES" ] || fail "no 'relay: paused the producer N times' line"
}

# stops_in_trace: rows of the trace where reading went from 1 to 0
stops_in_trace() {
    awk -F, 'NR > 1 { if (prev == 1 && $3 == 0) n++; prev = $3 } END { print n + 0 }' "$BATS_TEST_TMPDIR/trace.csv"
}

@test "5.3 with backpressure: N matches the trace, and the relay did pause" {
    relay_run --high 65536 --low 16384
    stops=$(stops_in_trace)
    echo "# the trace shows $stops stops of reading (the pauses, then the producer's end)" >&3
    [ "$PAUSES" -ge 1 ] || fail "8 MiB to a consumer asleep for 1 s, yet no pause"
    assert_equal "$PAUSES" "$((stops - 1))"
}

@test "5.3 --no-backpressure: the relay says it paused 0 times" {
    relay_run --high 65536 --low 16384 --no-backpressure
    assert_equal "$PAUSES" 0
    assert_equal "$(stops_in_trace)" 1
}
