#!/usr/bin/env bats
# exercises/2.2/check.bats — the default run (the notes' PING) reads its reply
# with hiredis's parser, so any reply type prints "recv redis message PONG".

load ../../tests/helpers
load ../helpers

setup() { RC=$(bin 02_redis_client/redis_client); }

@test "a real Redis: connect, PING, 'recv redis message PONG', exit 0" {
    start_redis
    run "$RC" --port "$REDIS_PORT"
    assert_success
    assert_output "$(printf 'connect redis success\nrecv redis message PONG')"
}

@test "PONG as a bulk string (\$4 CR LF PONG CR LF): still 'recv redis message PONG'" {
    start_server fake /usr/bin/python3 "$BATS_TEST_DIRNAME/fake_redis.py" bulk
    run timeout 10 "$RC" --port "$PORT"
    assert_success
    assert_output "$(printf 'connect redis success\nrecv redis message PONG')"
}

@test "+PONG in two pieces 300 ms apart: one reply, printed once" {
    start_server fake /usr/bin/python3 "$BATS_TEST_DIRNAME/fake_redis.py" split
    run timeout 10 "$RC" --port "$PORT"
    assert_success
    assert_output "$(printf 'connect redis success\nrecv redis message PONG')"
}
