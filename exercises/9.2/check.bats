#!/usr/bin/env bats
# exercises/9.2 — tls_client --show-tls prints one line on stderr once the
# handshake is done and the certificate verified, before the reply:
#     tls_client: TLSv1.3 TLS_AES_256_GCM_SHA384 subject=CN = localhost
# The check compares it with what openssl s_client says about the same server.

load ../../tests/helpers
load ../../09_tls/tls

setup_file() {
    make_certs
    start_tls_redis server
}

# s_client_says FIELD: one line of openssl s_client -brief's summary
s_client_says() {
    sed -nE "s/^$1: *//p" "$BATS_FILE_TMPDIR/s_client.out" | head -n 1
}

@test "9.2: --show-tls names the protocol, cipher and subject openssl s_client sees" {
    openssl s_client -brief -connect "127.0.0.1:$TLS_PORT" -CAfile "$CERTS/ca.crt" </dev/null \
        >"$BATS_FILE_TMPDIR/s_client.out" 2>&1 || true
    proto=$(s_client_says 'Protocol version')
    cipher=$(s_client_says Ciphersuite)
    subject=$(s_client_says 'Peer certificate')
    [ -n "$proto" ] && [ -n "$cipher" ] && [ -n "$subject" ] || fail "openssl s_client said too little"
    run "$(bin 09_tls/tls_client)" --show-tls --cacert "$CERTS/ca.crt" --port "$TLS_PORT" ECHO hi
    assert_success
    assert_line --index 0 "tls_client: $proto $cipher subject=$subject"
    assert_line --index 1 '"hi"'
    # without the option: the reply alone, as before
    run "$(bin 09_tls/tls_client)" --cacert "$CERTS/ca.crt" --port "$TLS_PORT" ECHO hi
    assert_output '"hi"'
}
