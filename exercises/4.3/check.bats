#!/usr/bin/env bats
# Exercise 4.3 — `--log FILE`: the server appends "connected 127.0.0.1:PORT"
# to FILE for every client it accepts, each line in the file at once. On
# SIGHUP (besides reloading the config) it opens FILE again and closes the old
# one, printing "log: reopened FILE" — what logrotate needs: it renames the
# file, sends SIGHUP, and new lines must land in a new file. A FILE that cannot
# be opened at start: "PROG: --log: FILE: why" and exit 2.

load ../../tests/helpers

setup() {
    CONFIG="$BATS_TEST_TMPDIR/server.conf"
    echo "greeting = hello" >"$CONFIG"
    LOG="$BATS_TEST_TMPDIR/server.log"
}

# connect_one: one client that connects, reads its greeting and leaves
connect_one() {
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    read -r -t 5 _ <&5
    exec 5<&-
}

# open_files PID: the files the process has open (not sockets or pipes)
open_files() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 -printf '%l\n' | grep '^/' | sort || true; }

case_rotate() { # PROGRAM
    start_server signals "$(bin "04_signals/$1")" --port 0 --config "$CONFIG" --log "$LOG"
    connect_one
    wait_for_line "$LOG" '^connected 127\.0\.0\.1:[0-9]+$'

    # logrotate renames the file: until told, the server keeps writing into it
    mv "$LOG" "$LOG.1"
    connect_one
    for _ in $(seq 100); do [ "$(count_lines "$LOG.1" '^connected ')" -eq 2 ] && break; sleep 0.05; done
    assert_equal "$(count_lines "$LOG.1" '^connected ')" 2
    [ ! -e "$LOG" ] || fail "$LOG exists before SIGHUP"

    fds=$(fd_count "$SERVER_PID")
    kill -HUP "$SERVER_PID"
    wait_for_line "$SERVER_OUT" "^log: reopened $LOG\$"
    connect_one
    wait_for_line "$LOG" '^connected 127\.0\.0\.1:[0-9]+$'
    assert_equal "$(count_lines "$LOG" '^connected ')" 1
    assert_equal "$(count_lines "$LOG.1" '^connected ')" 2
    # the old file is closed, the new one open, and no descriptor leaked
    run open_files "$SERVER_PID"
    refute_line "$LOG.1"
    assert_line "$LOG"
    assert_equal "$(fd_count "$SERVER_PID")" "$fds"

    # five more rotations: still one log file open, still the same count
    for i in 2 3 4 5 6; do
        mv "$LOG" "$LOG.$i"
        signal_for_line HUP 'log: reopened ' >/dev/null
    done
    assert_equal "$(count_lines "$SERVER_OUT" "^log: reopened $LOG\$")" 6
    connect_one
    wait_for_line "$LOG" '^connected '
    assert_equal "$(count_lines "$LOG.6" '^connected ')" 0
    assert_equal "$(fd_count "$SERVER_PID")" "$fds"
    assert_equal "$(open_files "$SERVER_PID" | grep -c "^$LOG")" 1

    kill -INT "$SERVER_PID"
    wait_exit "$SERVER_PID" 10
    assert_equal "$EXIT_STATUS" 0
}

@test "4.3 signals: a rotated log is reopened on SIGHUP, the old one closed" { case_rotate signals; }
@test "4.3 signals_raw: a rotated log is reopened on SIGHUP, the old one closed" { case_rotate signals_raw; }

@test "4.3 a --log that cannot be opened: message and exit 2" {
    run "$(bin 04_signals/signals)" --port 0 --log /nonexistent/dir/server.log
    assert_failure 2
    assert_line --index 0 "signals: --log: /nonexistent/dir/server.log: No such file or directory"
}
