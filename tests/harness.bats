#!/usr/bin/env bats
# tests/harness.bats — the test harness itself: the private Redis, the
# background-process helpers, the summary line and the dependency check.

load helpers

setup_file() {
    start_redis
}

@test "start_redis gives this file its own redis-server on a free port" {
    run redis-cli -p "$REDIS_PORT" set harness:key "hello world"
    assert_output "OK"
    run redis-cli -p "$REDIS_PORT" get harness:key
    assert_output "hello world"
    # no persistence: nothing is ever written to disk
    run redis-cli -p "$REDIS_PORT" config get save
    assert_line --index 1 ""
    run redis-cli -p "$REDIS_PORT" config get port
    assert_line --index 1 "$REDIS_PORT"
}

@test "start_server reads the real port from the 'listening on' line" {
    start_server listener "$(bin 01_listener/listener)" --port 0
    [ "$PORT" -gt 0 ]
    assert [ "$PORT" -ne 8080 ]
    run port_is_free "$PORT"
    assert_failure # something accepts there now
}

@test "a process a test starts is stopped in that test's teardown, even when the test fails" {
    # a throw-away suite of one failing test that leaves a sleeper behind; it
    # loads the real helpers, so the real teardown runs
    suite="$BATS_TEST_TMPDIR/suite"
    mkdir -p "$suite"
    # (printf, not a heredoc: bats would turn a line starting with @test in
    # this file into a test of its own)
    printf '%s\n' "load \"$WORKBOOK_ROOT/tests/helpers\"" \
        '@test "starts a sleeper then fails" {' \
        '    start_bg sleeper sleep 300' \
        "    echo \"\$BG_PID\" >\"$suite/sleeper.pid\"" \
        '    kill -0 "$BG_PID"' \
        '    false' \
        '}' >"$suite/sample.bats"
    inner_run_tests "$suite/sample.bats"
    assert_line --index -1 "bats: 0 passed, 1 failed"
    pid=$(cat "$suite/sleeper.pid")
    [ "$pid" -gt 0 ]
    run kill -0 "$pid"
    assert_failure # gone by the time the inner bats returned
}

@test "a pty script that fails leaves nothing running: make, its wrapper and what it runs are stopped in teardown" {
    # an expect script gives up (timeout) while the program it spawned, and that
    # program's child, still run, deaf to the pty's hangup (as chapter 4's
    # server is: SIGHUP reloads its config): the Debian 13 hang's shape. The
    # inner run must end, fail, and leave neither running (a zombie is gone:
    # its parent died, and a container's init may not reap it).
    suite="$BATS_TEST_TMPDIR/suite"
    mkdir -p "$suite"
    printf '%s\n' 'set timeout 1' \
        "spawn -noecho bash -c {trap \"\" HUP; sleep 300 & echo \$! >$suite/child.pid; echo \$\$ >$suite/main.pid; exec sleep 301}" \
        'expect "never printed"' 'exit 1' >"$suite/stuck.exp"
    printf '%s\n' "load \"$WORKBOOK_ROOT/tests/helpers\"" \
        "load \"$WORKBOOK_ROOT/tests/walkthrough\"" \
        '@test "a pty script that times out" {' \
        "    pty $suite/stuck.exp" \
        '}' >"$suite/sample.bats"
    start=$SECONDS
    inner_run_tests "$suite/sample.bats"
    assert_line --index -1 "bats: 0 passed, 1 failed"
    [ $((SECONDS - start)) -lt 60 ] # not the 300 s the sleepers would take
    for file in main.pid child.pid; do
        pid=$(cat "$suite/$file")
        [ "$pid" -gt 0 ]
        run ps -o stat= -p "$pid"
        [[ $output == Z* || $output == "" ]] || fail "pid $pid ($file) still runs: $output"
    done
}

