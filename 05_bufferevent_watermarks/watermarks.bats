#!/usr/bin/env bats
# 05_bufferevent_watermarks/watermarks.bats — chapter 5: each watermark rule,
# observed from outside (read_watermarks, write_watermark, backpressure_relay): callback logs, the kernel's receive queue, checksums,
# and the relay's peak buffer with and without backpressure.

load ../tests/helpers

# libevent's default largest single read from a socket (bufferevent_get_max_single_read);
# the relay prints it, and the bounds below are stated with it.
ONE_READ=16384

setup() {
    READ=$(bin 05_bufferevent_watermarks/read_watermarks)
    WRITE=$(bin 05_bufferevent_watermarks/write_watermark)
    RELAY=$(bin 05_bufferevent_watermarks/backpressure_relay)
}

# recv_q PORT: bytes waiting in the kernel on the server side of the connection
recv_q() { ss -tnH state established "( sport = :$1 )" | awk '{ print $1 }' | head -n 1; }

# pattern N: the write demo's payload, rebuilt
pattern() { yes abcdefghijklmnopqrstuvwxyz0123456789 | tr -d '\n' | head -c "$1"; }

@test "read low 10: 9 bytes give no callback; the 10th gives one reporting 10" {
    start_server wm "$READ" --port 0 --low 10
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    wait_for_line "$SERVER_OUT" 'read: 127\.0\.0\.1:[0-9]+ connected \(read low 10, high 0\)'
    printf '123456789' >&5
    sleep 0.5
    assert_equal "$(count_lines "$SERVER_OUT" 'read: callback')" 0
    printf 'x' >&5
    wait_for_line "$SERVER_OUT" 'read: callback 1: input 10 bytes'
    assert_equal "$(count_lines "$SERVER_OUT" 'read: callback')" 1
    exec 5>&-
}

@test "read high 64, consume nothing: input never above 64, the rest stays in the kernel, no spin" {
    start_server wm "$READ" --port 0 --high 64 --consume 0
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    head -c 10240 /dev/zero >&5
    wait_for_line "$SERVER_OUT" 'input 64 >= high 64: libevent has stopped reading the socket'
    sleep 0.5
    # the bound: libevent asks the socket for at most (high - buffered) bytes,
    # so the input never exceeds high itself
    max=$(sed -n 's/.*read: callback [0-9]*: input \([0-9]*\) bytes/\1/p' "$SERVER_OUT" | sort -n | tail -n 1)
    [ "$max" -le 64 ] || fail "input reached $max bytes"
    # the other 10240 - 64 bytes wait in the kernel's receive queue
    assert_equal "$(recv_q "$PORT")" $((10240 - 64))
    # libevent #891: a callback that leaves input >= high would be re-run
    # forever; the demo pauses it. Over 1 s the server stays almost idle.
    before=$(cpu_ticks "$SERVER_PID")
    sleep 1
    after=$(cpu_ticks "$SERVER_PID")
    [ $((after - before)) -lt 20 ] || fail "server used $((after - before)) ticks in 1 s"
    [ "$(count_lines "$SERVER_OUT" 'read: callback')" -lt 10 ]
    exec 5>&-
}

@test "read high with slow consumption: reading resumes below high, everything arrives" {
    start_server wm "$READ" --port 0 --high 100 --consume 60 --consume-delay 20
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    head -c 1000 /dev/zero >&5
    # 1000 bytes, 60 per consumption => the input drains to 0 after 17 rounds
    wait_for_line "$SERVER_OUT" 'read: consumed 40 bytes, input now 0 bytes' 10
    consumed=$(sed -n 's/.*read: consumed \([0-9]*\) bytes.*/\1/p' "$SERVER_OUT" | awk '{ s += $1 } END { print s }')
    assert_equal "$consumed" 1000
    max=$(sed -n 's/.*read: callback [0-9]*: input \([0-9]*\) bytes/\1/p' "$SERVER_OUT" | sort -n | tail -n 1)
    [ "$max" -le 100 ] || fail "input reached $max bytes"
    exec 5>&-
}

@test "write low: every callback sees output <= write-low; a slow reader sets the pace; payload intact" {
    start_server wm "$WRITE" --port 0 --bytes 16777216 --chunk 65536 --write-low 16384
    # a reader that stops for 1 s, with a small receive buffer
    nc -I 4096 127.0.0.1 "$PORT" | { sleep 1; cat; } >"$BATS_TEST_TMPDIR/received"
    wait_for_line "$SERVER_OUT" 'write: 127\.0\.0\.1:[0-9]+: all 16777216 bytes sent'
    assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/received")" "$(pattern 16777216 | sha256sum)"
    # 16 MiB / 64 KiB = 256 chunks: the first at accept, 255 refills
    assert_equal "$(count_lines "$SERVER_OUT" 'write: callback [0-9]+: output')" 255
    over=$(sed -n 's/.*write: callback [0-9]*: output \([0-9]*\) bytes.*/\1/p' "$SERVER_OUT" | awk '$1 > 16384' | wc -l)
    assert_equal "$over" 0
    # the refills are spread over the reader's pause, not done at once
    first=$(awk '/write: callback/ { print int($1); exit }' "$SERVER_OUT")
    last=$(awk '/write: callback/ { t = int($1) } END { print t }' "$SERVER_OUT")
    [ $((last - first)) -ge 500 ] || fail "all refills within $((last - first)) ms"
}

