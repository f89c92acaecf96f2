#!/usr/bin/env bats
# exercises/6.2 — predict, then observe: Redis's `timeout` is 1 s, and three
# clients sit idle through the relay (after PING, after SUBSCRIBE, blocked in
# BLPOP). The prediction is in answer.txt, one line per client, each "open",
# "closed" (the connection ends, nothing more is read) or "error" (an -ERR line
# arrives first):
#     ping: ...
#     subscribe: ...
#     blpop: ...

load ../../tests/helpers

@test "6.2: your prediction in answer.txt matches what Redis's timeout does through the relay" {
    answer="$BATS_TEST_DIRNAME/answer.txt"
    [ -f "$answer" ] || fail "write your prediction into exercises/6.2/answer.txt first (see the chapter page)"
    for client in ping subscribe blpop; do
        grep -qE "^$client: (open|closed|error)\s*$" "$answer" ||
            fail "answer.txt needs a line '$client: open', '$client: closed' or '$client: error'"
    done
    start_redis # this test's own Redis: its timeout is changed
    start_server relay "$(bin 06_redis_relay/relay)" --port 0 --redis-port "$REDIS_PORT"
    run /usr/bin/python3 "$BATS_TEST_DIRNAME/observe.py" "$PORT" "$REDIS_PORT"
    assert_success
    observed=$output
    echo "# observed through the relay:" >&3
    sed 's/^/#   /' <<<"$observed" >&3
    for client in ping subscribe blpop; do
        predicted=$(sed -nE "s/^$client: (open|closed|error)\s*$/\1/p" "$answer")
        assert_line "$client: $predicted"
    done
}
