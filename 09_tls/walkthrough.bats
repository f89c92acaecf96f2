#!/usr/bin/env bats
# 09_tls/walkthrough.bats — chapter 9's page, checked like the other pages
# (tests/walkthrough.bash): the terminator's terminal, the other terminal's
# commands and what they print, and the --trace excerpt, each compared with
# the page's transcript blocks (ports normalised).

load ../tests/helpers
load ../tests/walkthrough
load tls

@test "chapter 9: the terminator's and the client's transcripts, and the handshake in --trace" {
    make_certs
    start_tls_redis server
    start_server tls_terminator "$(bin 09_tls/tls_terminator)" --port 0 --redis-port "$REDIS_PORT" \
        --cert "$CERTS/server.crt" --key "$CERTS/server.key"
    client=$(bin 09_tls/tls_client)
    ca=build/certs/ca.crt # as the page writes it; the test's own is $CERTS/ca.crt
    {
        echo "\$ redis-cli --tls --cacert $ca -p 6391 ping"
        redis-cli --tls --cacert "$CERTS/ca.crt" -p "$PORT" ping
        echo "\$ build/09_tls/tls_client --port 6391 --cacert $ca SET workbook:tls \"hello over TLS\""
        "$client" --port "$PORT" --cacert "$CERTS/ca.crt" SET workbook:tls "hello over TLS"
        echo "\$ build/09_tls/tls_client --port 6390 --cacert $ca GET workbook:tls"
        "$client" --port "$TLS_PORT" --cacert "$CERTS/ca.crt" GET workbook:tls
        echo "\$ build/09_tls/tls_client --port 6391 --cacert $ca --servername redis.example PING"
        "$client" --port "$PORT" --cacert "$CERTS/ca.crt" --servername redis.example PING 2>&1 || true
    } | sed "s/\b$TLS_PORT\b/6390/g" >"$BATS_TEST_TMPDIR/client.out"
    assert_transcript 09-tls.md chapter9-client "$BATS_TEST_TMPDIR/client.out" "$PORT" 6391

    # OpenSSL 3.0 (Debian 12) names the alert "sslv3 alert", 3.5 (Debian 13) "ssl/tls alert"
    wait_for_line "$SERVER_ERR" 'TLS handshake failed: (sslv3|ssl/tls) alert bad certificate' 5
    sed "s/\b$REDIS_PORT\b/6389/" "$SERVER_OUT" >"$BATS_TEST_TMPDIR/terminator.out"
    assert_transcript 09-tls.md chapter9-terminator "$BATS_TEST_TMPDIR/terminator.out" "$PORT" 6391

    "$client" --trace --port "$PORT" --cacert "$CERTS/ca.crt" PING >"$BATS_TEST_TMPDIR/trace.out" 2>&1
    sed -Ei 's/fd [0-9]+/fd 6/' "$BATS_TEST_TMPDIR/trace.out"
    assert_transcript 09-tls.md chapter9-trace "$BATS_TEST_TMPDIR/trace.out"
}
