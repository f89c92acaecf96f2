#!/usr/bin/env bats
# 01_listener/listener.bats — chapter 1: the listener accepts, greets, echoes,
# survives bad peers and descriptor exhaustion, and shuts down cleanly.

load ../tests/helpers

GREETING="hello from the chapter 1 listener: type a line and it comes back"

setup() {
    LISTENER=$(bin 01_listener/listener)
}

@test "prints 'listening on' with the real port, then 'recv a connection from' with the client's port" {
    start_server listener "$LISTENER" --port 0
    client_port=$(free_port)
    run nc -N -p "$client_port" 127.0.0.1 "$PORT" </dev/null
    assert_success
    wait_for_line "$SERVER_OUT" "^recv a connection from 127\.0\.0\.1:$client_port\$"
    wait_for_line "$SERVER_OUT" "^connection from 127\.0\.0\.1:$client_port closed\$"
}

@test "nc: greeting, then every line comes back" {
    start_server listener "$LISTENER" --port 0
    run nc -N 127.0.0.1 "$PORT" < <(printf 'first line\nsecond line\n')
    assert_success
    assert_equal "$output" "$(printf '%s\r\nfirst line\nsecond line' "$GREETING")"
}

@test "telnet (driven by expect): greeting and echo round trip" {
    start_server listener "$LISTENER" --port 0
    run telnet_expect "$PORT" '
want {type a line and it comes back}
send "hello from telnet\r"
want {hello from telnet\r\n}
send "second line\r"
want {second line\r\n}
'
    assert_success
    wait_for_line "$SERVER_OUT" '^recv a connection from 127\.0\.0\.1:[0-9]+$'
}

@test "100 concurrent clients are all accepted and echoed" {
    start_server listener "$LISTENER" --port 0
    # all 100 connections are held open at once by this shell (no process per
    # client: a fork costs tens of ms here), so all 100 overlap
    fds=()
    for i in $(seq 100); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
        fds+=("$fd")
    done
    for i in $(seq 100); do printf 'client %d\n' "$i" >&"${fds[i - 1]}"; done
    echoed=0
    for i in $(seq 100); do
        fd=${fds[i - 1]}
        greeting='' line=''
        read -r -t 20 -u "$fd" greeting || fail "client $i: no greeting"
        read -r -t 20 -u "$fd" line || fail "client $i: no echo (greeting: '$greeting')"
        assert_equal "$greeting" "$GREETING"$'\r'
        assert_equal "$line" "client $i"
        echoed=$((echoed + 1))
    done
    for fd in "${fds[@]}"; do exec {fd}>&-; done
    assert_equal "$echoed" 100
    assert_equal "$(count_lines "$SERVER_OUT" '^recv a connection from 127\.0\.0\.1:[0-9]+$')" 100
    # 100 distinct client ports
    assert_equal "$(sed -n 's/^recv a connection from //p' "$SERVER_OUT" | sort -u | wc -l)" 100
}

@test "port in use: clear message and exit 1" {
    start_server listener "$LISTENER" --port 0
    run "$LISTENER" --port "$PORT"
    assert_failure 1
    assert_output "listener: cannot listen on 127.0.0.1:$PORT: Address already in use"
}

@test "--help prints usage and exits 0" {
    run "$LISTENER" --help
    assert_success
    assert_line --index 0 --partial "usage: listener [--host ADDR] [--port PORT]"
}

@test "bad command lines exit 2 with a message" {
    run "$LISTENER" --bogus
    assert_failure 2
    assert_line --index 0 "listener: unknown option or missing value: '--bogus'"
    run "$LISTENER" --port abc
    assert_failure 2
    assert_line --index 0 "listener: --port: 'abc' is not a number"
    run "$LISTENER" --port 70000
    assert_failure 2
    assert_line --index 0 "listener: --port: 70000 is out of range (0 to 65535)"
    run "$LISTENER" --port -1
    assert_failure 2
    run "$LISTENER" --host not.an.address
    assert_failure 2
    assert_line --index 0 "listener: --host: 'not.an.address' is not an IPv4 address"
    run "$LISTENER" extra
    assert_failure 2
}

@test "binds 127.0.0.1 by default; --host 0.0.0.0 is explicit" {
    start_server listener "$LISTENER" --port 0
    assert_equal "$(sed -n 2p "$SERVER_OUT")" "listening on 127.0.0.1:$PORT"
    start_server wide "$LISTENER" --host 0.0.0.0 --port 0
    assert_equal "$(sed -n 2p "$SERVER_OUT")" "listening on 0.0.0.0:$PORT"
}

