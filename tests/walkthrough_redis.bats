#!/usr/bin/env bats
# tests/walkthrough_redis.bats — chapter 2's page and `make redis`, checked
# like the pages in tests/walkthrough.bats: the page's commands one by one, and
# make redis beside someone else's Redis. The shared helpers are in
# tests/walkthrough.bash.

load helpers
load walkthrough

@test "chapter 2: make redis, make chapter2 and the page's commands, as the transcript shows" {
    export WORKBOOK_REDIS_STATE=$BATS_TEST_TMPDIR/redis
    port=$(free_port)
    export WORKBOOK_REDIS_DEFAULT_PORT=$port # stands in for 6379 on a shared machine
    out=$BATS_TEST_TMPDIR/transcript
    n=0
    # run each "$ command" line of the block, the way the page writes it
    while IFS= read -r line; do
        cmd=${line#\$ }
        [ "$cmd" != "$line" ] || continue
        n=$((n + 1))
        echo "$line" >>"$out"
        real=$cmd
        case $cmd in
            make\ *) real="make -s --no-print-directory -C $WORKBOOK_ROOT ${cmd#make }" ;;
            # "a port where no Redis runs": on a shared machine 6390 may be taken, so a free one
            *02_redis_client/*--port\ 6390*) closed=$(free_port); real=${cmd//6390/$closed} ;;
            *02_redis_client/*) real=$(sed -E "s#(build/)?(02_redis_client/[a-z_]+)#$WORKBOOK_BIN/\\2 --port $port#" <<<"$cmd") ;;
        esac
        (cd "$WORKBOOK_ROOT" && eval "$real") >>"$out" 2>&1 || true
    done < <(doc_block 02-redis-client.md chapter2)
    make -s -C "$WORKBOOK_ROOT" redis-stop >/dev/null 2>&1
    [ "$n" -ge 6 ]
    sed -i -E "s/\\b$port\\b/6379/g; s/\\b${closed:-6390}\\b/6390/g; s#$WORKBOOK_BIN/#build/#g; s#$WORKBOOK_REDIS_STATE/#build/redis/#g" "$out"
    assert_transcript 02-redis-client.md chapter2 "$out"
}

@test "make redis leaves someone else's Redis alone, starts ours on another port and says how to use it" {
    start_redis # "someone else's" Redis, on the port the test makes the default
    export WORKBOOK_REDIS_STATE=$BATS_TEST_TMPDIR/state WORKBOOK_REDIS_DEFAULT_PORT=$REDIS_PORT
    foreign=$REDIS_PORT
    unset REDIS_PORT
    run make -s --no-print-directory -C "$WORKBOOK_ROOT" redis
    assert_success
    assert_output --partial "another Redis (not ours) answers on $foreign: the demos will not write into it"
    ours=$(cat "$WORKBOOK_REDIS_STATE/port")
    [ "$ours" != "$foreign" ]
    assert_output --partial "REDIS_PORT=$ours"
    assert_output --partial "add --port $ours"
    # make chapter2 without REDIS_PORT uses ours, not the foreign one
    run make -s --no-print-directory -C "$WORKBOOK_ROOT" chapter2
    assert_success
    assert_line "== the notes' program, bugs fixed: build/02_redis_client/ev_connectfd $ours"
    assert_equal "$(redis-cli -p "$foreign" dbsize)" 0
    # a second make redis finds ours running; make redis-stop stops it
    run make -s --no-print-directory -C "$WORKBOOK_ROOT" redis
    assert_output --partial "our private Redis is running on 127.0.0.1:$ours"
    pid=$(cat "$WORKBOOK_REDIS_STATE/redis.pid")
    run make -s --no-print-directory -C "$WORKBOOK_ROOT" redis-stop
    assert_success
    run kill -0 "$pid"
    assert_failure # the Redis it started is gone
    [ "$(redis-cli -p "$foreign" ping)" = PONG ]
}
