#!/usr/bin/env bats
# exercises/6.4 — a client that resets its connection makes the relay reset
# its connection to Redis; a client that closes normally still makes it send
# a FIN. A real Redis at log level verbose says which one each connection ended
# with: "Client closed connection" for a FIN, "Reading from client: Connection
# reset by peer" for a reset.

load ../../tests/helpers

# through PORT: PING, read +PONG, then end the connection with a reset
# (SO_LINGER 0) or a plain close
ping_then() {
    /usr/bin/python3 - "$PORT" "$1" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"PING\r\n")
assert s.recv(100) == b"+PONG\r\n"
if sys.argv[2] == "reset":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
PY
}

# ends_in_log: the ends of connections Redis has logged so far, one per line
ends_in_log() {
    grep -oE 'Client closed connection|Reading from client: Connection reset by peer' "$log" || true
}

# wait_ends N: wait until Redis has logged N more ends than before the test's clients
wait_ends() {
    local deadline=$((SECONDS + 10))
    until [ "$(ends_in_log | wc -l)" -ge $((before + $1)) ]; do
        [ "$SECONDS" -lt "$deadline" ] || fail "Redis logged $(($(ends_in_log | wc -l) - before)) connection ends, expected $1"
        sleep 0.05
    done
}

@test "6.4: a client's reset reaches Redis's side as a reset, a close as a FIN" {
    redis_dir=$(mktemp -d "$BATS_TEST_TMPDIR/redis.XXXXXX")
    start_private_redis "$redis_dir" --loglevel verbose
    echo "$REDIS_PID" >>"$BATS_TEST_TMPDIR/wb_pids"
    log=$redis_dir/redis.log
    before=$(ends_in_log | wc -l) # start_private_redis's own redis-cli pings
    start_server relay "$(bin 06_redis_relay/relay)" --port 0 --redis-port "$REDIS_PORT"
    ping_then close
    wait_ends 1
    ping_then reset
    wait_ends 2
    ping_then close
    wait_ends 3
    run bash -c "tail -n +$((before + 1)) <(grep -oE 'Client closed connection|Reading from client: Connection reset by peer' '$log')"
    assert_output "$(printf 'Client closed connection\nReading from client: Connection reset by peer\nClient closed connection')"
    kill -0 "$SERVER_PID" # the relay carries on
}
