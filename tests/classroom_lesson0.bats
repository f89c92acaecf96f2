#!/usr/bin/env bats
# tests/classroom_lesson0.bats — `make demo0` plays to its end by itself
# (tests/classroom.bash's start_lesson): the iterative server makes the second client wait, then echo_libevent serves loadgen's every line. Every step's effect shows
# in its pane; then nothing is left behind.

load helpers
load classroom

@test "make demo0: the iterative server makes the second client wait; loadgen gets every echo from echo_libevent" {
    start_lesson 0 quiet 300
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
