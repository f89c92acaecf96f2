#!/usr/bin/env bats
# 00_why_event_loop/why.bats — chapter 0: the same behaviour checks against
# all five echo servers (one test per server and behaviour, so a failure names
# both), the iterative server's one-client-at-a-time lesson, the fork and
# thread servers' housekeeping, and the load generator's figures.

load ../tests/helpers

setup() {
    LOADGEN=$(bin tools/loadgen)
}

start_echo() { # start_echo NAME: start that server on a free port
    start_server "$1" "$(bin "00_why_event_loop/$1")" --port 0
}

# ---- the behaviours, each checked against every server below ----------------

check_echo() {
    start_echo "$1"
    run timeout 10 nc -N 127.0.0.1 "$PORT" < <(printf 'first line\nsecond line\n')
    assert_success
    assert_equal "$output" "$(printf 'first line\nsecond line')"
}

# A line split across two writes comes back whole, and not before it is whole.
check_partial_line() {
    start_echo "$1"
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'hel' >&5
    # nothing may come back for half a line
    if read -r -t 1 early <&5; then fail "echoed half a line: '$early'"; fi
    printf 'lo world\n' >&5
    read -r -t 10 line <&5
    assert_equal "$line" "hello world"
    exec 5>&-
}

# The client's FIN: what is still owed (here a line without '\n') arrives,
# then the server closes — nc -N exits only once the server has closed.
check_half_close() {
    start_echo "$1"
    run timeout 10 nc -N 127.0.0.1 "$PORT" < <(printf 'one\ntwo\nno newline at the end')
    assert_success
    assert_equal "$output" "$(printf 'one\ntwo\nno newline at the end')"
}

# B is served while A is still connected (and idle).
check_two_clients() {
    start_echo "$1"
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'from A\n' >&5
    read -r -t 10 a <&5
    assert_equal "$a" "from A"
    exec 6<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'from B\n' >&6
    read -r -t 10 b <&6
    assert_equal "$b" "from B"
    printf 'A again\n' >&5
    read -r -t 10 a <&5
    assert_equal "$a" "A again"
    exec 5>&- 6>&-
}

# 4 MB in a stream the client reads while it writes: partial writes and
# EAGAIN on the server's side, the bytes back exactly.
check_bulk() {
    start_echo "$1"
    head -c 3000000 /dev/urandom | base64 -w 76 >"$BATS_TEST_TMPDIR/sent"
    timeout 60 nc -N 127.0.0.1 "$PORT" <"$BATS_TEST_TMPDIR/sent" >"$BATS_TEST_TMPDIR/got"
    assert_equal "$(md5sum <"$BATS_TEST_TMPDIR/got")" "$(md5sum <"$BATS_TEST_TMPDIR/sent")"
}

# SIGINT with a client connected: exit 0, the client sees the close.
check_sigint() {
    start_echo "$1"
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'hi\n' >&5
    read -r -t 10 line <&5
    kill -INT "$SERVER_PID"
    wait_exit "$SERVER_PID" 10
    assert_equal "$EXIT_STATUS" 0
    grep -qx 'caught SIGINT, shutting down' "$SERVER_OUT"
    grep -qx 'served 1 connection, bye' "$SERVER_OUT"
    run timeout 5 cat <&5
    assert_success
    exec 5<&-
}

check_bad_command_lines() {
    local prog
    prog=$(bin "00_why_event_loop/$1")
    run "$prog" --bogus
    assert_failure 2
    assert_line --index 0 "$1: unknown option or missing value: '--bogus'"
    run "$prog" --port abc
    assert_failure 2
    assert_line --index 0 "$1: --port: 'abc' is not a number"
    run "$prog" --host nowhere
    assert_failure 2
    run "$prog" extra
    assert_failure 2
    run "$prog" --help
    assert_success
    assert_line --index 0 --partial "usage: $1 [--host ADDR] [--port PORT]"
}

check_port_in_use() {
    start_echo "$1"
    run "$(bin "00_why_event_loop/$1")" --port "$PORT"
    assert_failure 1
    assert_output "$1: cannot listen on 127.0.0.1:$PORT: Address already in use"
}

