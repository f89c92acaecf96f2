#!/usr/bin/env bats
# exercises/10.3 — resolve --give-up-after MS: lookups still pending after MS
# are cancelled (evdns_getaddrinfo_cancel), printed, counted; exit 1.

load ../../tests/helpers

ZONE=$BATS_TEST_DIRNAME/../../10_dns/workbook.zone

@test "10.3: --give-up-after 300 against --delay 2000: three 'gave up' lines, gave_up=3, exit 1, well before the answers" {
    start_server dns "$(bin 10_dns/dns_server)" --port 0 --zone "$ZONE" --delay 2000
    start=$(date +%s%N)
    run "$(bin 10_dns/resolve)" --server "127.0.0.1:$PORT" --give-up-after 300 \
        redis.workbook.test www.workbook.test nope.workbook.test
    ms=$((($(date +%s%N) - start) / 1000000))
    assert_failure 1
    [ "$ms" -lt 1500 ] || fail "resolve took $ms ms"
    for name in redis.workbook.test www.workbook.test nope.workbook.test; do
        assert_line --regexp "^ *[0-9.]+ ms  $name: gave up after 300 ms$"
    done
    assert_line --regexp '^summary: mode=concurrent names=3 answers=0 nxdomain=0 failed=0 timeouts=0 wall_ms=[0-9.]+ heartbeat_worst_late_ms=[0-9.]+ gave_up=3$'
    refute_output --partial 'ERROR: AddressSanitizer'
}

@test "10.3: with a fast server nothing is given up: gave_up=0, exit 0; without the option the summary is as before" {
    start_server dns "$(bin 10_dns/dns_server)" --port 0 --zone "$ZONE"
    run "$(bin 10_dns/resolve)" --server "127.0.0.1:$PORT" --give-up-after 300 redis.workbook.test nope.workbook.test
    assert_success
    assert_line --regexp ' answers=1 nxdomain=1 failed=0 timeouts=0 .* gave_up=0$'
    run "$(bin 10_dns/resolve)" --server "127.0.0.1:$PORT" redis.workbook.test
    assert_success
    assert_line --regexp ' heartbeat_worst_late_ms=[0-9.]+$'
    run "$(bin 10_dns/resolve)" --server "127.0.0.1:$PORT" --give-up-after 0 redis.workbook.test
    assert_failure 2
}
