#!/usr/bin/env bats
# 04_signals/signals.bats — chapter 4. Every behaviour is checked twice: with
# libevent's signal events (signals) and with the hand-made self-pipe
# (signals_raw). Each case is a function taking the mode; the @test lines
# below run both.

load ../tests/helpers

setup() {
    SIGNALS=$(bin 04_signals/signals)
    SIGNALS_RAW=$(bin 04_signals/signals_raw)
    CONFIG="$BATS_TEST_TMPDIR/server.conf"
    echo "greeting = hello" >"$CONFIG"
}

# start MODE [ARGS...]: the server with the test's config, on a free port
start() {
    local mode=$1
    shift
    local prog=$SIGNALS
    [ "$mode" = raw ] && prog=$SIGNALS_RAW
    start_server signals "$prog" --port 0 --config "$CONFIG" "$@"
}

# open_client FD: connect on fd FD and read the greeting into GREETING_READ
open_client() {
    eval "exec $1<>/dev/tcp/127.0.0.1/$PORT"
    read -r -t 5 GREETING_READ <&"$1"
}

stats_line() {
    kill -0 "$SERVER_PID" 2>/dev/null || fail "the server has exited: $(tail -n 3 "$SERVER_OUT")"
    signal_for_line USR1 'stats: '
}

# flood_backed_up: wait until the server has stopped reading a flooding client
# that never reads (its output is full: backpressure), seen in the kernel on
# the server's side: a receive queue that is not empty and stays the same for
# a second (no one reads it, the sender is blocked). How full it gets is the
# kernel's business: under TCP memory pressure (a loaded machine, the ASan
# suite) it stopped at 10 KiB. Until then the server may still empty that
# client's output, and a drain would close it like any other.
flood_backed_up() {
    local deadline=$((SECONDS + 30)) q last=-1 same=0
    while :; do
        q=$(ss -tnH state established "( sport = :$PORT )" | awk '$1 > m { m = $1 } END { print m + 0 }')
        if [ "$q" -gt 0 ] && [ "$q" -eq "$last" ]; then same=$((same + 1)); else same=0; fi
        [ "$same" -ge 5 ] && return 0
        [ "$SECONDS" -lt "$deadline" ] || fail "the flood never backed up (receive queue $q bytes)"
        last=$q
        sleep 0.2
    done
}


case_graceful() { # MODE SIGNAL
    start "$1"
    open_client 5
    open_client 6
    assert_equal "$GREETING_READ" "hello"
    kill "-$2" "$SERVER_PID"
    read -r -t 5 notice5 <&5
    read -r -t 5 notice6 <&6
    assert_equal "$notice5" "server shutting down"
    assert_equal "$notice6" "server shutting down"
    wait_exit "$SERVER_PID" 10
    assert_equal "$EXIT_STATUS" 0
    run timeout 5 cat <&5 # and then the connection is closed
    assert_success
    assert_output ""
    exec 5<&- 6<&-
    grep -q "^shutdown: caught SIG$2; telling 2 clients, waiting up to 2000 ms$" "$SERVER_OUT"
    summary=$(tail -n 1 "$SERVER_OUT")
    assert_regex "$summary" "^summary: uptime_ms=[0-9]+ clients_now=0 clients_total=2 lines_echoed=0 SIGINT=[01] SIGTERM=[01] SIGHUP=0 SIGUSR1=0$"
    assert_regex "$summary" "SIG$2=1"
}

case_second_sigint() { # MODE
    start "$1" --drain-ms 60000
    # a client that floods without reading: its output never drains
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    start_bg_to 5 flooder bash -c "exec fold -w 100 < <(head -c 16777216 /dev/zero | tr '\\0' 'x')"
    flooder=$BG_PID
    flood_backed_up
    kill -INT "$SERVER_PID"
    wait_for_line "$SERVER_OUT" '^shutdown: caught SIGINT; telling 1 client, waiting up to 60000 ms$'
    sleep 0.5
    kill -0 "$SERVER_PID" # still draining
    start=$(date +%s%N)
    kill -INT "$SERVER_PID"
    wait_exit "$SERVER_PID" 5
    elapsed_ms=$((($(date +%s%N) - start) / 1000000))
    stop_pid "$flooder"
    exec 5>&-
    assert_equal "$EXIT_STATUS" 0
    grep -qx 'shutdown: second SIGINT: exiting now' "$SERVER_OUT"
    [ "$elapsed_ms" -lt 3000 ] || fail "second SIGINT took $elapsed_ms ms"
}

case_reload() { # MODE
    start "$1"
    open_client 5
    assert_equal "$GREETING_READ" "hello"
    echo "greeting = bonjour" >"$CONFIG"
    kill -HUP "$SERVER_PID"
    wait_for_line "$SERVER_OUT" '^reload: greeting "hello" -> "bonjour"$'
    open_client 6
    assert_equal "$GREETING_READ" "bonjour"
    # the client connected before the reload still works
    echo "still echoing" >&5
    read -r -t 5 echoed <&5
    assert_equal "$echoed" "still echoing"
    exec 5<&- 6<&-
}

