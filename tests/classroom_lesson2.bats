#!/usr/bin/env bats
# tests/classroom_lesson2.bats — `make demo2` plays to its end by itself
# (tests/classroom.bash's start_lesson): the notes' client PINGs, SETs and pipelines, MONITOR sees each command, redis_async answers. Every step's effect shows
# in its pane; then nothing is left behind.

load helpers
load classroom

@test "make demo2: the notes' client PINGs, SETs and pipelines; MONITOR sees each command; redis_async answers" {
    start_lesson 2 quiet 300
    wait_pane client '^recv redis message PONG$'
    wait_pane server '"SET" "workbook:greeting" "hello, class"$'
    wait_pane client2 '^"hello, class"$'
    wait_pane server '"INCR" "workbook:visits"$'
    wait_pane client '^\(integer\) 1$'
    wait_pane client2 '^GET workbook:async -> "hello from redis_async"$'
    wait_pane trace 'detect +epoll_wait: [0-9]+ ready'
    lesson_servers 0
    [ -n "$LESSON_REDIS_PID" ] # the lesson's private Redis, checked below
    played_to_the_end
    assert_all_cleaned_up
}
