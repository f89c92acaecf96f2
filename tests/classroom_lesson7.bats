#!/usr/bin/env bats
# tests/classroom_lesson7.bats — `make demo7` plays to its end by itself
# (tests/classroom.bash's start_lesson): redis-cli and redis-benchmark through the multiplexer, one connection to Redis, every request answered. Every step's effect shows
# in its pane; then nothing is left behind.

load helpers
load classroom

@test "make demo7: redis-cli and redis-benchmark through the multiplexer; one connection to Redis; every request answered" {
    start_lesson 7 quiet 300
    wait_pane client '^"hello"$'
    lesson_servers 1
    wait_pane client2 '^SET: [0-9.]+ requests per second'
    # the multiplexer's shared connection and this redis-cli: nothing else
    wait_pane client '^connected_clients:2'
    wait_pane server '^stats: clients=0 .* in_flight=0 requests=([0-9]+) replies=\1 '
    played_to_the_end
    assert_all_cleaned_up
}
