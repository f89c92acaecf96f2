# shellcheck shell=bash disable=SC2034,SC2154  # loaded by bats: reads its $status/$output, sets variables for the tests
# tests/bad_input.bash — what the tests/bad_input*.bats files share: how to
# start a server of tests/servers.bash and probe it, and one case_* function per
# hostile or clumsy peer, taking the server's name. The behaviours are spread
# over several .bats files only so that they run in parallel (make test runs
# files at once, tests inside a file one after another).

load servers

# start_target NAME [FD_LIMIT]: start it (under `ulimit -n FD_LIMIT` if given)
start_target() {
    server_entry "$1"
    start_server "$1" bash -c 'ulimit -n "$1" && shift && exec "$@"' _ "${2:-4096}" "${TARGET[@]}"
}

# probe NAME: a normal request to the running server gets its normal answer
probe() {
    local out len
    server_entry "$1"
    case $SERVER_PROBE in
    redis)
        out=$(printf 'PING\r\n' | timeout 10 nc -N 127.0.0.1 "$PORT")
        [ "$out" = $'+PONG\r' ] || { echo "$1: probe got '$out'" >&2; return 1; }
        ;;
    silent)
        len=$((100 + RANDOM % 900))
        head -c "$len" /dev/zero | tr '\0' 'q' | timeout 10 nc -N 127.0.0.1 "$PORT" >/dev/null
        wait_for_line "$SERVER_OUT" "read: callback [0-9]+: input $len bytes" 10
        ;;
    ping)
        out=$(printf 'PING\n' | timeout 10 nc -N 127.0.0.1 "$PORT")
        [ "$out" = PONG ] || { echo "$1: probe got '$out'" >&2; return 1; }
        ;;
    echo)
        out=$(printf 'probe line\n' | timeout 10 nc -N 127.0.0.1 "$PORT")
        grep -q '^probe line' <<<"$out" || { echo "$1: probe got '$out'" >&2; return 1; }
        ;;
    esac
}

case_garbage() { # NAME
    start_target "$1"
    head -c 1048576 /dev/urandom | timeout 20 nc -N 127.0.0.1 "$PORT" >/dev/null || true
    kill -0 "$SERVER_PID" || fail "$1 died"
    probe "$1"
}

case_huge_line() { # NAME: a line server closes with an error line; the relay passes it on
    start_target "$1"
    run bash -c "head -c 10485760 /dev/zero | tr '\\0' 'x' | timeout 20 nc 127.0.0.1 $PORT"
    if [ "$SERVER_PROBE" = redis ]; then
        assert_line --index 0 --partial "-ERR Protocol error: too big inline request"
    else
        assert_line --index 1 "error: line longer than 65536 bytes"
    fi
    assert_rss_below "$SERVER_PID" 40000
    probe "$1"
}

case_half_close() { # NAME
    start_target "$1"
    if [ "$SERVER_PROBE" = redis ]; then
        for _ in $(seq 5000); do printf 'INCR t90:half\r\n'; done >"$BATS_TEST_TMPDIR/incr"
        redis-cli -p "$REDIS_PORT" DEL t90:half >/dev/null
        timeout 20 nc -N 127.0.0.1 "$PORT" <"$BATS_TEST_TMPDIR/incr" >"$BATS_TEST_TMPDIR/got"
        assert_equal "$(tail -n 1 "$BATS_TEST_TMPDIR/got")" $':5000\r'
        return
    fi
    seq 1 20000 >"$BATS_TEST_TMPDIR/lines"
    timeout 20 nc -N 127.0.0.1 "$PORT" <"$BATS_TEST_TMPDIR/lines" >"$BATS_TEST_TMPDIR/got"
    grep -qx 20000 "$BATS_TEST_TMPDIR/got" || fail "$1: the last line did not come back"
    assert_equal "$(grep -cE '^[0-9]+$' "$BATS_TEST_TMPDIR/got")" 20000
}

