#!/usr/bin/env bats
# exercises/7.4 — predict, then observe: client A keeps Redis busy through the
# multiplexer while client B, on the shared connection, sends PING. Does B's
# +PONG come before A's reply, or after? answer.txt, one line per scenario:
#     a: before|after     A: DEBUG SLEEP 2 on the shared connection
#     b: before|after     A: SELECT 0 (so it is pinned), then DEBUG SLEEP 2
#     c: before|after     A: BLPOP t74:q 3 (pinned), on an empty list

load ../../tests/helpers

@test "7.4: your prediction in answer.txt matches what a slow or blocking command does to the others" {
    answer="$BATS_TEST_DIRNAME/answer.txt"
    [ -f "$answer" ] || fail "write your prediction into exercises/7.4/answer.txt first (see the chapter page)"
    for scenario in a b c; do
        grep -qE "^$scenario: (before|after)\s*$" "$answer" ||
            fail "answer.txt needs a line '$scenario: before' or '$scenario: after'"
    done
    # this test's own Redis, which takes DEBUG SLEEP
    redis_port=$(free_port)
    start_bg redis redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$BATS_TEST_TMPDIR" --daemonize no --enable-debug-command yes
    wait_for_line "$BG_OUT" 'Ready to accept connections'
    start_server mux "$(bin 07_redis_multiplexer/mux)" --port 0 --redis-port "$redis_port"
    wait_for_line "$SERVER_OUT" '^upstream 1: connected to Redis$'
    run /usr/bin/python3 "$BATS_TEST_DIRNAME/observe.py" "$PORT" "$redis_port"
    assert_success
    echo "# observed:" >&3
    sed 's/^/#   /' <<<"$output" >&3
    for scenario in a b c; do
        assert_line "$(sed -nE "s/^($scenario: (before|after))\s*$/\1/p" "$answer")"
    done
}
