#!/usr/bin/env bats
# tests/classroom.bats — classroom mode (`make demoN`, scripts/classroom/demo.sh): every
# chapter's lesson parses, and real lessons play in a detached tmux session on a
# tmux server of the test's own (tmux -L), then leave nothing behind: no
# process, no listening port, no tmux server, no file.

load helpers
load classroom

@test "every chapter has a lesson of 5 to 8 steps in valid panes" {
    local dir chapters=0 steps
    for dir in [0-9][0-9]_*/; do
        chapters=$((chapters + 1))
        run scripts/classroom/demo.sh --check "${dir}demo.steps"
        assert_success
        steps=${output% steps}
        [ "$steps" -ge 5 ] && [ "$steps" -le 8 ] || fail "$dir: $steps steps"
    done
    [ "$chapters" -ge 13 ] # chapters 0-12 at least; a new chapter adds its own lesson
}

@test "a steps file with a wrong pane or a missing field is refused with its line" {
    printf 'server\techo hi\tsay hi\nprojector\techo hi\tsay hi\n' >"$BATS_TEST_TMPDIR/bad.steps"
    run scripts/classroom/demo.sh --check "$BATS_TEST_TMPDIR/bad.steps"
    assert_failure 1
    assert_output --partial "bad.steps:2: unknown pane 'projector'"
    printf 'client\techo hi\n' >"$BATS_TEST_TMPDIR/short.steps"
    run scripts/classroom/demo.sh --check "$BATS_TEST_TMPDIR/short.steps"
    assert_failure 1
    assert_output --partial "short.steps:1: want 3 TAB-separated fields"
}

@test "without a terminal, or for no such chapter, demo.sh says so and exits 2" {
    run scripts/classroom/demo.sh 1 </dev/null
    assert_failure 2
    assert_output --partial "needs a terminal"
    run scripts/classroom/demo.sh 42
    assert_failure 2
    assert_output --partial "no chapter 42"
}

@test "make demo1: telnet gets the greeting, the server accepts, the trace pane shows the three steps; killing the session stops everything" {
    start_lesson 1 3
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

@test "make demo6: the lesson plays to its end, then the relay and its private Redis are stopped" {
    start_lesson 6 1
    local redis_port
    redis_port=$(sed -n 's/^redis_port=//p' "$STATE/env")
    lesson_servers 1
    kill -0 "$LESSON_REDIS_PID"
    # redis-cli through the relay, into the private Redis
    wait_pane client '^"hello through the relay"$'
    # the lesson ends by itself: the session goes, then everything else
    local deadline=$((SECONDS + 90))
    while tmux -L "$SOCK" has-session 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || fail "the lesson did not end in 90 s"
        sleep 0.2
    done
    assert_all_cleaned_up
    port_is_free "$redis_port" || fail "the Redis port $redis_port still accepts connections"
}
