#!/usr/bin/env bats
# tests/bad_input.bats — every server of the workbook against hostile or
# clumsy peers: garbage, huge lines, half-closes, resets, connection churn,
# silent clients, descriptor exhaustion, and bad command lines.
#
# The servers: 01 listener, 03 idle demo, 04 signals, 05 read demo, 06 relay.

load helpers

SERVERS="listener idle signals watermarks relay"

setup_file() {
    start_redis
}

# target_cmd NAME: the command line that starts server NAME on a free port
target_cmd() {
    case $1 in
    listener) TARGET=("$(bin 01_listener/listener)" --port 0) ;;
    idle) TARGET=("$(bin 03_timers/idle_server)" --idle 60000 --port 0) ;;
    signals) TARGET=("$(bin 04_signals/signals)" --port 0) ;;
    watermarks) TARGET=("$(bin 05_bufferevent_watermarks/read_watermarks)" --port 0) ;;
    relay) TARGET=("$(bin 06_redis_relay/relay)" --port 0 --redis-port "$REDIS_PORT") ;;
    esac
}

# start_target NAME [FD_LIMIT]: start it (under `ulimit -n FD_LIMIT` if given)
start_target() {
    target_cmd "$1"
    start_server "$1" bash -c 'ulimit -n "$1" && shift && exec "$@"' _ "${2:-4096}" "${TARGET[@]}"
}

# probe NAME: a normal request to the running server gets its normal answer
probe() {
    local out
    case $1 in
    relay)
        out=$(printf 'PING\r\n' | timeout 10 nc -N 127.0.0.1 "$PORT")
        [ "$out" = $'+PONG\r' ] || { echo "$1: probe got '$out'" >&2; return 1; }
        ;;
    watermarks)
        # the read demo answers nothing: it logs a callback with the input length
        local len=$((100 + RANDOM % 900))
        head -c "$len" /dev/zero | tr '\0' 'q' | timeout 10 nc -N 127.0.0.1 "$PORT" >/dev/null
        wait_for_line "$SERVER_OUT" "read: callback [0-9]+: input $len bytes" 10
        ;;
    *)
        out=$(printf 'probe line\n' | timeout 10 nc -N 127.0.0.1 "$PORT")
        grep -q '^probe line' <<<"$out" || { echo "$1: probe got '$out'" >&2; return 1; }
        ;;
    esac
}

@test "1 MiB of random bytes, then a normal request: still served" {
    for s in $SERVERS; do
        start_target "$s"
        head -c 1048576 /dev/urandom | timeout 20 nc -N 127.0.0.1 "$PORT" >/dev/null || true
        kill -0 "$SERVER_PID" || fail "$s died"
        probe "$s"
        stop_test_processes
    done
}

@test "a 10 MiB line without a newline: capped, closed, memory bounded, still serving" {
    # signals reads lines: it answers with an error line and closes
    start_target signals
    run bash -c "head -c 10485760 /dev/zero | tr '\\0' 'x' | timeout 20 nc 127.0.0.1 $PORT"
    assert_line --index 1 "error: line longer than 65536 bytes"
    assert_rss_below "$SERVER_PID" 40000
    probe signals
    stop_test_processes
    # the relay passes it on: Redis refuses an inline request that big
    start_target relay
    run bash -c "head -c 10485760 /dev/zero | tr '\\0' 'x' | timeout 20 nc 127.0.0.1 $PORT"
    assert_line --index 0 --partial "-ERR Protocol error: too big inline request"
    assert_rss_below "$SERVER_PID" 40000
    probe relay
}

@test "half-close: a client that shuts down its sending side still gets every reply" {
    for s in listener idle signals; do
        start_target "$s"
        seq 1 20000 >"$BATS_TEST_TMPDIR/lines"
        timeout 20 nc -N 127.0.0.1 "$PORT" <"$BATS_TEST_TMPDIR/lines" >"$BATS_TEST_TMPDIR/got"
        grep -qx 20000 "$BATS_TEST_TMPDIR/got" || fail "$s: the last line did not come back"
        assert_equal "$(grep -cE '^[0-9]+$' "$BATS_TEST_TMPDIR/got")" 20000
        stop_test_processes
    done
    start_target relay
    for i in $(seq 5000); do printf 'INCR t90:half\r\n'; done >"$BATS_TEST_TMPDIR/incr"
    redis-cli -p "$REDIS_PORT" DEL t90:half >/dev/null
    timeout 20 nc -N 127.0.0.1 "$PORT" <"$BATS_TEST_TMPDIR/incr" >"$BATS_TEST_TMPDIR/got"
    assert_equal "$(tail -n 1 "$BATS_TEST_TMPDIR/got")" $':5000\r'
}

