#!/usr/bin/env bats
# 09_tls/tls_terminator_limits.bats — chapter 9's terminator under hostile
# or unlucky conditions: bad input in the handshake (plaintext, garbage, old
# TLS versions, stalls, resets), a client that does not read, running out of
# descriptors, an unreachable Redis. Each costs one connection, with a log
# line, and no descriptor. (Its own file so it runs beside tls_terminator.bats.)

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
    # (SECLEVEL=0: OpenSSL 3.5, Debian 13, will not even offer TLS 1.1 or 1.0 without it)
    run timeout 5 openssl s_client -tls1_1 -cipher DEFAULT@SECLEVEL=0 -connect "127.0.0.1:$PORT" </dev/null
    assert_failure
    run timeout 5 openssl s_client -tls1 -cipher DEFAULT@SECLEVEL=0 -connect "127.0.0.1:$PORT" </dev/null
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
    cat >"$BATS_TEST_TMPDIR/hold.py" <<'PY'
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
    start_bg hold /usr/bin/python3 "$BATS_TEST_TMPDIR/hold.py" "$PORT" "$CERTS/ca.crt"
    holder=$BG_PID
    wait_for_line "$SERVER_ERR" 'accept failed: Too many open files; pausing accepts' 10
    wait_exit "$holder" 30
    assert_equal "$EXIT_STATUS" 0
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
