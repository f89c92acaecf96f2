#!/usr/bin/env bats
# 09_tls/tls_terminator.bats — chapter 9's terminator in front of a private
# Redis: what redis-cli --tls, python3-redis (ssl=True) and openssl s_client
# see through it is compared with what they see on Redis's own TLS port;
# close_notify, half-close, dirty shutdown; bad input costs one connection.

load ../tests/helpers
load ../exercises/helpers
load tls

setup_file() {
    make_certs
    start_tls_redis server
}

setup() {
    TERMINATOR=$(bin 09_tls/tls_terminator)
}

# start_terminator [ARGS...]: the terminator in front of this file's Redis
start_terminator() {
    start_server tls_terminator "$TERMINATOR" --port 0 --redis-port "$REDIS_PORT" \
        --cert "$CERTS/server.crt" --key "$CERTS/server.key" "$@"
}

peer() { timeout 10 "$WORKBOOK_ROOT/09_tls/tls_peer.py" "$1" "$CERTS/ca.crt" "${@:2}"; }

@test "redis-cli --tls: SET/GET and a 5 MiB value byte-exact, as on Redis's TLS port" {
    start_terminator
    run rcli_tls "$PORT" SET t09:greeting "hello through TLS"
    assert_output OK
    assert_equal "$(rcli_tls "$TLS_PORT" GET t09:greeting)" '"hello through TLS"'
    head -c 5242880 /dev/urandom >"$BATS_TEST_TMPDIR/blob"
    want=$(sha256sum <"$BATS_TEST_TMPDIR/blob" | cut -d' ' -f1)
    rcli_tls "$PORT" -x SET t09:blob <"$BATS_TEST_TMPDIR/blob" >/dev/null
    for port in "$PORT" "$TLS_PORT"; do # redis-cli --raw adds one newline
        got=$(redis-cli --tls --cacert "$CERTS/ca.crt" -p "$port" --raw GET t09:blob |
            head -c 5242880 | sha256sum | cut -d' ' -f1)
        assert_equal "$got" "$want"
    done
}

@test "QUIT: +PONG, +OK, then close_notify — byte for byte as Redis's TLS port" {
    start_terminator
    run peer "$TLS_PORT" none 'PING\r\nQUIT\r\n'
    assert_output "$(printf '%s\n' "b'+PONG\\r\\n+OK\\r\\n'" 'end: close_notify')"
    direct=$output
    run peer "$PORT" none 'PING\r\nQUIT\r\n'
    assert_output "$direct"
    # and openssl s_client, the other real TLS peer
    quit() { printf 'PING\r\nQUIT\r\n' | timeout 10 openssl s_client -quiet -CAfile "$CERTS/ca.crt" \
        -connect "127.0.0.1:$1" 2>/dev/null | od -c; }
    assert_equal "$(quit "$PORT")" "$(quit "$TLS_PORT")"
}

@test "half-close with close_notify: the replies, then our close_notify (as Redis's TLS port)" {
    start_terminator
    run peer "$TLS_PORT" close_notify 'SET t09:h v\r\nGET t09:h\r\nECHO half\r\n'
    direct=$output
    assert_output "$(printf '%s\n' "b'+OK\\r\\n\$1\\r\\nv\\r\\n\$4\\r\\nhalf\\r\\n'" 'end: close_notify')"
    run peer "$PORT" close_notify 'SET t09:h v\r\nGET t09:h\r\nECHO half\r\n'
    assert_output "$direct"
}

@test "dirty half-close (FIN, no close_notify): the same replies; then close_notify, where Redis alerts" {
    start_terminator
    run peer "$TLS_PORT" fin 'ECHO dirty\r\nPING\r\n'
    # Redis's TLS port: the replies, then OpenSSL 3's decode_error alert
    assert_output "$(printf '%s\n' "b'\$5\\r\\ndirty\\r\\n+PONG\\r\\n'" 'end: alert TLSV1_ALERT_DECODE_ERROR')"
    direct=$(head -n 1 <<<"$output")
    run peer "$PORT" fin 'ECHO dirty\r\nPING\r\n'
    assert_line --index 0 "$direct"
    assert_line --index 1 'end: close_notify'
    # no error line for it: a client may end that way
    assert_equal "$(count_lines "$SERVER_ERR" '^tls_terminator: ')" 0
}

