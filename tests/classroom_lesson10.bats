#!/usr/bin/env bats
# tests/classroom_lesson10.bats — `make demo10` plays to its end by itself
# (tests/classroom.bash's start_lesson): each step's effect shows in its pane,
# the last screen is held until the test ends the session, then nothing is
# left behind.

load helpers
load classroom

@test "make demo10: dig and resolve against the slow server; --blocking's heartbeat is late; stats; Ctrl-C" {
    start_lesson 10 quiet 300
    wait_pane client '^127\.0\.0\.1$'
    lesson_servers 1
    wait_pane server '^query redis\.workbook\.test type 1 from 127\.0\.0\.1:[0-9]+: NOERROR$'
    wait_pane client '^summary: mode=concurrent names=3 answers=2 nxdomain=1 failed=0 timeouts=0 '
    wait_pane client2 '^summary: mode=blocking names=3 answers=2 nxdomain=1 failed=0 timeouts=0 '
    wait_pane client2 'heartbeat: [0-9.]+ ms late'
    wait_pane server '^stats: queries=[0-9]+ answered=[0-9]+ nxdomain=[0-9]+ .* malformed=0 '
    wait_pane server '^summary: '
    played_to_the_end
    assert_all_cleaned_up
}