# reset_mid_reply: ask for a large reply, read a little, close with the rest
# unread: the kernel answers with a reset instead of a FIN
reset_mid_reply() {
    local fd writer=
    exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
    if [ "$SERVER_PROBE" = redis ]; then
        printf 'GET t90:big\r\n' >&"$fd"
    else
        seq 1 400000 1>&"$fd" 2>/dev/null &
        writer=$!
    fi
    head -c 1000 <&"$fd" >/dev/null
    if [ -n "$writer" ]; then
        kill "$writer" 2>/dev/null || true
        wait "$writer" 2>/dev/null || true
    fi
    exec {fd}<&-
}

case_reset() { # NAME
    head -c 4194304 /dev/zero | redis-cli -p "$REDIS_PORT" -x SET t90:big >/dev/null
    start_target "$1"
    for _ in 1 2 3; do reset_mid_reply; done
    kill -0 "$SERVER_PID" || fail "$1 died"
    probe "$1"
}

case_churn() { # NAME: 1,000 connect/close cycles leak no descriptor
    start_target "$1"
    probe "$1" # let lazily opened descriptors open first
    before=$(fd_count "$SERVER_PID")
    # open and close in this shell: no process per cycle (a fork costs tens of
    # ms here); every connect must succeed, or the server did not accept it
    local i fd connected=0
    for ((i = 0; i < 1000; i++)); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" || break
        exec {fd}>&-
        connected=$((connected + 1))
    done
    assert_equal "$connected" 1000
    # the server closes its side when it sees each EOF: wait for that
    local deadline=$((SECONDS + 30))
    while [ "$(fd_count "$SERVER_PID")" -gt "$before" ] && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 0.1
    done
    assert_equal "$(fd_count "$SERVER_PID")" "$before"
}

case_silent_clients() { # NAME: 50 clients that never send do not slow the others
    start_target "$1"
    local fds=() fd
    for _ in $(seq 50); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
        fds+=("$fd")
    done
    start=$(date +%s%N)
    probe "$1"
    elapsed_ms=$((($(date +%s%N) - start) / 1000000))
    for fd in "${fds[@]}"; do exec {fd}<&-; done
    [ "$elapsed_ms" -lt 5000 ] || fail "$1: probe took $elapsed_ms ms"
}

case_emfile() { # NAME: ulimit -n 64, 100 clients: logged, no spin, serving again later
    start_target "$1" 64
    local hogs=() fd
    for _ in $(seq 100); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
        hogs+=("$fd")
    done
    wait_for_line "$SERVER_ERR" 'accept failed: Too many open files; pausing accepts' 10 ||
        fail "$1: no EMFILE message"
    before=$(cpu_ticks "$SERVER_PID")
    sleep 2
    after=$(cpu_ticks "$SERVER_PID")
    for fd in "${hogs[@]}"; do exec {fd}<&-; done
    [ $((after - before)) -lt 50 ] || fail "$1 used $((after - before)) ticks in 2 s"
    # the queue drains; then a normal client is served again
    local deadline=$((SECONDS + 20))
    until probe "$1" 2>/dev/null; do
        # past the deadline, probe once more with its error message showing
        [ "$SECONDS" -lt "$deadline" ] || { probe "$1"; return; }
        sleep 0.2
    done
}

case_bad_args() { # NAME: message on stderr naming the program, exit 2, never a crash
    server_entry "$1"
    local prog=${TARGET[0]} args
    TARGET=("${TARGET[@]:0:${#TARGET[@]}-2}") # without the --port 0 server_entry added
    for args in "--port abc" "--port -1" "--port 65536" "--port" "--no-such-option" "stray"; do
        # shellcheck disable=SC2086
        run "${TARGET[@]}" $args
        assert_equal "$args: $status" "$args: 2"
        assert_line --partial "$(basename "$prog"): "
    done
}

