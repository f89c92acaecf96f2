#!/usr/bin/env bats
# tests/classroom_lesson12.bats — `make demo12` plays to its end by itself
# (tests/classroom.bash's start_lesson): per-connection buckets, then a group shared by ten, the
# stats and the summary; then nothing is left behind.

load helpers
load classroom

@test "make demo12: two connections at their own 64 KiB/s, ten sharing the group's 256 KiB/s, stats and summary" {
    start_lesson 12 quiet 300
    wait_pane server '^limits: tick 50 ms; per connection 65536 B/s = 3276 bytes per tick, burst 65536; group 262144 B/s = 13107 bytes per tick'
    lesson_servers 1
    wait_pane client 'second,c1,c2,total$'
    wait_pane client '^jain: '
    wait_pane client2 'second,c1,c2,c3,c4,c5,c6,c7,c8,total$'
    wait_pane client2 '^jain: '
    wait_pane server '^stats: 0 connections now, 10 in all'
    wait_pane server '^shutdown: caught SIGINT$'
    wait_pane server '^summary: .*group totals: read 0, written [1-9][0-9]*'
    played_to_the_end
    assert_all_cleaned_up
}
