#!/usr/bin/env bats
# 10_dns/docs.bats — chapter 10's page quotes real runs: each "what you should
# see" transcript block of docs/10-dns.md is compared with what the programs
# print now (ports and times normalised, as tests/walkthrough.bash does).

load ../tests/helpers
load ../tests/walkthrough

PAGE=10-dns.md

setup() {
    cd "$WORKBOOK_ROOT" || return 1
    SERVER=$(bin 10_dns/dns_server)
    RESOLVE=$(bin 10_dns/resolve)
}


@test "docs/10-dns.md: dig's transcript and the server's, from a real run" {
    start_server dns "$SERVER" --port 0 --zone 10_dns/workbook.zone --verbose
    out=$BATS_TEST_TMPDIR/dig.out
    {
        echo "\$ dig @127.0.0.1 -p 5310 +short redis.workbook.test"
        dig @127.0.0.1 -p "$PORT" +short redis.workbook.test
        echo "\$ dig @127.0.0.1 -p 5310 +short www.workbook.test"
        dig @127.0.0.1 -p "$PORT" +short www.workbook.test
        echo "\$ dig @127.0.0.1 -p 5310 nope.workbook.test | grep status"
        dig @127.0.0.1 -p "$PORT" nope.workbook.test | grep status | sed -E 's/id: [0-9]+/id: 4821/'
    } >"$out"
    assert_transcript "$PAGE" chapter10-dig "$out"
    wait_for_line "$SERVER_OUT" 'query nope'
    sed -E 's/(from 127\.0\.0\.1:)[0-9]+/\1PORT/' "$SERVER_OUT" >"$BATS_TEST_TMPDIR/server.out"
    # the page's client ports are examples: compare them as PORT too
    want=$(doc_block "$PAGE" chapter10-server | sed -E 's/(from 127\.0\.0\.1:)[0-9]+/\1PORT/' | normalise)
    got=$(normalise <"$BATS_TEST_TMPDIR/server.out")
    [[ $'\n'"$got"$'\n' == *$'\n'"$want"$'\n'* ]] || fail "page:
$want
real:
$got"
}

@test "docs/10-dns.md: resolve's transcript (its answers in any order) and the summary" {
    start_server dns "$SERVER" --port 0 --zone 10_dns/workbook.zone
    run "$RESOLVE" --server "127.0.0.1:$PORT" redis.workbook.test www.workbook.test nope.workbook.test
    assert_success
    # a heartbeat line may come between on a busy machine: not part of the page
    got=$(printf '%s\n' "$output" | normalise | grep -v ' ms heartbeat: ' | sort)
    want=$(doc_block "$PAGE" chapter10-resolve | normalise | sort)
    assert_equal "$got" "$want"
}

@test "docs/10-dns.md: --blocking's transcript (an excerpt) and connect_name's, against --delay 300" {
    start_redis
    start_server dns "$SERVER" --port 0 --zone 10_dns/workbook.zone --delay 300
    "$RESOLVE" --server "127.0.0.1:$PORT" --blocking redis.workbook.test www.workbook.test \
        nope.workbook.test >"$BATS_TEST_TMPDIR/blocking.out"
    assert_transcript "$PAGE" chapter10-blocking "$BATS_TEST_TMPDIR/blocking.out"
    "$(bin 10_dns/connect_name)" --server "127.0.0.1:$PORT" --redis-port "$REDIS_PORT" \
        >"$BATS_TEST_TMPDIR/connect.out"
    assert_transcript "$PAGE" chapter10-connect "$BATS_TEST_TMPDIR/connect.out" "$PORT" 5311
}
