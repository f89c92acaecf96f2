#!/usr/bin/env bats
# tests/classroom_lesson5.bats — `make demo5` plays to its end by itself
# (tests/classroom.bash's start_lesson): 16 MiB through the relay with backpressure and without. Every step's effect shows
# in its pane; then nothing is left behind.

load helpers
load classroom

@test "make demo5: 16 MiB through the relay with backpressure and without; the peak buffered tells them apart" {
    start_lesson 5 quiet 300
    wait_pane server 'backpressure on \(high 262144, low 65536\)'
    wait_pane server 'backpressure off \(high 262144, low 65536\)' 60
    lesson_servers 2
    wait_pane_lines server 'relay: done: 16777216 bytes relayed' 2 60
    # every byte reached the slow consumer, both times
    wait_pane_lines client '^16777216$' 2 60
    played_to_the_end
    assert_all_cleaned_up
}