@test "python3-redis ssl=True: pub/sub, BLPOP and QUIT behave as on Redis's TLS port" {
    start_terminator
    pubsub_blpop() {
        /usr/bin/python3 - "$1" "$CERTS/ca.crt" "$REDIS_PORT" <<'PY'
import sys, threading, time, redis
port, ca, plain = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
r = redis.Redis(port=port, ssl=True, ssl_ca_certs=ca, ssl_cert_reqs="required")
p = r.pubsub()
p.subscribe("t09:chan")
print(p.get_message(timeout=5))
# publish from a plain client once the subscription is in place
redis.Redis(port=plain).publish("t09:chan", "over tls")
print(p.get_message(timeout=5))
p.close()
r.delete("t09:q")
threading.Timer(0.2, lambda: redis.Redis(port=plain).rpush("t09:q", "job")).start()
t = time.monotonic()
print("BLPOP:", r.blpop("t09:q", timeout=5), "waited", time.monotonic() - t > 0.1)
print("PING:", r.ping())
# QUIT, then PING on the same connection: the close reaches redis-py as a
# ConnectionError (no retries: redis-py 5 and later would reconnect)
from redis.backoff import NoBackoff
from redis.retry import Retry
q = redis.Redis(port=port, ssl=True, ssl_ca_certs=ca, single_connection_client=True,
                retry=Retry(NoBackoff(), 0))
print("QUIT:", q.execute_command("QUIT"))
try:
    print("PING:", q.ping())
except redis.exceptions.ConnectionError as e:
    print("ConnectionError:", type(e).__name__)
PY
    }
    run pubsub_blpop "$TLS_PORT"
    assert_line --index 1 --partial "'data': b'over tls'"
    assert_line --index 2 "BLPOP: (b't09:q', b'job') waited True"
    assert_line --index 4 'QUIT: True'
    assert_line --index 5 --regexp '^ConnectionError: '
    refute_output --partial 'ResponseError'
    direct=$output
    run pubsub_blpop "$PORT"
    assert_output "$direct"
}

@test "bad input costs one connection, with one log line each, and no descriptor" {
    start_terminator --handshake-timeout 300
    rcli_tls "$PORT" PING >/dev/null # warm: every lazily opened fd is open
    no_clients
    fds=$(fd_count "$SERVER_PID")
    # plaintext, then garbage: each connection is closed on us, with nothing said
    for what in plain garbage; do
        exec 8<>"/dev/tcp/127.0.0.1/$PORT"
        # (garbage is 0xff bytes: random bytes starting with 0x16, a handshake
        # record, would rightly get a TLS alert back)
        if [ $what = plain ]; then printf 'PING\r\n' >&8; else head -c 4096 /dev/zero | tr '\0' '\377' >&8; fi
        timeout 5 cat <&8 >"$BATS_TEST_TMPDIR/$what" || true
        exec 8<&-
        assert_equal "$(wc -c <"$BATS_TEST_TMPDIR/$what")" 0
    done
    run timeout 5 openssl s_client -tls1_1 -connect "127.0.0.1:$PORT" </dev/null
    assert_failure
    run timeout 5 openssl s_client -tls1 -connect "127.0.0.1:$PORT" </dev/null
    assert_failure
    # a client that connects and says nothing; one that resets mid-hello
    exec 7<>"/dev/tcp/127.0.0.1/$PORT"
    wait_for_line "$SERVER_ERR" 'TLS handshake failed: timed out' 5
    exec 7<&-
    /usr/bin/python3 - "$PORT" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.send(bytes([0x16, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3]) + b"x" * 20)  # half a ClientHello
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()  # RST
PY
    wait_for_line "$SERVER_ERR" 'TLS handshake failed: Connection reset by peer' 5
    # one that stalls in the middle of its ClientHello: the timeout ends it too
    exec 7<>"/dev/tcp/127.0.0.1/$PORT"
    printf '\026\003\001\000\310\001\000\000\304\003\003' >&7
    wait_count "$SERVER_ERR" 'TLS handshake failed: timed out' 2 5
    exec 7<&-
    run cat "$SERVER_ERR"
    assert_line --regexp '^tls_terminator: 127\.0\.0\.1:[0-9]+: TLS handshake failed: (wrong version number|http request)$'
    assert_line --regexp '^tls_terminator: 127\.0\.0\.1:[0-9]+: TLS handshake failed: unsupported protocol$'
    assert_equal "$(count_lines "$SERVER_ERR" 'TLS handshake failed')" 7
    # everyone else is unaffected, and every descriptor came back
    assert_equal "$(rcli_tls "$PORT" PING)" PONG
    no_clients
    assert_equal "$(fd_count "$SERVER_PID")" "$fds"
    run stats
    assert_output --regexp 'handshakes_failed=7 '
}

stats() { signal_for_line USR1 'stats: '; }

