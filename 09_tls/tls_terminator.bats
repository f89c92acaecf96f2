#!/usr/bin/env bats
# 09_tls/tls_terminator.bats — chapter 9's terminator in front of a private
# Redis: what redis-cli --tls, python3-redis (ssl=True) and openssl s_client
# see through it is compared with what they see on Redis's own TLS port;
# close_notify, half-close, dirty shutdown, --trace, usage. Hostile clients:
# tls_terminator_limits.bats.

load ../tests/helpers
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
    # Redis 7 (Debian 12) ends with close_notify here, Redis 8 with OpenSSL 3.5
    # (Debian 13) with a bare FIN: the replies must be Redis's, and our end is
    # always a close_notify (what TLS asks of a clean close)
    run peer "$TLS_PORT" close_notify 'SET t09:h v\r\nGET t09:h\r\nECHO half\r\n'
    assert_line --index 0 "b'+OK\\r\\n\$1\\r\\nv\\r\\n\$4\\r\\nhalf\\r\\n'"
    direct=${lines[0]}
    run peer "$PORT" close_notify 'SET t09:h v\r\nGET t09:h\r\nECHO half\r\n'
    assert_output "$(printf '%s\n' "$direct" 'end: close_notify')"
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