case_broken_reload() { # MODE
    start "$1"
    printf 'greeting = bonjour\nthis line has no equals sign\n' >"$CONFIG"
    kill -HUP "$SERVER_PID"
    wait_for_line "$SERVER_OUT" "^reload: failed: $CONFIG line 2: expected 'key = value'; keeping greeting \"hello\"$"
    rm -f "$CONFIG"
    kill -HUP "$SERVER_PID"
    wait_for_line "$SERVER_OUT" "^reload: failed: $CONFIG: No such file or directory; keeping greeting \"hello\"$"
    open_client 5
    assert_equal "$GREETING_READ" "hello"
    echo "after two bad reloads" >&5
    read -r -t 5 echoed <&5
    assert_equal "$echoed" "after two bad reloads"
    exec 5<&-
}

case_stats() { # MODE
    start "$1"
    open_client 5
    open_client 6
    printf 'a\nb\nc\n' >&5
    for _ in 1 2 3; do read -r -t 5 _ <&5; done
    exec 6<&-
    for _ in $(seq 100); do
        line=$(stats_line)
        [[ "$line" == *clients_now=1* ]] && break
    done
    assert_regex "$line" '^stats: uptime_ms=[0-9]+ clients_now=1 clients_total=2 lines_echoed=3 SIGINT=0 SIGTERM=0 SIGHUP=0 SIGUSR1=[0-9]+$'
    exec 5<&-
}

case_burst() { # MODE
    start "$1"
    for _ in $(seq 200); do kill -USR1 "$SERVER_PID"; done
    # still serving
    open_client 5
    echo "after the burst" >&5
    read -r -t 5 echoed <&5
    assert_equal "$echoed" "after the burst"
    exec 5<&-
    # every callback printed one line; bursts may merge, never multiply
    n=$(count_lines "$SERVER_OUT" '^stats: ')
    [ "$n" -ge 1 ] && [ "$n" -le 200 ] || fail "$n stats lines for 200 signals"
    kill -INT "$SERVER_PID"
    wait_exit "$SERVER_PID" 5
    assert_equal "$EXIT_STATUS" 0
    assert_regex "$(tail -n 1 "$SERVER_OUT")" "SIGUSR1=$n\$"
}

case_sigpipe() { # MODE
    start "$1" --max-line 8388608
    # A client sends one 4 MiB line and closes at once, before the echo comes
    # back. The server's first write of the echo is answered with a reset; its
    # next write then fails with EPIPE — and raises SIGPIPE, which would kill
    # a server that does not ignore it.
    for _ in 1 2 3; do
        exec 5<>"/dev/tcp/127.0.0.1/$PORT"
        read -r -t 5 _ <&5
        { head -c 4194304 /dev/zero | tr '\0' 'y'; echo; } >&5 || true
        exec 5>&-
    done
    sleep 0.5
    kill -0 "$SERVER_PID" || fail "the server died"
    open_client 6
    echo "survived" >&6
    read -r -t 5 echoed <&6
    assert_equal "$echoed" "survived"
    exec 6<&-
}

@test "SIGINT with two clients: both told, summary, exit 0" { case_graceful default INT; }
@test "signals_raw: SIGINT with two clients: both told, summary, exit 0" { case_graceful raw INT; }
@test "SIGTERM with two clients: both told, summary, exit 0" { case_graceful default TERM; }
@test "signals_raw: SIGTERM with two clients: both told, summary, exit 0" { case_graceful raw TERM; }
@test "a second SIGINT during a long drain exits at once with 0" { case_second_sigint default; }
@test "signals_raw: a second SIGINT during a long drain exits at once with 0" { case_second_sigint raw; }
@test "SIGHUP reloads: new clients get the new greeting, old ones keep working" { case_reload default; }
@test "signals_raw: SIGHUP reloads: new clients get the new greeting, old ones keep working" { case_reload raw; }
@test "SIGHUP with a broken or missing config keeps the old one and keeps serving" { case_broken_reload default; }
@test "signals_raw: SIGHUP with a broken or missing config keeps the old one and keeps serving" { case_broken_reload raw; }
@test "SIGUSR1 prints a stats line with the right counts" { case_stats default; }
@test "signals_raw: SIGUSR1 prints a stats line with the right counts" { case_stats raw; }
@test "200 rapid SIGUSR1: still serving, still stops on SIGINT with 0" { case_burst default; }
@test "signals_raw: 200 rapid SIGUSR1: still serving, still stops on SIGINT with 0" { case_burst raw; }
@test "clients that vanish mid-reply do not kill the server (SIGPIPE ignored)" { case_sigpipe default; }
@test "signals_raw: clients that vanish mid-reply do not kill the server (SIGPIPE ignored)" { case_sigpipe raw; }

