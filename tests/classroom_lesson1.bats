#!/usr/bin/env bats
# tests/classroom_lesson1.bats — `make demo1` plays to its end by itself
# (tests/classroom.bash's start_lesson): telnet gets the listener's greeting, the trace pane shows register, detect and dispatch, and killing the session stops everything. Every step's effect shows
# in its pane; then nothing is left behind.

load helpers
load classroom

@test "make demo1: telnet gets the greeting, the server accepts, the trace pane shows the three steps; killing the session stops everything" {
    start_lesson 1 quiet 300
    wait_pane client 'hello from the chapter 1 listener'
    wait_pane server 'recv a connection from 127\.0\.0\.1:[0-9]+'
    # the trace pane follows the server's stderr file: the server runs with --trace
    pane_text trace | grep -q 'tail -n +1 -F build/demo/'
    wait_pane trace 'register +fd [0-9]+ +EV_READ'
    wait_pane trace 'detect +epoll_wait: [0-9]+ ready'
    wait_pane trace 'dispatch +fd [0-9]+ +accept -> on_accept'
    local pid
    lesson_servers 1
    read -r pid _ <<<"$SERVERS"
    kill -0 "$pid"
    [ "$(ps -o comm= -p "$pid")" = listener ]
    tmux -L "$SOCK" kill-session -t workbook-ch1
    assert_all_cleaned_up
}
