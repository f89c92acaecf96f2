#!/usr/bin/env bats
# tests/classroom_lessons2.bats — `make demo4`, `demo5` and `demo7` each play to
# their end (DEMO_AUTO=1, one second per step): every step's effect shows in its
# pane; the last screen is held until the test ends the session; then nothing
# is left behind. (See classroom_lessons1.bats.)

load helpers
load classroom

@test "make demo4: USR1 prints stats, HUP reloads the greeting a new client gets, Ctrl-C says goodbye" {
    start_lesson 4 1 300
    wait_pane client '^hello from the chapter 4 server$'
    lesson_servers 1
    wait_pane server '^stats: .* SIGUSR1=1$'
    wait_pane server '^reload: greeting "hello from the chapter 4 server" -> "bonjour"$'
    wait_pane client2 '^bonjour$'
    wait_pane_lines client '^server shutting down$' 1
    wait_pane server '^summary: .* SIGINT=1 SIGTERM=0 SIGHUP=1 SIGUSR1=1$'
    played_to_the_end
    assert_all_cleaned_up
}

@test "make demo5: 16 MiB through the relay with backpressure and without; the peak buffered tells them apart" {
    start_lesson 5 1 300
    wait_pane server 'backpressure on \(high 262144, low 65536\)'
    wait_pane server 'backpressure off \(high 262144, low 65536\)' 60
    lesson_servers 2
    wait_pane_lines server 'relay: done: 16777216 bytes relayed' 2 60
    # every byte reached the slow consumer, both times
    wait_pane_lines client '^16777216$' 2 60
    played_to_the_end
    assert_all_cleaned_up
}

@test "make demo7: redis-cli and redis-benchmark through the multiplexer; one connection to Redis; every request answered" {
    start_lesson 7 1 300
    wait_pane client '^"hello"$'
    lesson_servers 1
    wait_pane client2 '^SET: [0-9.]+ requests per second'
    # the multiplexer's shared connection and this redis-cli: nothing else
    wait_pane client '^connected_clients:2'
    wait_pane server '^stats: clients=0 .* in_flight=0 requests=([0-9]+) replies=\1 '
    played_to_the_end
    assert_all_cleaned_up
}
