#!/usr/bin/env bats
# tests/classroom_lessons1.bats — `make demo0`, `demo2` and `demo3` each play
# to their end (DEMO_AUTO=1, one second per step, three for demo3): every
# step's effect shows in its pane; the last screen is held (DEMO_HOLD) until the
# test has read it and ends the session; then nothing is left behind. (demo1
# and demo6: classroom.bats; the other lessons: classroom_lessons2.bats. Two
# files, so they play in parallel.)

load helpers
load classroom

@test "make demo0: the iterative server makes the second client wait; loadgen gets every echo from echo_libevent" {
    start_lesson 0 1 300
    # typed by the terminal, then echoed once the first client has gone
    wait_pane_lines client2 '^is anyone there\?$' 2
    wait_pane server '^served 2 connections, bye$'
    lesson_servers 2
    wait_pane client '^requests 10000 of 10000 in '
    wait_pane client '^errors 0$'
    wait_pane trace 'dispatch +fd [0-9]+ +read -> '
    played_to_the_end
    assert_all_cleaned_up
}

@test "make demo2: the notes' client PINGs, SETs and pipelines; MONITOR sees each command; redis_async answers" {
    start_lesson 2 1 300
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

@test "make demo3: a one-shot timer, two heartbeats (one drifting), and an idle connection closed after 3 s" {
    # 3 s a step: the idle timeout (3 s) ends the first telnet before Ctrl-C
    # ends the server, two steps after the client's last line
    start_lesson 3 3 300
    wait_pane server 'oneshot: fired [0-9.]+ ms after it was registered \(asked for 1000 ms\)'
    wait_pane_lines server 'heartbeat: 5 ticks done, timer deleted' 2
    # --work 200 with --readd: every tick starts later than the one before
    wait_pane server 'heartbeat: tick 5 scheduled +2500\.0 ms actual +[0-9.]+ ms drift +\+[0-9]{3,}\.[0-9] ms'
    lesson_servers 1
    wait_pane client '^idle for 3000 ms, bye$'
    wait_pane server 'idle: closing 127\.0\.0\.1:[0-9]+: no input for 3000 ms'
    played_to_the_end
    assert_all_cleaned_up
}
