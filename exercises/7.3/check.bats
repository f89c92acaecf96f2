#!/usr/bin/env bats
# exercises/7.3 — the stats line counts the bytes relayed over pinned
# connections, each way: pinned_bytes_to_redis=N pinned_bytes_to_clients=N.
# Shared traffic is not counted; the request that pinned a client is.

load ../../tests/helpers

setup_file() {
    start_redis
}

stats() { signal_for_line USR1 'stats: '; }

@test "7.3: pinned_bytes_to_redis and pinned_bytes_to_clients count exactly the pinned traffic" {
    start_server mux "$(bin 07_redis_multiplexer/mux)" --port 0 --redis-port "$REDIS_PORT"
    wait_for_line "$SERVER_OUT" '^upstream 1: connected to Redis$'
    redis-cli -p "$REDIS_PORT" DEL t73:n >/dev/null
    assert_equal "$(redis-cli -p "$PORT" SET t73:shared value)" OK # shared: not counted
    run stats
    assert_output --regexp ' pinned_bytes_to_redis=0 pinned_bytes_to_clients=0( |$)'

    # in one write: PING (shared), then SELECT pins the client; SELECT 0 and
    # ECHO hi go over its own connection: 10 + 9 bytes out, 5 + 8 back
    run nc -N 127.0.0.1 "$PORT" < <(printf 'PING\r\nSELECT 0\r\nECHO hi\r\n')
    assert_equal "$output" "$(printf '+PONG\r\n+OK\r\n$2\r\nhi\r')"
    wait_for_line "$SERVER_OUT" ': SELECT needs a connection of its own: pinned$'
    # a transaction, sent in two writes, waiting for each reply
    multi=$'*1\r\n$5\r\nMULTI\r\n'                                 # 15 bytes, +OK: 5
    incr_exec=$'*2\r\n$4\r\nINCR\r\n$5\r\nt73:n\r\n*1\r\n$4\r\nEXEC\r\n' # 39 bytes, +QUEUED and *1 :1: 17
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    printf '%s' "$multi" >&5
    read -r -t 5 reply <&5
    assert_equal "$reply" $'+OK\r'
    printf '%s' "$incr_exec" >&5
    for expected in +QUEUED '*1' :1; do
        read -r -t 5 reply <&5
        assert_equal "$reply" "$expected"$'\r'
    done
    exec 5<&-
    run stats
    assert_output --regexp " pinned_bytes_to_redis=$((10 + 9 + 15 + 39)) pinned_bytes_to_clients=$((5 + 8 + 5 + 17))( |$)"
    assert_output --regexp ' pinned_total=2 '
}