@test "SIGINT ends the loop: connections closed, summary printed, exit 0" {
    start_server listener "$LISTENER" --port 0
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    read -r -t 5 greeting <&5
    assert_equal "$greeting" "$GREETING"$'\r'
    kill -INT "$SERVER_PID"
    wait_exit "$SERVER_PID" 5
    assert_equal "$EXIT_STATUS" 0
    assert_equal "$(tail -n 3 "$SERVER_OUT" | head -n 1)" "caught SIGINT, shutting down"
    assert_equal "$(tail -n 1 "$SERVER_OUT")" "served 1 connection, bye"
    grep -q '^connection from .* closed$' "$SERVER_OUT"
    # the client sees the end of the stream: the server closed its socket
    run timeout 5 cat <&5
    assert_success
    exec 5<&-
}

@test "SIGTERM also shuts down with exit 0" {
    start_server listener "$LISTENER" --port 0
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID" 5
    assert_equal "$EXIT_STATUS" 0
    grep -qx "caught SIGTERM, shutting down" "$SERVER_OUT"
}

@test "a client that sends 1 MiB and disconnects mid-echo does not crash or wedge the server" {
    start_server listener "$LISTENER" --port 0
    # head takes 1000 bytes of the echo and exits; nc then dies mid-transfer
    head -c 1048576 /dev/urandom | nc 127.0.0.1 "$PORT" | head -c 1000 >/dev/null || true
    kill -0 "$SERVER_PID"
    run nc -N 127.0.0.1 "$PORT" < <(printf 'after the flood\n')
    assert_success
    assert_line "after the flood"
    wait_for_line "$SERVER_OUT" '^connection from .* closed$'
}

@test "a peer that never reads cannot make the server buffer without bound" {
    start_server listener "$LISTENER" --port 0
    # a client that only writes: 32 MiB in, not one byte of the echo read
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    start_bg_to 5 writer head -c 33554432 /dev/zero
    writer=$BG_PID
    sleep 2
    # without backpressure the server would hold most of the 32 MiB
    assert_rss_below "$SERVER_PID" 20000
    stop_pid "$writer"
    exec 5>&-
    kill -0 "$SERVER_PID"
}

@test "1,000 connect/close cycles leak no descriptor" {
    start_server listener "$LISTENER" --port 0
    before=$(fd_count "$SERVER_PID")
    # open and close in this shell: no process per cycle
    connected=0
    for ((i = 0; i < 1000; i++)); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" || break
        exec {fd}>&-
        connected=$((connected + 1))
    done
    assert_equal "$connected" 1000
    # the server closes each connection when it sees the EOF: wait for that
    deadline=$((SECONDS + 30))
    while [ "$(count_lines "$SERVER_OUT" ' closed$')" -lt 1000 ] && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 0.1
    done
    assert_equal "$(count_lines "$SERVER_OUT" '^recv a connection from ')" 1000
    assert_equal "$(count_lines "$SERVER_OUT" ' closed$')" 1000
    assert_equal "$(fd_count "$SERVER_PID")" "$before"
}

@test "out of descriptors (EMFILE): logs it, does not spin, serves again later" {
    start_server listener bash -c "ulimit -n 32 && exec '$LISTENER' --port 0"
    # 40 clients held open by this shell: more than the server's descriptors
    hogs=()
    for _ in $(seq 40); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
        hogs+=("$fd")
    done
    wait_for_line "$SERVER_ERR" 'accept failed: Too many open files; pausing accepts' 10
    ticks_before=$(cpu_ticks "$SERVER_PID")
    sleep 2
    ticks_after=$(cpu_ticks "$SERVER_PID")
    for fd in "${hogs[@]}"; do exec {fd}<&-; done
    # a spinning server burns ~200 ticks in 2 s; a paused one almost none
    [ $((ticks_after - ticks_before)) -lt 50 ] ||
        fail "server used $((ticks_after - ticks_before)) ticks of CPU in 2 s while out of fds"
    # the backlog drains and a new client is served again
    run timeout 10 nc -N 127.0.0.1 "$PORT" < <(printf 'served again\n')
    assert_success
    assert_line "served again"
}
