#!/usr/bin/env bats
# exercises/9.1 — predict, then observe: three Redis servers, each with one of
# make certs' bad certificates (wrong-name, untrusted, expired); redis-cli
# --tls and tls_client, both trusting build/certs' CA, try each. The
# prediction is in answer.txt, one line per pair, each "accept" or "refuse":
#     redis-cli wrong-name: ...      tls_client wrong-name: ...
#     redis-cli untrusted: ...       tls_client untrusted: ...
#     redis-cli expired: ...         tls_client expired: ...

load ../../tests/helpers
load ../helpers
load ../../09_tls/tls

@test "9.1: your prediction in answer.txt matches what redis-cli --tls and tls_client accept" {
    for client in redis-cli tls_client; do
        for cert in wrong-name untrusted expired; do
            got=$(answer "$client $cert") || return 1
            [[ $got == accept || $got == refuse ]] ||
                fail "answer.txt: '$client $cert' must be accept or refuse, not '$got'"
        done
    done
    make_certs
    for cert in wrong-name untrusted expired; do
        start_tls_redis "$cert"
        for client in redis-cli tls_client; do
            if [ $client = redis-cli ]; then
                out=$(redis-cli --tls --cacert "$CERTS/ca.crt" -p "$TLS_PORT" PING 2>&1) || true
            else
                out=$("$(bin 09_tls/tls_client)" --cacert "$CERTS/ca.crt" --port "$TLS_PORT" PING 2>&1) || true
            fi
            seen=refuse
            [ "$out" = PONG ] && seen=accept
            echo "# $client $cert: $seen ($out)" >&3
            assert_equal "$client $cert: $(answer "$client $cert")" "$client $cert: $seen"
        done
    done
}
