#!/usr/bin/env bats
# tests/bad_input.bats — every server of the workbook against hostile or
# clumsy peers: garbage, huge lines, half-closes, resets, connection churn,
# silent clients, descriptor exhaustion, and bad command lines.
#
# The servers and how to probe each are listed once, in tests/servers.bash.
# Each behaviour is a case_* function taking a server's name; each @test below
# runs one behaviour against one server, so a failure names both. The last
# test checks that every listed server has every behaviour that applies to all.

load helpers
load servers

setup_file() {
    start_redis
}

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
        seq 1 400000 >&"$fd" 2>/dev/null &
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
    for _ in $(seq 1000); do
        (exec 5<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || true
    done
    for _ in $(seq 100); do
        [ "$(fd_count "$SERVER_PID")" -le "$before" ] && break
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
    [ "$elapsed_ms" -lt 3000 ] || fail "$1: probe took $elapsed_ms ms"
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
    for _ in $(seq 50); do probe "$1" 2>/dev/null && break; sleep 0.2; done
    probe "$1"
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

@test "listener: 1 MiB of random bytes, then a normal request: still served" { case_garbage listener; }
@test "idle_server: 1 MiB of random bytes, then a normal request: still served" { case_garbage idle_server; }
@test "signals: 1 MiB of random bytes, then a normal request: still served" { case_garbage signals; }
@test "signals_raw: 1 MiB of random bytes, then a normal request: still served" { case_garbage signals_raw; }
@test "read_watermarks: 1 MiB of random bytes, then a normal request: still served" { case_garbage read_watermarks; }
@test "relay: 1 MiB of random bytes, then a normal request: still served" { case_garbage relay; }

@test "signals: a 10 MiB line: capped, closed, memory bounded, still serving" { case_huge_line signals; }
@test "signals_raw: a 10 MiB line: capped, closed, memory bounded, still serving" { case_huge_line signals_raw; }
@test "relay: a 10 MiB line: refused by Redis, memory bounded, still serving" { case_huge_line relay; }

@test "listener: half-close: every reply still arrives" { case_half_close listener; }
@test "idle_server: half-close: every reply still arrives" { case_half_close idle_server; }
@test "signals: half-close: every reply still arrives" { case_half_close signals; }
@test "signals_raw: half-close: every reply still arrives" { case_half_close signals_raw; }
@test "relay: half-close: every reply still arrives" { case_half_close relay; }

@test "listener: a client reset in the middle of a large reply does not hurt the server" { case_reset listener; }
@test "signals: a client reset in the middle of a large reply does not hurt the server" { case_reset signals; }
@test "signals_raw: a client reset in the middle of a large reply does not hurt the server" { case_reset signals_raw; }
@test "relay: a client reset in the middle of a large reply does not hurt the server" { case_reset relay; }

@test "listener: 1,000 connect/close cycles leak no descriptor" { case_churn listener; }
@test "idle_server: 1,000 connect/close cycles leak no descriptor" { case_churn idle_server; }
@test "signals: 1,000 connect/close cycles leak no descriptor" { case_churn signals; }
@test "signals_raw: 1,000 connect/close cycles leak no descriptor" { case_churn signals_raw; }
@test "read_watermarks: 1,000 connect/close cycles leak no descriptor" { case_churn read_watermarks; }
@test "relay: 1,000 connect/close cycles leak no descriptor" { case_churn relay; }

@test "listener: clients that connect and never send do not slow down the others" { case_silent_clients listener; }
@test "idle_server: clients that connect and never send do not slow down the others" { case_silent_clients idle_server; }
@test "signals: clients that connect and never send do not slow down the others" { case_silent_clients signals; }
@test "signals_raw: clients that connect and never send do not slow down the others" { case_silent_clients signals_raw; }
@test "read_watermarks: clients that connect and never send do not slow down the others" { case_silent_clients read_watermarks; }
@test "relay: clients that connect and never send do not slow down the others" { case_silent_clients relay; }

@test "listener: out of descriptors: logged, no spin, serving again later" { case_emfile listener; }
@test "idle_server: out of descriptors: logged, no spin, serving again later" { case_emfile idle_server; }
@test "signals: out of descriptors: logged, no spin, serving again later" { case_emfile signals; }
@test "signals_raw: out of descriptors: logged, no spin, serving again later" { case_emfile signals_raw; }
@test "read_watermarks: out of descriptors: logged, no spin, serving again later" { case_emfile read_watermarks; }
@test "relay: out of descriptors: logged, no spin, serving again later" { case_emfile relay; }

@test "listener: bad command-line values: message, exit 2" { case_bad_args listener; }
@test "idle_server: bad command-line values: message, exit 2" { case_bad_args idle_server; }
@test "signals: bad command-line values: message, exit 2" { case_bad_args signals; }
@test "signals_raw: bad command-line values: message, exit 2" { case_bad_args signals_raw; }
@test "read_watermarks: bad command-line values: message, exit 2" { case_bad_args read_watermarks; }
@test "relay: bad command-line values: message, exit 2" { case_bad_args relay; }

@test "the other programs: bad values exit 2 with a message" {
    run "$(bin 04_signals/signals)" --config /no/such/file
    assert_failure 2
    assert_output --partial "signals: --config: /no/such/file: No such file or directory"
    run "$(bin 02_redis_client/redis_client)" --port 99999
    assert_failure 2
    run "$(bin 03_timers/timers)" --demo heartbeat --count -1
    assert_failure 2
}

# Every behaviour that applies to all servers, as its @test names say it.
ALL_SERVER_BEHAVIOURS=(
    "1 MiB of random bytes"
    "1,000 connect/close cycles"
    "clients that connect and never send"
    "out of descriptors"
    "bad command-line values"
)

@test "every server in tests/servers.bash has a test of each behaviour above" {
    names=$(server_names)
    [ "$(wc -l <<<"$names")" -ge 6 ] || fail "only $(wc -l <<<"$names") servers listed"
    missing=()
    for name in $names; do
        for behaviour in "${ALL_SERVER_BEHAVIOURS[@]}"; do
            grep -qF "@test \"$name: $behaviour" "$BATS_TEST_FILENAME" ||
                missing+=("$name: $behaviour")
        done
    done
    assert_equal "${missing[*]-}" ""
}
