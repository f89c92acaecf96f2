#!/usr/bin/env bats
# 09_tls/tls_client.bats — chapter 9's verifying client against real TLS
# Redis servers: replies printed as redis-cli --tls prints them; a wrong
# name, an untrusted CA and an expired certificate each refused with
# OpenSSL's own reason (the same one `openssl s_client` gives); client
# certificates for tls-auth-clients yes.

load ../tests/helpers
load tls

setup_file() {
    make_certs
    start_tls_redis server
    GOOD_TLS_PORT=$TLS_PORT
    export GOOD_TLS_PORT
}

setup() {
    CLIENT=$(bin 09_tls/tls_client)
}

tcli() { "$CLIENT" --cacert "$CERTS/ca.crt" "$@"; }

@test "make certs: idempotent — a second run changes no file" {
    before=$(sha256sum "$CERTS"/*)
    run "$WORKBOOK_ROOT/09_tls/certs.sh" "$CERTS"
    assert_success
    assert_equal "$(sha256sum "$CERTS"/*)" "$before"
    # each certificate is what its name says (openssl's own verdicts)
    run openssl verify -CAfile "$CERTS/ca.crt" "$CERTS/server.crt" "$CERTS/client.crt"
    assert_success
    run openssl verify -CAfile "$CERTS/ca.crt" "$CERTS/expired.crt"
    assert_output --partial 'certificate has expired'
    run openssl x509 -in "$CERTS/server.crt" -noout -ext subjectAltName
    assert_output --partial 'DNS:localhost, IP Address:127.0.0.1'
}

@test "replies printed as redis-cli --tls prints them (strings, integers, nil, arrays, errors)" {
    cmds=("SET t09:k hello" "GET t09:k" "INCR t09:n" "GET t09:missing" "RPUSH t09:l a b c"
        "LRANGE t09:l 0 -1" "NOPE x")
    # the same commands on the same fresh keys, once each way
    each() {
        redis-cli -p "$REDIS_PORT" DEL t09:n t09:l >/dev/null
        # shellcheck disable=SC2086 # the words are the command's arguments
        for cmd in "${cmds[@]}"; do "$@" $cmd 2>&1; done
    }
    want=$(each rcli_tls "$GOOD_TLS_PORT")
    assert_equal "$(each tcli --port "$GOOD_TLS_PORT")" "$want"
    assert_equal "$(sed -n 7p <<<"$want")" "2) \"b\""
}

@test "the name checked is the one asked for: --host localhost (DNS) and --servername" {
    run tcli --host localhost --port "$GOOD_TLS_PORT" PING
    assert_success
    assert_output PONG
    run tcli --port "$GOOD_TLS_PORT" --servername localhost ECHO sni
    assert_output '"sni"'
    run tcli --port "$GOOD_TLS_PORT" --servername other.example PING
    assert_failure 1
    assert_output 'tls_client: cannot verify other.example: hostname mismatch'
}

# refused NAME REASON: a Redis serving NAME.crt; tls_client must stop with
# OpenSSL's REASON — the same one openssl s_client gives — and send nothing
refused() {
    start_tls_redis "$1"
    run openssl s_client -connect "127.0.0.1:$TLS_PORT" -CAfile "$CERTS/ca.crt" \
        -verify_ip 127.0.0.1 -verify_return_error </dev/null
    assert_output --regexp "verify error:num=[0-9]+:$2"
    before=$(redis-cli -p "$REDIS_PORT" INFO stats | tr -d '\r' | sed -n 's/^total_commands_processed://p')
    run tcli --port "$TLS_PORT" SET t09:should-not 1
    assert_failure 1
    assert_output "tls_client: cannot verify 127.0.0.1: $2"
    after=$(redis-cli -p "$REDIS_PORT" INFO stats | tr -d '\r' | sed -n 's/^total_commands_processed://p')
    assert_equal "$after" "$((before + 1))" # only our own INFO
}

@test "a certificate for another name is refused: IP address mismatch (redis-cli 7.0 accepts it)" {
    refused wrong-name 'IP address mismatch'
    # the host-name trap: redis-cli checks the chain only
    run rcli_tls "$TLS_PORT" PING
    assert_output PONG
}

@test "a certificate from another CA is refused: unable to get local issuer certificate" {
    refused untrusted 'unable to get local issuer certificate'
}

@test "an expired certificate is refused: certificate has expired" {
    refused expired 'certificate has expired'
}

@test "tls-auth-clients yes: refused without --cert, served with it" {
    start_tls_redis server --tls-auth-clients yes
    run tcli --port "$TLS_PORT" PING
    assert_failure 1
    # Redis sends its alert and closes; our PING, already on its way, may
    # meet the closed socket first and bring a reset instead, reported
    # before or after the handshake (OpenSSL 3.5 words the late one
    # "error:80000068:system library::Connection reset by peer")
    assert_output --regexp "^tls_client: (127.0.0.1:$TLS_PORT ended the connection: .*(certificate required|Connection reset by peer)|connection to 127.0.0.1:$TLS_PORT failed: Connection reset by peer)$"
    run tcli --port "$TLS_PORT" --cert "$CERTS/client.crt" --key "$CERTS/client.key" PING
    assert_success
    assert_output PONG
}

@test "bad usage exits 2, a missing CA file exits 1 with the reason" {
    run "$CLIENT" --cert "$CERTS/client.crt" PING
    assert_failure 2
    assert_output --partial '--cert and --key go together'
    run "$CLIENT" --cacert /nonexistent --port "$GOOD_TLS_PORT"
    assert_failure 1
    assert_output --regexp '^tls_client: cannot load the CA certificates /nonexistent: '
}

@test "--trace: the handshake's steps between the loop's, before the command's reply" {
    run tcli --trace --port "$GOOD_TLS_PORT" PING
    assert_success
    assert_line --regexp 'tls +SSL_connect: SSLv3/TLS write client hello'
    assert_line --regexp 'tls +handshake done: TLSv1\.3'
    assert_line --regexp 'dispatch +fd [0-9]+ +event -> on_event'
    assert_line PONG
}
