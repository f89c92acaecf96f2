#!/usr/bin/env bats
# tests/classroom_lesson6.bats — `make demo6` plays to its end by itself
# (tests/classroom.bash's start_lesson): redis-cli through the relay into the lesson's private Redis; the lesson ends by itself and stops the relay and its Redis. Every step's effect shows
# in its pane; then nothing is left behind.

load helpers
load classroom

@test "make demo6: the lesson plays to its end, then the relay and its private Redis are stopped" {
    start_lesson 6 quiet 10
    local redis_port
    redis_port=$(sed -n 's/^redis_port=//p' "$STATE/env")
    lesson_servers 1
    kill -0 "$LESSON_REDIS_PID"
    # redis-cli through the relay, into the private Redis
    wait_pane client '^"hello through the relay"$'
    # the lesson ends by itself: the session goes, then everything else
    local deadline=$((SECONDS + 90))
    while tmux -L "$SOCK" has-session 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || fail "the lesson did not end in 90 s"
        sleep 0.2
    done
    assert_all_cleaned_up
    port_is_free "$redis_port" || fail "the Redis port $redis_port still accepts connections"
}
