#!/usr/bin/env bats
# tests/classroom_lesson3.bats — `make demo3` plays to its end by itself
# (tests/classroom.bash's start_lesson): a one-shot timer, two heartbeats (one drifting) and an idle connection closed after 3 s; played at 2 s a step, as the idle timeout is the point. Every step's effect shows
# in its pane; then nothing is left behind.

load helpers
load classroom

@test "make demo3: a one-shot timer, two heartbeats (one drifting), and an idle connection closed after 3 s" {
    # 3 s a step: the idle timeout (3 s) ends the first telnet before Ctrl-C
    # ends the server, two steps after the client's last line
    start_lesson 3 2 300
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
