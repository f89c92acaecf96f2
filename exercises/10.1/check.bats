#!/usr/bin/env bats
# exercises/10.1 — dns_server --ttl SECONDS: every record it sends carries
# that TTL (dig shows it), 60 without the option, a bad value exits 2.

load ../../tests/helpers

ZONE=$BATS_TEST_DIRNAME/../../10_dns/workbook.zone

answers() { dig @127.0.0.1 -p "$PORT" +tries=1 +time=2 +noall +answer "$@"; }

@test "10.1: --ttl 5 puts 5 in every record, CNAME included; the default stays 60" {
    start_server dns "$(bin 10_dns/dns_server)" --port 0 --zone "$ZONE" --ttl 5
    run answers www.workbook.test
    assert_output "$(printf '%s\n' \
        $'www.workbook.test.\t5\tIN\tCNAME\tweb.workbook.test.' \
        $'web.workbook.test.\t5\tIN\tA\t127.0.0.2' \
        $'web.workbook.test.\t5\tIN\tA\t127.0.0.3')"
    run answers AAAA v6.workbook.test
    assert_output $'v6.workbook.test.\t5\tIN\tAAAA\t::1'
    start_server dns60 "$(bin 10_dns/dns_server)" --port 0 --zone "$ZONE"
    run answers redis.workbook.test
    assert_output $'redis.workbook.test.\t60\tIN\tA\t127.0.0.1'
    start_server dns0 "$(bin 10_dns/dns_server)" --port 0 --zone "$ZONE" --ttl 0
    run answers redis.workbook.test
    assert_output $'redis.workbook.test.\t0\tIN\tA\t127.0.0.1'
}

@test "10.1: --ttl that is not 0 to 86400 is a usage error (exit 2)" {
    for bad in -1 86401 abc ''; do
        run "$(bin 10_dns/dns_server)" --port 0 --zone "$ZONE" --ttl "$bad"
        assert_equal "--ttl '$bad': exit $status" "--ttl '$bad': exit 2"
        assert_output --partial 'dns_server: --ttl'
    done
}