@test "a client reset in the middle of a large reply does not hurt the server" {
    head -c 4194304 /dev/zero | redis-cli -p "$REDIS_PORT" -x SET t90:big >/dev/null
    for s in listener signals relay; do
        start_target "$s"
        for _ in 1 2 3; do
            if [ "$s" = relay ]; then
                { printf 'GET t90:big\r\n'; sleep 2; } | nc 127.0.0.1 "$PORT" | head -c 1000 >/dev/null &
            else
                { seq 1 400000; sleep 2; } | nc 127.0.0.1 "$PORT" | head -c 1000 >/dev/null &
            fi
            client=$!
            sleep 0.5
            # kill the client with unread data in its socket: the kernel sends a reset
            pkill -KILL -P "$$" -x nc || true
            wait "$client" 2>/dev/null || true
        done
        kill -0 "$SERVER_PID" || fail "$s died"
        probe "$s"
        stop_test_processes
    done
}

@test "1,000 connect/close cycles leak no descriptor" {
    for s in $SERVERS; do
        start_target "$s"
        probe "$s" # let lazily opened descriptors open first
        before=$(fd_count "$SERVER_PID")
        for _ in $(seq 1000); do
            (exec 5<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || true
        done
        for _ in $(seq 100); do
            [ "$(fd_count "$SERVER_PID")" -le "$before" ] && break
            sleep 0.1
        done
        assert_equal "$s: $(fd_count "$SERVER_PID")" "$s: $before"
        stop_test_processes
    done
}

@test "clients that connect and never send do not slow down the others" {
    for s in $SERVERS; do
        start_target "$s"
        for i in $(seq 50); do
            eval "exec $((i + 9))<>/dev/tcp/127.0.0.1/$PORT"
        done
        start=$(date +%s%N)
        probe "$s"
        elapsed_ms=$((($(date +%s%N) - start) / 1000000))
        [ "$elapsed_ms" -lt 3000 ] || fail "$s: probe took $elapsed_ms ms"
        for i in $(seq 50); do eval "exec $((i + 9))<&-"; done
        stop_test_processes
    done
}

@test "out of descriptors (ulimit -n 64, 100 clients): logged, no spin, serving again later" {
    for s in $SERVERS; do
        start_target "$s" 64
        hogs=()
        for _ in $(seq 100); do
            sleep 5 | nc 127.0.0.1 "$PORT" >/dev/null 2>&1 &
            hogs+=($!)
        done
        wait_for_line "$SERVER_ERR" 'accept failed: Too many open files; pausing accepts' 10 ||
            fail "$s: no EMFILE message"
        before=$(cpu_ticks "$SERVER_PID")
        sleep 2
        after=$(cpu_ticks "$SERVER_PID")
        [ $((after - before)) -lt 50 ] || fail "$s used $((after - before)) ticks in 2 s"
        for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null || true; done
        pkill -P "$$" -x sleep || true
        for pid in "${hogs[@]}"; do wait "$pid" 2>/dev/null || true; done
        # the queue drains; then a normal client is served again
        for _ in $(seq 50); do probe "$s" 2>/dev/null && break; sleep 0.2; done
        probe "$s"
        stop_test_processes
    done
}

@test "bad command-line values: message on stderr, exit 2, never a crash" {
    for s in $SERVERS; do
        target_cmd "$s"
        prog=${TARGET[0]}
        name=$(basename "$prog")
        for args in "--port abc" "--port -1" "--port 65536" "--port" "--no-such-option" "stray"; do
            # shellcheck disable=SC2086
            run "$prog" ${TARGET[@]:1:2} $args
            assert_equal "$s $args: $status" "$s $args: 2"
            assert_line --partial "$name: "
        done
    done
    run "$(bin 04_signals/signals)" --config /no/such/file
    assert_failure 2
    assert_output --partial "signals: --config: /no/such/file: No such file or directory"
    run "$(bin 02_redis_client/redis_client)" --port 99999
    assert_failure 2
    run "$(bin 03_timers/timers)" --demo heartbeat --count -1
    assert_failure 2
}
