#!/usr/bin/env bats
# tests/classroom.bats — classroom mode (`make demoN`, scripts/classroom/demo.sh): every
# chapter's lesson parses, a bad steps file or a missing terminal is refused,
# and every lesson has its test, tests/classroom_lessonN.bats, which plays it
# in a detached tmux session on a tmux server of the test's own (tmux -L) and
# checks that it leaves nothing behind: no process, no listening port, no tmux
# server, no file.

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

@test "every chapter's lesson is played to its end by its own test, tests/classroom_lessonN.bats" {
    local dir n
    for dir in [0-9][0-9]_*/; do
        n=$((10#${dir%%_*}))
        grep -qE "^ *start_lesson $n( |\$)" "tests/classroom_lesson$n.bats" ||
            fail "no test plays lesson $n (tests/classroom_lesson$n.bats, start_lesson $n)"
    done
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

@test "a step waits until the last client command has ended, unless its pane is marked & (runs on)" {
    # quiet for 1.5 s, then done: DEMO_SETTLE alone (quiet for 0.3 s) would
    # type the next step while it still runs
    printf '%s\t%s\t%s\n' \
        client 'sleep 1.5; touch {log}.first' 'ends after 1.5 s, printing nothing' \
        client2 'test -e {log}.first && echo ORDER-WAITED || echo ORDER-OVERTOOK' 'typed once it has ended' \
        'client&' 'sleep 1.5; touch {log}.third' 'runs on' \
        client2 'test -e {log}.third && echo RUNS-ON-WAITED || echo RUNS-ON-OVERLAPPED' 'typed while it runs' \
        client 'echo done' 'the end' >"$BATS_TEST_TMPDIR/order.steps"
    DEMO_STEPS="$BATS_TEST_TMPDIR/order.steps" start_lesson 1 quiet 300
    wait_pane client2 '^ORDER-(WAITED|OVERTOOK)$'
    wait_pane client2 '^RUNS-ON-(WAITED|OVERLAPPED)$'
    run pane_text client2
    assert_line ORDER-WAITED
    assert_line RUNS-ON-OVERLAPPED
    played_to_the_end
    wait_gone_dir "$STATE" 20 || fail "the lesson's files are still in $STATE"
}
