#!/usr/bin/env bats
# exercises/6.4 — a client that resets its connection makes the relay reset
# its connection to Redis; a client that closes normally still makes it send
# a FIN. A fake Redis reports which one each connection ended with.

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

@test "6.4: a client's reset reaches Redis's side as a reset, a close as a FIN" {
    fake_port=$(free_port)
    start_bg fake /usr/bin/python3 "$BATS_TEST_DIRNAME/fake_redis.py" "$fake_port"
    fake_out=$BG_OUT
    wait_for_line "$fake_out" '^listening$'
    start_server relay "$(bin 06_redis_relay/relay)" --port 0 --redis-port "$fake_port"
    ping_then close
    wait_for_line "$fake_out" '^connection 1: '
    ping_then reset
    wait_for_line "$fake_out" '^connection 2: '
    ping_then close
    wait_for_line "$fake_out" '^connection 3: '
    run grep '^connection' "$fake_out"
    assert_output "$(printf 'connection 1: eof\nconnection 2: reset\nconnection 3: eof')"
    kill -0 "$SERVER_PID" # the relay carries on
}