# no_clients: wait until the terminator has let go of every connection
no_clients() {
    local line
    for _ in $(seq 100); do
        line=$(stats)
        [[ $line == *' clients_now=0 '* ]] && return 0
        sleep 0.05
    done
    fail "the terminator still holds clients: $line"
}

@test "a TLS client that does not read: the terminator holds about --high, not 64 MiB; then every byte arrives" {
    start_terminator
    head -c 1048576 /dev/urandom | rcli_tls "$PORT" -x SET t09:mib >/dev/null
    /usr/bin/python3 - "$PORT" "$CERTS/ca.crt" "$SERVER_PID" >"$BATS_TEST_TMPDIR/slow.out" <<'PY'
import socket, ssl, sys, time
port, ca, pid = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
s.sendall(b"GET t09:mib\r\n" * 64)  # 64 replies of 1 MiB, none read yet
time.sleep(1)
rss = [l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")][0].split()[1]
print("rss_kib", rss, flush=True)
want, got = 64 * (1048576 + len("$1048576\r\n\r\n")), 0
s.settimeout(10)
while got < want:
    got += len(s.recv(1 << 20))
print("bytes", got)
PY
    run cat "$BATS_TEST_TMPDIR/slow.out"
    assert_line "bytes $((64 * (1048576 + 12)))" # each reply: "$1048576\r\n", the value, "\r\n"
    rss=$(sed -n 's/^rss_kib //p' "$BATS_TEST_TMPDIR/slow.out")
    echo "# terminator RSS with 64 MiB waiting: $rss KiB" >&3
    [ -n "${WORKBOOK_SANITIZED-}" ] || [ "$rss" -lt 16384 ] || fail "RSS $rss KiB: the replies piled up in the terminator"
}

@test "out of descriptors (EMFILE): accepting pauses with a log line, then TLS clients are served again" {
    start_server tls_terminator bash -c 'ulimit -n 24; exec "$@"' _ "$TERMINATOR" --port 0 \
        --redis-port "$REDIS_PORT" --cert "$CERTS/server.crt" --key "$CERTS/server.key"
    # 12 TLS clients that stay: each costs two descriptors once its handshake is done
    /usr/bin/python3 - "$PORT" "$CERTS/ca.crt" >"$BATS_TEST_TMPDIR/hold.out" 2>&1 <<'PY' &
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
held = []
for _ in range(12):
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
        held.append(ctx.wrap_socket(s, server_hostname="localhost"))
    except (OSError, ssl.SSLError) as e:
        print("refused:", type(e).__name__, flush=True)
print("held", len(held), flush=True)
time.sleep(0.5)
PY
    holder=$!
    wait_for_line "$SERVER_ERR" 'accept failed: Too many open files; pausing accepts' 10
    wait "$holder"
    no_clients
    assert_equal "$(rcli_tls "$PORT" PING)" PONG
}

@test "Redis unreachable: the client's connection is reset, the log says why" {
    port=$(free_port)
    start_server tls_terminator "$TERMINATOR" --port 0 --redis-port "$port" \
        --cert "$CERTS/server.crt" --key "$CERTS/server.key"
    run rcli_tls "$PORT" PING
    assert_failure
    wait_for_line "$SERVER_ERR" "cannot reach Redis at 127.0.0.1:$port for 127.0.0.1:[0-9]+: Connection refused" 5
}

@test "--trace: the handshake's steps in the server's trace; SIGTERM ends it cleanly" {
    start_terminator --trace
    rcli_tls "$PORT" PING >/dev/null
    wait_for_line "$SERVER_ERR" 'handshake done: TLSv1\.3' 5
    run cat "$SERVER_ERR"
    assert_line --regexp 'tls +SSL_accept: SSLv3/TLS read client hello'
    assert_line --regexp 'tls +SSL_accept: SSLv3/TLS write server hello'
    assert_line --regexp 'dispatch +fd [0-9]+ +event -> on_client_event'
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID" 5
    assert_equal "$EXIT_STATUS" 0
    assert_equal "$(grep -c '^summary: clients_now=0 clients_total=1 ' "$SERVER_OUT")" 1
}

@test "bad usage exits 2; a missing certificate exits 1 with OpenSSL's reason" {
    run "$TERMINATOR" --port 0 --bogus
    assert_failure 2
    run "$TERMINATOR" --port 0 --cert /nonexistent --key "$CERTS/server.key"
    assert_failure 1
    assert_output --regexp '^tls_terminator: cannot load the certificate /nonexistent: '
    run "$TERMINATOR" --port 0 --cert "$CERTS/server.crt" --key "$CERTS/client.key"
    assert_failure 1
    assert_output --regexp "^tls_terminator: cannot load the key .*client.key: key values mismatch$"
}
