#!/usr/bin/env bats
# exercises/9.3 — tls_terminator --min-tls 1.3 refuses a TLS 1.2 client (one
# log line, "unsupported protocol") and serves TLS 1.3; --min-tls 1.2 is the
# default; any other value is a usage error (exit 2).

load ../../tests/helpers
load ../../09_tls/tls

setup_file() {
    make_certs
    start_tls_redis server
}

terminator() {
    start_server tls_terminator "$(bin 09_tls/tls_terminator)" --port 0 --redis-port "$REDIS_PORT" \
        --cert "$CERTS/server.crt" --key "$CERTS/server.key" "$@"
}

s_client() { # VERSION-OPTION: a PING over s_client forced to that version
    printf 'PING\r\n' | timeout 10 openssl s_client -quiet "$1" -CAfile "$CERTS/ca.crt" \
        -connect "127.0.0.1:$PORT" 2>/dev/null | head -c 7
}

@test "9.3: --min-tls 1.3 refuses TLS 1.2, serves TLS 1.3; other values are usage errors" {
    terminator --min-tls 1.3
    assert_equal "$(s_client -tls1_3)" $'+PONG\r'
    assert_equal "$(s_client -tls1_2)" ''
    wait_for_line "$SERVER_ERR" 'TLS handshake failed: unsupported protocol' 5
    assert_equal "$(rcli_tls "$PORT" PING)" PONG
    stop_pid "$SERVER_PID"
    terminator --min-tls 1.2
    assert_equal "$(s_client -tls1_2)" $'+PONG\r'
    run "$(bin 09_tls/tls_terminator)" --port 0 --min-tls 1.1
    assert_failure 2
    assert_output --partial -- '--min-tls'
}
