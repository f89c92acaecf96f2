#!/usr/bin/env bats
# exercises/7.2 — predict, then observe: the multiplexer's stats count the
# requests it sent over its shared connection and the writes that carried
# them. For three scenarios, each on a fresh multiplexer, answer.txt predicts
# both numbers:
#     a: requests=N writes=N     redis-cli -r 100 PING
#     b: requests=N writes=N     one client sends 100 PINGs (RESP, as libraries do) in one write
#     c: requests=N writes=N     one client sends PING, MULTI, INCR, EXEC, PING (inline) in one write

load ../../tests/helpers

setup_file() {
    start_redis
}

# observe NAME CLIENT...: a fresh multiplexer, run CLIENT against it, print
# "NAME: requests=N writes=N" from the stats that follow
observe() {
    local name=$1
    shift
    start_server "mux-$name" "$(bin 07_redis_multiplexer/mux)" --port 0 --redis-port "$REDIS_PORT"
    wait_for_line "$SERVER_OUT" '^upstream 1: connected to Redis$'
    "$@" "$PORT" >"$BATS_TEST_TMPDIR/$name.replies" || return 1
    signal_for_line USR1 'stats: ' |
        sed -nE "s/.* requests=([0-9]+) .* upstream_writes=([0-9]+) .*/$name: requests=\1 writes=\2/p"
}

one_by_one() { redis-cli -p "$1" -r 100 PING; }

# in_one_write PORT BYTES REPLY_BYTES: send BYTES in one write, read until
# REPLY_BYTES bytes of replies came back, print them, close
in_one_write() {
    /usr/bin/python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(sys.argv[2].encode())
got = b""
while len(got) < int(sys.argv[3]):
    chunk = s.recv(4096)
    if not chunk:
        break
    got += chunk
sys.stdout.buffer.write(got)' "$@"
}
pings() {
    local bytes=
    for _ in $(seq 100); do bytes+=$'*1\r\n$4\r\nPING\r\n'; done
    in_one_write "$1" "$bytes" 700
}
transaction() { in_one_write "$1" $'PING\r\nMULTI\r\nINCR t72:n\r\nEXEC\r\nPING\r\n' 36; }

@test "7.2: your prediction in answer.txt matches the multiplexer's own count of requests and writes" {
    answer="$BATS_TEST_DIRNAME/answer.txt"
    [ -f "$answer" ] || fail "write your prediction into exercises/7.2/answer.txt first (see the chapter page)"
    for scenario in a b c; do
        grep -qE "^$scenario: requests=[0-9]+ writes=[0-9]+\s*$" "$answer" ||
            fail "answer.txt needs a line '$scenario: requests=N writes=N'"
    done
    {
        observe a one_by_one
        observe b pings
        observe c transaction
    } >"$BATS_TEST_TMPDIR/observed"
    echo "# observed:" >&3
    sed 's/^/#   /' "$BATS_TEST_TMPDIR/observed" >&3
    # every client got every reply (the counts are about a run that worked)
    assert_equal "$(grep -c PONG "$BATS_TEST_TMPDIR/a.replies")" 100
    assert_equal "$(grep -c PONG "$BATS_TEST_TMPDIR/b.replies")" 100
    assert_equal "$(tr -d '\r' <"$BATS_TEST_TMPDIR/c.replies" | tr '\n' ' ')" \
        '+PONG +OK +QUEUED *1 :1 +PONG '
    run cat "$BATS_TEST_TMPDIR/observed"
    for scenario in a b c; do
        assert_line "$(sed -nE "s/^($scenario: requests=[0-9]+ writes=[0-9]+)\s*$/\1/p" "$answer")"
    done
}