# ---- echo
@test "echo_iterative: lines come back" { check_echo echo_iterative; }
@test "echo_fork: lines come back" { check_echo echo_fork; }
@test "echo_threads: lines come back" { check_echo echo_threads; }
@test "echo_epoll: lines come back" { check_echo echo_epoll; }
@test "echo_libevent: lines come back" { check_echo echo_libevent; }

# ---- partial_line
@test "echo_iterative: a line split across two writes comes back whole" { check_partial_line echo_iterative; }
@test "echo_fork: a line split across two writes comes back whole" { check_partial_line echo_fork; }
@test "echo_threads: a line split across two writes comes back whole" { check_partial_line echo_threads; }
@test "echo_epoll: a line split across two writes comes back whole" { check_partial_line echo_epoll; }
@test "echo_libevent: a line split across two writes comes back whole" { check_partial_line echo_libevent; }

# ---- half_close
@test "echo_iterative: after the client's FIN the rest arrives, then the close" { check_half_close echo_iterative; }
@test "echo_fork: after the client's FIN the rest arrives, then the close" { check_half_close echo_fork; }
@test "echo_threads: after the client's FIN the rest arrives, then the close" { check_half_close echo_threads; }
@test "echo_epoll: after the client's FIN the rest arrives, then the close" { check_half_close echo_epoll; }
@test "echo_libevent: after the client's FIN the rest arrives, then the close" { check_half_close echo_libevent; }

# ---- two_clients
@test "echo_fork: a second client is served while the first stays connected" { check_two_clients echo_fork; }
@test "echo_threads: a second client is served while the first stays connected" { check_two_clients echo_threads; }
@test "echo_epoll: a second client is served while the first stays connected" { check_two_clients echo_epoll; }
@test "echo_libevent: a second client is served while the first stays connected" { check_two_clients echo_libevent; }

# ---- bulk
@test "echo_iterative: 4 MB streamed through come back byte-exact" { check_bulk echo_iterative; }
@test "echo_fork: 4 MB streamed through come back byte-exact" { check_bulk echo_fork; }
@test "echo_threads: 4 MB streamed through come back byte-exact" { check_bulk echo_threads; }
@test "echo_epoll: 4 MB streamed through come back byte-exact" { check_bulk echo_epoll; }
@test "echo_libevent: 4 MB streamed through come back byte-exact" { check_bulk echo_libevent; }

# ---- sigint
@test "echo_iterative: SIGINT with a client connected: exit 0, client sees the close" { check_sigint echo_iterative; }
@test "echo_fork: SIGINT with a client connected: exit 0, client sees the close" { check_sigint echo_fork; }
@test "echo_threads: SIGINT with a client connected: exit 0, client sees the close" { check_sigint echo_threads; }
@test "echo_epoll: SIGINT with a client connected: exit 0, client sees the close" { check_sigint echo_epoll; }
@test "echo_libevent: SIGINT with a client connected: exit 0, client sees the close" { check_sigint echo_libevent; }

# ---- bad_command_lines
@test "echo_iterative: bad command lines exit 2, --help exits 0" { check_bad_command_lines echo_iterative; }
@test "echo_fork: bad command lines exit 2, --help exits 0" { check_bad_command_lines echo_fork; }
@test "echo_threads: bad command lines exit 2, --help exits 0" { check_bad_command_lines echo_threads; }
@test "echo_epoll: bad command lines exit 2, --help exits 0" { check_bad_command_lines echo_epoll; }
@test "echo_libevent: bad command lines exit 2, --help exits 0" { check_bad_command_lines echo_libevent; }

# ---- port_in_use
@test "echo_iterative: port in use: message and exit 1" { check_port_in_use echo_iterative; }
@test "echo_fork: port in use: message and exit 1" { check_port_in_use echo_fork; }
@test "echo_threads: port in use: message and exit 1" { check_port_in_use echo_threads; }
@test "echo_epoll: port in use: message and exit 1" { check_port_in_use echo_epoll; }
@test "echo_libevent: port in use: message and exit 1" { check_port_in_use echo_libevent; }

# ---- each design's own lesson and housekeeping ------------------------------

