#!/usr/bin/env bats
# exercises/2.2/check.bats — the default run (the notes' PING) reads its reply
# with hiredis's parser, so the printed message never carries RESP's type
# marker: "+PONG" prints PONG, and a password-protected Redis's error reply
# "-NOAUTH ..." prints "NOAUTH ...". Both against a real, private Redis.

load ../../tests/helpers
load ../helpers

setup() { RC=$(bin 02_redis_client/redis_client); }

@test "a real Redis: connect, PING, 'recv redis message PONG', exit 0" {
    start_redis
    run "$RC" --port "$REDIS_PORT"
    assert_success
    assert_output "$(printf 'connect redis success\nrecv redis message PONG')"
}

@test "a Redis that wants a password: its error reply printed without RESP's '-'" {
    redis_dir=$(mktemp -d "$BATS_TEST_TMPDIR/redis.XXXXXX")
    start_private_redis "$redis_dir" --requirepass workbook-secret
    echo "$REDIS_PID" >>"$BATS_TEST_TMPDIR/wb_pids"
    run timeout 10 "$RC" --port "$REDIS_PORT"
    assert_success
    assert_output "$(printf 'connect redis success\nrecv redis message NOAUTH Authentication required.')"
}