# inner_run_tests FILE...: scripts/ci/run-tests.sh inside this test, with bats's
# per-test timeout off for the inner run: bats 1.11 (Debian 13) leaves the
# inner run's watchdog (`sleep 180`) holding the inner formatter's pipe, so
# the inner run would hang for 180 s although its tests took milliseconds.
inner_run_tests() { BATS_TEST_TIMEOUT="" TEST_DURATIONS="$BATS_TEST_TMPDIR/durations" run "$WORKBOOK_ROOT/scripts/ci/run-tests.sh" "$@"; }

@test "wait_listening_port waits for the line, prints the port, and fails on time" {
    file="$BATS_TEST_TMPDIR/server.out"
    (sleep 0.3 && echo "listening on 127.0.0.1:4321" >"$file") &
    run wait_listening_port "$file" 10
    assert_success
    assert_output "4321"
    run wait_listening_port "$BATS_TEST_TMPDIR/never.out" 1
    assert_failure
}

@test "run-tests.sh prints one summary line and fails when a test fails" {
    dir="$BATS_TEST_TMPDIR/suite"
    mkdir -p "$dir"
    printf '%s\n' '@test "good" { true; }' '@test "bad" { false; }' \
        '@test "later" { skip "not now"; }' >"$dir/sample.bats"
    inner_run_tests "$dir/sample.bats"
    assert_failure
    assert_line --index -1 "bats: 1 passed, 1 failed, 1 skipped"
    [ "$(count_lines <(printf '%s\n' "$output") '^bats: ')" -eq 1 ]
}

@test "run-tests.sh succeeds when every test passes" {
    dir="$BATS_TEST_TMPDIR/suite"
    mkdir -p "$dir"
    printf '%s\n' '@test "one" { true; }' '@test "two" { true; }' >"$dir/ok.bats"
    inner_run_tests "$dir/ok.bats"
    assert_success
    assert_line --index -1 "bats: 2 passed, 0 failed"
    assert_line "slowest tests:" # then the tests with their durations
    assert_line --regexp '^ +[0-9]+\.[0-9] s  (one|two)$'
}

@test "deps.sh is quiet and quick when everything is installed" {
    start=$(date +%s%N)
    run "$WORKBOOK_ROOT/scripts/deps.sh"
    elapsed_ms=$((($(date +%s%N) - start) / 1000000))
    assert_success
    assert_output ""
    # a generous bound (a loaded 2-core machine): what matters is that nothing
    # is installed or updated when nothing is missing (typically ~10 ms)
    [ "$elapsed_ms" -lt 10000 ]
}

@test "deps.sh rejects an unknown group with exit 2" {
    run "$WORKBOOK_ROOT/scripts/deps.sh" nonsense
    assert_failure 2
    assert_output --partial "unknown group 'nonsense'"
}

@test "make soak: stopped, it stops the run in progress with it and exits 130" {
    local pidfile="$BATS_TEST_TMPDIR/sleeper.pid"
    printf '@test "sleeps" {\n    sleep 300 3>&- &\n    echo $! >"%s"\n    wait\n}\n' "$pidfile" \
        >"$BATS_TEST_TMPDIR/slow.bats"
    SOAK_TESTS="$BATS_TEST_TMPDIR/slow.bats" start_bg soak scripts/ci/soak-tests.sh 1
    local soak=$BG_PID deadline=$((SECONDS + 30))
    until [ -s "$pidfile" ]; do
        [ "$SECONDS" -lt "$deadline" ] || fail "the run never started its test: $(cat "$BG_ERR")"
        sleep 0.1
    done
    local sleeper
    sleeper=$(cat "$pidfile")
    kill -0 "$sleeper"
    kill -TERM "$soak"
    wait_exit "$soak" 10
    assert_equal "$EXIT_STATUS" 130
    run cat "$BG_ERR"
    assert_output --partial "soak: stopped during run 1 of 1"
    wait_gone_pid "$sleeper" 10 || fail "the run's test (pid $sleeper) still runs"
}
