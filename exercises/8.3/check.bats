#!/usr/bin/env bats
# exercises/8.3 — SIGUSR1 prints "denied: NAME=N ..." after the stats line:
# each refused command name, upper case, in the order first seen.

load ../../tests/helpers

@test "8.3: the refused commands, counted by name" {
    start_redis
    start_server gateway "$(bin 08_http_gateway/http_gateway)" --port 0 --redis-port "$REDIS_PORT"
    u=http://127.0.0.1:$PORT
    for path in /FLUSHALL /CONFIG/GET/maxmemory /flushall / /PING /Multi /GET/x; do
        curl -s -o /dev/null "$u$path"
    done
    run signal_for_line USR1 'denied: '
    assert_output 'denied: FLUSHALL=2 CONFIG=1 (none)=1 MULTI=1'
    assert_equal "$(redis-cli -p "$REDIS_PORT" dbsize)" 0
}
