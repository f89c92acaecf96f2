#!/usr/bin/env bats
# tests/walkthrough_why_mux.bats — docs/00 (why an event loop) and docs/07 (the
# multiplexer), checked like docs/01-06 in walkthrough.bats: each page's
# "run it" sequence runs for real and what it prints is compared with the
# page's transcript blocks (ports, times, pids normalised; tests/walkthrough.bash).
# Its own file so it runs in parallel with the other walkthrough files.

load helpers
load walkthrough

@test "chapter 0: make chapter0 builds every program the page runs; the server's transcript; Ctrl-C ends it with 0" {
    port=$(free_port)
    dir=$BATS_TEST_TMPDIR
    cat >"$dir/make.exp" <<EOF
set timeout 60
spawn -noecho make -s --no-print-directory -C $WORKBOOK_ROOT chapter0 PORT=$port
expect "listening on"
exec sh -c "printf 'hello\\\\n' | nc -N 127.0.0.1 $port > $dir/nc.out"
send "\003"
expect eof
set r [wait]
puts "\nEXIT [lindex \$r 3]"
EOF
    pty "$dir/make.exp" || { cat "$PTY_OUT"; fail "expect failed"; }
    grep -q '^EXIT 0' "$PTY_OUT" || fail "make chapter0 did not exit 0 on Ctrl-C: $(cat "$PTY_OUT")"
    ! grep -qE 'Error|Interrupt' "$PTY_OUT" || fail "make complained: $(cat "$PTY_OUT")"
    assert_equal "$(cat "$dir/nc.out")" hello
    assert_transcript 00-why-event-loop.md chapter0-server "$PTY_OUT" "$port" 8000
    # every program the page runs after `make chapter0` is one of its prerequisites
    prereqs=$(make --no-print-directory -C "$WORKBOOK_ROOT" -pn chapter0 2>/dev/null </dev/null |
        sed -n 's/^chapter0: *//p' | tr ' ' '\n')
    for p in 00_why_event_loop/echo_iterative 00_why_event_loop/echo_fork 00_why_event_loop/echo_threads \
        00_why_event_loop/echo_epoll 00_why_event_loop/echo_libevent tools/loadgen; do
        grep -qx "build/$p" <<<"$prereqs" || fail "make chapter0 does not build $p: $prereqs"
    done
}

@test "chapter 0: 'make chapter0 2>&1 | tee log' then Ctrl-C stops the server, and tee keeps its last lines" {
    port=$(free_port)
    dir=$BATS_TEST_TMPDIR
    # bash -c: no job control of its own, so make and tee share the terminal's
    # foreground group, as they do when a student types the pipeline
    cat >"$dir/tee.exp" <<EOF
set timeout 20
spawn -noecho bash -c "make -s --no-print-directory -C $WORKBOOK_ROOT chapter0 PORT=$port 2>&1 | tee $dir/log; echo PIPE \\\${PIPESTATUS\[*\]}"
expect "listening on"
send "\003"
expect "PIPE"
expect eof
EOF
    pty "$dir/tee.exp" || { cat "$PTY_OUT"; fail "expect failed"; }
    for _ in $(seq 100); do port_is_free "$port" && break; sleep 0.05; done
    if ! port_is_free "$port"; then
        # stop the stray server (it is ours: it listens on our free port)
        pid=$(ss -ltnpH "sport = :$port" | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2)
        [ -n "$pid" ] && kill "$pid"
        fail "the server still listened on $port after Ctrl-C"
    fi
    grep -q '^served 0 connections, bye' "$dir/log" || fail "tee's log lacks the server's last line: $(cat "$dir/log")"
    grep -q 'PIPE 0 0' "$PTY_OUT" || fail "make or tee did not exit 0: $(cat "$PTY_OUT")"
}

@test "chapter 0: loadgen's report has the page's shape; echo_fork's parent (pgrep -o) has a child per client" {
    start_server echo "$(bin 00_why_event_loop/echo_libevent)" --port 0
    "$(bin tools/loadgen)" --port "$PORT" --connections 100 --lines 100 >"$BATS_TEST_TMPDIR/lg.out" 2>&1 ||
        fail "loadgen failed: $(cat "$BATS_TEST_TMPDIR/lg.out")"
    assert_transcript 00-why-event-loop.md chapter0-loadgen "$BATS_TEST_TMPDIR/lg.out" "$PORT" 8000

    start_server fork "$(bin 00_why_event_loop/echo_fork)" --port 0
    fork_pid=$SERVER_PID
    start_bg c1 bash -c "{ echo one; sleep 30; } | nc 127.0.0.1 $PORT"
    start_bg c2 bash -c "{ echo two; sleep 30; } | nc 127.0.0.1 $PORT"
    for _ in $(seq 100); do
        [ "$(ps --ppid "$fork_pid" --no-headers | wc -l)" -eq 2 ] && break
        sleep 0.05
    done
    assert_equal "$(ps --ppid "$fork_pid" --no-headers | wc -l)" 2
    # among this test's echo_fork processes the oldest is the parent, the newest a child
    assert_equal "$(pgrep -o -s 0 echo_fork)" "$fork_pid"
    refute [ "$(pgrep -n -s 0 echo_fork)" = "$fork_pid" ]
}

@test "chapter 7: the other terminal's commands and what they print, then the multiplexer's terminal with its stats line" {
    start_redis
    # the multiplexer's terminal is its stdout and stderr, in order
    start_server mux bash -c 'exec "$0" "$@" 2>&1' "$(bin 07_redis_multiplexer/mux)" \
        --port 0 --redis-port "$REDIS_PORT"
    for _ in $(seq 100); do grep -q 'upstream 1: connected' "$SERVER_OUT" && break; sleep 0.05; done
    {
        echo '$ redis-cli -p 6381 set workbook:greeting hello'
        redis-cli -p "$PORT" set workbook:greeting hello
        echo '$ redis-cli -p 6381 get workbook:greeting'
        redis-cli -p "$PORT" get workbook:greeting
        echo "\$ printf 'SET workbook:k v\\r\\nGET workbook:k\\r\\nECHO \"two words\"\\r\\n' | nc -N 127.0.0.1 6381"
        printf 'SET workbook:k v\r\nGET workbook:k\r\nECHO "two words"\r\n' | timeout 10 nc -N 127.0.0.1 "$PORT"
        echo "\$ printf 'MULTI\\r\\nSET workbook:n 1\\r\\nINCR workbook:n\\r\\nEXEC\\r\\n' | nc -N 127.0.0.1 6381"
        printf 'MULTI\r\nSET workbook:n 1\r\nINCR workbook:n\r\nEXEC\r\n' | timeout 10 nc -N 127.0.0.1 "$PORT"
        echo '$'
    } >"$BATS_TEST_TMPDIR/client.out" </dev/null
    assert_transcript 07-redis-multiplexer.md chapter7-client "$BATS_TEST_TMPDIR/client.out" "$PORT" 6381
    for _ in $(seq 50); do
        line=$(signal_for_line USR1 'stats: ')
        [[ $line == *"clients=0 "* ]] && break
        sleep 0.1
    done
    { grep -v '^stats: ' "$SERVER_OUT"; echo "$line"; } |
        sed "s/\b$REDIS_PORT\b/6379/" >"$BATS_TEST_TMPDIR/mux-terminal.out"
    assert_transcript 07-redis-multiplexer.md chapter7-mux "$BATS_TEST_TMPDIR/mux-terminal.out" "$PORT" 6381
}
