#!/usr/bin/env bats
# tests/classroom_lesson11.bats — `make demo11` plays to its end by itself
# (tests/classroom.bash's start_lesson): threaded_echo's five threads and 1,000 echoed clients split
# 250 each, offload's PONG beside a sleeping job; the last
# screen is held until the test ends the session; then nothing is left behind.

load helpers
load classroom

@test "make demo11: 5 threads, 1,000 clients 250 per worker, every thread joined; PONG beside a job in the pool" {
    start_lesson 11 quiet 300
    wait_pane client '^requests 5000 of 5000 in '
    wait_pane client '^errors 0$'
    wait_pane_lines server '^thread [0-3]: 250 connections$' 4
    wait_pane server '^joined 4 worker threads$'
    wait_pane server '^joined 2 pool threads$'
    wait_pane client '^PONG$'
    wait_pane client2 '^SLEPT 3000$'
    lesson_servers 2
    wait_pane trace 'dispatch +fd [0-9]+ +read -> thread_libevent_process'
    played_to_the_end
    assert_all_cleaned_up
}