@test "a line longer than --max-line: error line, closed, server fine" {
    start default --max-line 1000
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    read -r -t 5 _ <&5
    head -c 5000 /dev/zero | tr '\0' 'z' >&5
    # the server closes with our unread bytes still queued, so the kernel
    # may end the stream with a reset: only the first line matters
    run timeout 5 cat <&5
    assert_line --index 0 "error: line longer than 1000 bytes"
    exec 5<&-
    open_client 6
    assert_equal "$GREETING_READ" "hello"
    exec 6<&-
}

@test "bad command lines and a bad config at start: message and exit 2" {
    run "$SIGNALS" --config /nonexistent/server.conf
    assert_failure 2
    assert_line --index 0 "signals: --config: /nonexistent/server.conf: No such file or directory"
    echo "colour = blue" >"$CONFIG"
    run "$SIGNALS" --config "$CONFIG"
    assert_failure 2
    assert_line --index 0 "signals: --config: $CONFIG line 1: unknown key 'colour'"
    run "$SIGNALS" --drain-ms soon
    assert_failure 2
    run "$SIGNALS" --port -1
    assert_failure 2
    run "$SIGNALS" --raw
    assert_failure 2
    run "$SIGNALS" --help
    assert_success
    run "$SIGNALS_RAW" --drain-ms soon
    assert_failure 2
    assert_line --index 0 "signals_raw: --drain-ms: 'soon' is not a number"
    run "$SIGNALS_RAW" --help
    assert_success
}

@test "each program says how its signals arrive" {
    start default
    grep -qE '^signals via evsignal_new; greeting "hello"; try: kill -USR1 [0-9]+$' "$SERVER_OUT"
    start raw
    grep -qE '^signals via sigaction \+ self-pipe; greeting "hello"; try: kill -USR1 [0-9]+$' "$SERVER_OUT"
}

# The drain bug: an EMFILE pause schedules "accept again in 200 ms". If SIGINT
# starts a drain while that resume is pending, the resume must not turn
# accepting back on: the server would take in new clients while shutting down.
@test "SIGINT during an EMFILE pause: the pending resume does not reopen the door" {
    start_server signals bash -c 'ulimit -n 64 && exec "$@"' _ \
        "$SIGNALS" --port 0 --config "$CONFIG" --drain-ms 60000
    # one client whose output never drains keeps the drain going: it sends
    # lines and never reads them back, with a tiny receive buffer, until the
    # server's output for it passes 64 KiB and the server stops reading it
    start_bg flooder /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
block = (b"x" * 99 + b"\n") * 1000
try:
    while True:
        s.sendall(block)
except OSError:
    pass
time.sleep(600)' "$PORT"
    # stalled: two stats lines 0.3 s apart count the same lines echoed
    prev=-1
    for _ in $(seq 100); do
        now=$(stats_line | sed -n 's/.* lines_echoed=\([0-9]*\) .*/\1/p')
        [ "${now:-0}" -gt 0 ] && [ "$now" = "$prev" ] && break
        prev=${now:-0}
        sleep 0.3
    done
    [ "${now:-0}" -gt 0 ] && [ "$now" = "$prev" ] || fail "the server never stopped reading the flooder"
    # 100 more clients than descriptors: accept fails with EMFILE, the rest wait
    # in the listen backlog, and a resume is pending every 200 ms
    hogs=()
    for _ in $(seq 100); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
        hogs+=("$fd")
    done
    wait_for_line "$SERVER_ERR" 'accept failed: Too many open files; pausing accepts for 200 ms'
    kill -INT "$SERVER_PID"
    wait_for_line "$SERVER_OUT" '^shutdown: caught SIGINT; telling [0-9]+ clients'
    told=$(sed -n 's/^shutdown: caught SIGINT; telling \([0-9]*\) clients.*/\1/p' "$SERVER_OUT")
    [ "$told" -gt 10 ] || fail "only $told clients at SIGINT"
    # the told clients are freed after their linger (1 s); only the flooder stays
    for _ in $(seq 100); do
        kill -0 "$SERVER_PID" || fail "the server exited during the drain"
        line=$(stats_line)
        [[ "$line" == *clients_now=1\ * ]] && break
    done
    assert_regex "$line" 'clients_now=1 '
    # descriptors are free now. Proving nothing happens takes a wait: 1.5 s is
    # over seven pauses; a reopened listener would accept the backlog at once.
    sleep 1.5
    assert_regex "$(stats_line)" "^stats: uptime_ms=[0-9]+ clients_now=1 clients_total=$told "
    kill -INT "$SERVER_PID"
    wait_exit "$SERVER_PID" 5
    for fd in "${hogs[@]}"; do exec {fd}<&-; done
    assert_equal "$EXIT_STATUS" 0
}
