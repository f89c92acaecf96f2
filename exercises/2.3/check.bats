#!/usr/bin/env bats
# exercises/2.3/check.bats — --pipe keeps going after an error reply (Redis
# does), prints every reply, then on stderr "redis_client: --pipe: errors: E,
# replies: R" and exits 1 when E > 0; with no errors: nothing more, exit 0.

load ../../tests/helpers
load ../helpers

setup_file() { start_redis; }

rc_pipe() {
    "$(bin 02_redis_client/redis_client)" --port "$REDIS_PORT" --pipe 2>"$BATS_TEST_TMPDIR/err"
}

@test "one error among three replies: every reply printed, the count on stderr, exit 1" {
    redis-cli -p "$REDIS_PORT" DEL ex23:k >/dev/null
    run rc_pipe < <(printf 'SET ex23:k v\nINCR ex23:k\nGET ex23:k\n')
    assert_failure 1
    assert_output "$(printf 'OK\n(error) ERR value is not an integer or out of range\n"v"')"
    assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" "redis_client: --pipe: errors: 1, replies: 3"
}

@test "1,000 commands, every other one an error: errors: 500, replies: 1000" {
    run rc_pipe < <(for i in $(seq 500); do printf 'SET ex23:n%d x\nINCR ex23:n%d\n' "$i" "$i"; done)
    assert_failure 1
    assert_equal "$(grep -c '^(error)' <<<"$output")" 500
    assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" "redis_client: --pipe: errors: 500, replies: 1000"
}

@test "no error: nothing on stderr, exit 0" {
    run rc_pipe < <(printf 'SET ex23:ok 1\nINCR ex23:ok\n')
    assert_success
    assert_output "$(printf 'OK\n(integer) 2')"
    assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" ""
}
