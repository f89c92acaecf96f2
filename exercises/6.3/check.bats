#!/usr/bin/env bats
# exercises/6.3 — the relay's stats line says how many replies Redis sent
# (replies_from_redis=N), exactly, while every byte still goes through
# unchanged.

load ../../tests/helpers

setup_file() {
    start_redis
}

stats() { signal_for_line USR1 'stats: '; }

@test "6.3: replies_from_redis equals the commands a pipeline sent; the bytes are unchanged" {
    start_server relay "$(bin 06_redis_relay/relay)" --port 0 --redis-port "$REDIS_PORT"
    run stats
    assert_output --regexp ' replies_from_redis=0( |$)'
    # the same pipeline straight to Redis, then through the relay: same bytes
    sent=$(/usr/bin/python3 "$BATS_TEST_DIRNAME/pipeline.py" "$REDIS_PORT" "$BATS_TEST_TMPDIR/direct" t63:direct:)
    assert_equal "$(/usr/bin/python3 "$BATS_TEST_DIRNAME/pipeline.py" "$PORT" "$BATS_TEST_TMPDIR/relayed" t63:relayed:)" "$sent"
    cmp "$BATS_TEST_TMPDIR/direct" "$BATS_TEST_TMPDIR/relayed"
    run stats
    assert_output --regexp " replies_from_redis=$sent( |$)"
    # two more clients, replies split by the client's own pace: PING, then a
    # value read back in one go
    assert_equal "$(redis-cli -p "$PORT" PING)" PONG
    run nc -N 127.0.0.1 "$PORT" < <(printf 'ECHO a\r\nQUIT\r\n')
    assert_output "$(printf '$1\r\na\r\n+OK\r')"
    run stats
    assert_output --regexp " replies_from_redis=$((sent + 3))( |$)"
}