@test "echo_iterative: the second client is served only after the first leaves" {
    start_echo echo_iterative
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'from A\n' >&5
    read -r -t 10 a <&5
    assert_equal "$a" "from A"
    exec 6<>"/dev/tcp/127.0.0.1/$PORT" # the kernel accepts it into the backlog
    printf 'from B\n' >&6
    if read -r -t 2 b <&6; then fail "B was served while A was connected: '$b'"; fi
    exec 5>&- # A leaves
    read -r -t 10 b <&6
    assert_equal "$b" "from B"
    exec 6>&-
}

# children_of PID: the pids of the process's children
children_of() { cat "/proc/$1/task/$1/children"; }

@test "echo_fork: a child per client, reaped when the client leaves (no zombie)" {
    start_echo echo_fork
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'hi\n' >&5
    read -r -t 10 line <&5
    child=$(children_of "$SERVER_PID")
    [ -n "$child" ] || fail "no child process for the client"
    exec 5>&-
    for _ in $(seq 200); do
        [ -z "$(children_of "$SERVER_PID")" ] && break
        sleep 0.05
    done
    assert_equal "$(children_of "$SERVER_PID")" ""
    run kill -0 "$child" # reaped: not even a zombie is left
    assert_failure
}

@test "echo_fork: SIGINT stops the children serving clients too" {
    start_echo echo_fork
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    exec 6<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'a\n' >&5
    printf 'b\n' >&6
    read -r -t 10 line <&5
    read -r -t 10 line <&6
    children=$(children_of "$SERVER_PID")
    assert_equal "$(wc -w <<<"$children")" 2
    kill -INT "$SERVER_PID"
    wait_exit "$SERVER_PID" 10
    assert_equal "$EXIT_STATUS" 0
    for child in $children; do
        run kill -0 "$child"
        assert_failure
    done
    exec 5>&- 6>&-
}

@test "echo_threads: a thread per client, joined when the client leaves" {
    start_echo echo_threads
    threads() { awk '/^Threads:/ { print $2 }' "/proc/$SERVER_PID/status"; }
    assert_equal "$(threads)" 1
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    exec 6<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'a\n' >&5
    printf 'b\n' >&6
    read -r -t 10 line <&5
    read -r -t 10 line <&6
    assert_equal "$(threads)" 3
    exec 5>&- 6>&-
    for _ in $(seq 200); do
        [ "$(threads)" = 1 ] && break
        sleep 0.05
    done
    assert_equal "$(threads)" 1
}

@test "echo_epoll: one thread and one descriptor per client, freed when it leaves" {
    start_echo echo_epoll
    before=$(fd_count "$SERVER_PID")
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'a\n' >&5
    read -r -t 10 line <&5
    assert_equal "$(fd_count "$SERVER_PID")" $((before + 1))
    assert_equal "$(awk '/^Threads:/ { print $2 }' "/proc/$SERVER_PID/status")" 1
    exec 5>&-
    for _ in $(seq 200); do
        [ "$(fd_count "$SERVER_PID")" = "$before" ] && break
        sleep 0.05
    done
    assert_equal "$(fd_count "$SERVER_PID")" "$before"
}

# ---- the load generator -----------------------------------------------------

@test "loadgen: 20 connections x 50 lines: 1000 requests, 0 errors" {
    start_echo echo_libevent
    run timeout 60 "$LOADGEN" --port "$PORT" --connections 20 --lines 50 --bytes 100
    assert_success
    assert_line --index 0 "20 connections x 50 lines of 100 bytes to 127.0.0.1:$PORT"
    assert_line --regexp '^requests 1000 of 1000 in [0-9.]+ s: [0-9]+ req/s$'
    assert_line --regexp '^latency ms: p50 [0-9.]+ p99 [0-9.]+ max [0-9.]+$'
    assert_line "errors 0"
}

