#!/usr/bin/env bats
# exercises/8.2 — predict how many connections Redis sees from the gateway:
# during 50 keep-alive INCR clients and 3 open SUBSCRIBE streams, and after.

load ../../tests/helpers
load ../helpers

# gateway_conns: Redis's clients, minus the redis-cli asking
gateway_conns() { echo $(($(redis-cli -p "$REDIS_PORT" client list | wc -l) - 1)); }

@test "8.2: Redis connections from the gateway, during and after" {
    during=$(answer during) || return 1
    after=$(answer after) || return 1
    start_redis
    start_server gateway "$(bin 08_http_gateway/http_gateway)" --port 0 --redis-port "$REDIS_PORT"
    wait_for_line "$SERVER_OUT" 'redis link 1: connected'
    local subs=()
    for i in 1 2 3; do
        start_bg "sub$i" curl -s -N "http://127.0.0.1:$PORT/SUBSCRIBE/t82:chan$i"
        subs+=("$BG_PID")
    done
    for _ in $(seq 100); do
        [ "$(redis-cli -p "$REDIS_PORT" pubsub numsub t82:chan1 t82:chan2 t82:chan3 | paste -sd' ')" = \
            "t82:chan1 1 t82:chan2 1 t82:chan3 1" ] && break
        sleep 0.05
    done
    python3 "$WORKBOOK_ROOT/08_http_gateway/clients.py" many "$PORT" 50 20 >/dev/null
    real_during=$(gateway_conns)
    kill "${subs[@]}"
    python3 "$WORKBOOK_ROOT/08_http_gateway/clients.py" many "$PORT" 200 1 >/dev/null
    for _ in $(seq 100); do
        [ "$(gateway_conns)" -le "$after" ] && break
        sleep 0.05
    done
    real_after=$(gateway_conns)
    echo "# Redis saw $real_during connections during, $real_after after" >&3
    assert_equal "during: $during" "during: $real_during"
    assert_equal "after: $after" "after: $real_after"
}