@test "write low 0 (the default): the callback means 'fully flushed'" {
    start_server wm "$WRITE" --port 0 --bytes 200000 --chunk 50000
    run nc -N 127.0.0.1 "$PORT" </dev/null
    assert_equal "$(printf '%s' "$output" | sha256sum)" "$(pattern 200000 | sha256sum)"
    wait_for_line "$SERVER_OUT" 'all 200000 bytes sent'
    outputs=$(sed -n 's/.*write: callback [0-9]*: output \([0-9]*\) bytes.*/\1/p' "$SERVER_OUT" | sort -u)
    assert_equal "$outputs" "0"
}

# relay_run MODE_FLAGS...: 64 MiB producer -> relay -> consumer that reads
# nothing for 2 s; sets PEAK and checks the bytes arrived intact and in order
relay_run() {
    head -c 67108864 /dev/urandom >"$BATS_TEST_TMPDIR/source"
    start_server relay "$RELAY" --port 0 --producer-port 0 "$@"
    pport=$(sed -n 's/^producers connect to .*:\([0-9]*\)$/\1/p' "$SERVER_OUT")
    start_bg consumer bash -c 'nc 127.0.0.1 "$1" | { sleep 2; cat; } >"$2"' _ "$PORT" "$BATS_TEST_TMPDIR/received"
    consumer=$BG_PID
    wait_for_line "$SERVER_OUT" 'relay: consumer connected'
    nc -N 127.0.0.1 "$pport" <"$BATS_TEST_TMPDIR/source"
    wait_exit "$consumer" 60
    assert_equal "$EXIT_STATUS" 0
    wait_exit "$SERVER_PID" 30
    assert_equal "$EXIT_STATUS" 0
    assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/received")" "$(sha256sum <"$BATS_TEST_TMPDIR/source")"
    grep -q "one read is at most $ONE_READ bytes" "$SERVER_OUT"
    PEAK=$(sed -n 's/^peak buffered: \([0-9]*\) bytes$/\1/p' "$SERVER_OUT")
}

@test "relay with backpressure: peak buffered < high + one read; all 64 MiB intact" {
    relay_run --high 262144 --low 65536
    [ "$PEAK" -lt $((262144 + ONE_READ)) ] || fail "peak $PEAK bytes"
    [ "$PEAK" -ge 262144 ] || fail "peak $PEAK: backpressure never engaged?"
}

@test "relay --no-backpressure: peak buffered far above high; still all intact" {
    relay_run --high 262144 --low 65536 --no-backpressure
    # far above: over 16 times the high watermark (it reached 7-12 MiB here;
    # how far depends on how fast the relay reads, slower under ASan)
    [ "$PEAK" -gt $((16 * 262144)) ] || fail "peak only $PEAK bytes"
}

@test "relay --csv writes a CSV of ms, buffered bytes and the reading flag" {
    trace="$BATS_TEST_TMPDIR/trace.csv"
    start_server relay "$RELAY" --port 0 --producer-port 0 --csv "$trace"
    pport=$(sed -n 's/^producers connect to .*:\([0-9]*\)$/\1/p' "$SERVER_OUT")
    start_bg consumer nc 127.0.0.1 "$PORT"
    wait_for_line "$SERVER_OUT" 'relay: consumer connected'
    head -c 1048576 /dev/zero | nc -N 127.0.0.1 "$pport"
    wait_exit "$SERVER_PID" 10
    assert_equal "$(head -n 1 "$trace")" "ms,buffered,reading"
    bad=$(tail -n +2 "$trace" | grep -cvE '^[0-9]+\.[0-9],[0-9]+,[01]$' || true)
    assert_equal "$bad" 0
    [ "$(wc -l <"$trace")" -gt 2 ]
}

@test "bad flag values exit 2 with a message" {
    run "$READ" --demo read
    assert_failure 2
    assert_line --index 0 "read_watermarks: unknown option or missing value: '--demo'"
    run "$READ" --low 100 --high 10
    assert_failure 2
    assert_line --index 0 "read_watermarks: --low 100 is above --high 10"
    run "$READ" --low -1
    assert_failure 2
    run "$READ" --consume lots
    assert_failure 2
    assert_line --index 0 "read_watermarks: --consume: 'lots' is not a number"
    run "$RELAY" --high 0
    assert_failure 2
    assert_line --index 0 "backpressure_relay: needs 0 <= --low < --high (got 65536, 0)"
    run "$WRITE" --bytes 0
    assert_failure 2
    assert_line --index 0 "write_watermark: --bytes: 0 is out of range (1 to 17179869184)"
    for prog in "$READ" "$WRITE" "$RELAY"; do
        run "$prog" --help
        assert_success
        assert_line --index 0 --regexp "^usage: $(basename "$prog") "
    done
}