@test "loadgen against the iterative server: the second client's first echo waits a whole session" {
    start_echo echo_iterative
    # each client: 5 lines, 200 ms apart = a session of at least 800 ms
    run timeout 60 "$LOADGEN" --port "$PORT" --connections 2 --lines 5 --think 200
    assert_success
    assert_line --regexp '^requests 10 of 10 in '
    first=$(sed -n 's/^first echo ms: max \([0-9.]*\);.*/\1/p' <<<"$output")
    session=$(sed -n 's/.*session ms: min \([0-9.]*\) .*/\1/p' <<<"$output")
    echo "# first echo waited $first ms; shortest session $session ms" >&3
    # the waiting client's first echo took about one whole session (>= 800 ms)
    awk -v f="$first" -v s="$session" 'BEGIN { exit !(f >= 700 && f >= 0.8 * s) }' ||
        fail "first echo $first ms, session $session ms"
}

@test "loadgen against the libevent server: nobody waits for another's session" {
    start_echo echo_libevent
    run timeout 60 "$LOADGEN" --port "$PORT" --connections 2 --lines 5 --think 200
    assert_success
    first=$(sed -n 's/^first echo ms: max \([0-9.]*\);.*/\1/p' <<<"$output")
    awk -v f="$first" 'BEGIN { exit !(f < 400) }' || fail "first echo took $first ms"
}

@test "loadgen: refused connections are counted as errors, exit 1" {
    port=$(free_port)
    run timeout 30 "$LOADGEN" --port "$port" --connections 3 --lines 2
    assert_failure 1
    assert_line --regexp '^requests 0 of 6 in '
    assert_line --partial "errors 3 (the first: connection "
}

@test "loadgen: --timeout bounds a run the server never answers" {
    start_echo echo_iterative
    exec 5<>"/dev/tcp/127.0.0.1/$PORT" # occupies the iterative server
    printf 'hold\n' >&5
    read -r -t 10 line <&5
    run timeout 30 "$LOADGEN" --port "$PORT" --connections 2 --lines 1 --timeout 1
    assert_failure 1
    assert_line "loadgen: timed out after 1 s with 2 connections unfinished"
    assert_line "errors 2 (the first: unfinished when the run stopped)"
    exec 5>&-
}

@test "loadgen: --pause waits for SIGUSR1 once connected and once done" {
    start_echo echo_epoll
    before=$(fd_count "$SERVER_PID")
    start_bg loadgen "$LOADGEN" --port "$PORT" --connections 5 --lines 3 --pause
    lg=$BG_PID
    wait_for_line "$BG_OUT" '^connected 5 of 5; paused: send SIGUSR1 to start$'
    # paused: 5 idle clients held by the server, no line sent yet
    for _ in $(seq 100); do
        [ "$(fd_count "$SERVER_PID")" -eq $((before + 5)) ] && break
        sleep 0.05
    done
    assert_equal "$(fd_count "$SERVER_PID")" $((before + 5))
    kill -USR1 "$lg"
    wait_for_line "$BG_OUT" '^done; paused: send SIGUSR1 to close$'
    kill -0 "$lg"
    kill -USR1 "$lg"
    wait_exit "$lg" 10
    assert_equal "$EXIT_STATUS" 0
    grep -qE '^requests 15 of 15 in [0-9.]+ s: [0-9]+ req/s$' "$BG_OUT"
    grep -qx 'errors 0' "$BG_OUT"
}

@test "loadgen: bad command lines exit 2" {
    run "$LOADGEN"
    assert_failure 2
    assert_line --index 0 "loadgen: --port is required"
    run "$LOADGEN" --port 8000 --host 192.0.2.1
    assert_failure 2
    assert_line --index 0 "loadgen: --host: 192.0.2.1 is not a loopback address (127.x.x.x)"
    run "$LOADGEN" --port 8000 --connections 0
    assert_failure 2
    assert_line --index 0 "loadgen: --connections: 0 is out of range (1 to 50000)"
    run "$LOADGEN" --port 8000 --connections 50000 --lines 1000
    assert_failure 2
    assert_line --index 0 "loadgen: --connections x --lines is 50000000; the limit is 10000000"
    run "$LOADGEN" --port 8000 --bytes 1
    assert_failure 2
    run "$LOADGEN" --bogus
    assert_failure 2
    run "$LOADGEN" --help
    assert_success
    assert_line --index 0 --partial "usage: loadgen --port PORT"
}
