#!/usr/bin/env bats
# exercises/11.1 — threaded_echo's SIGUSR1 line says how many of each
# thread's connections are open now: "thread 0: 2 connections, 1 open".

load ../../tests/helpers

# counts: SIGUSR1, then the two threads' lines it printed
counts() {
    local before
    before=$(count_lines "$SERVER_OUT" '^thread 1: ')
    kill -USR1 "$SERVER_PID"
    for _ in $(seq 100); do
        [ "$(count_lines "$SERVER_OUT" '^thread 1: ')" -gt "$before" ] && break
        sleep 0.05
    done
    grep '^thread ' "$SERVER_OUT" | tail -n 2 | paste -sd'|'
}

@test "11.1: SIGUSR1 counts the open connections of each thread, and they go down on close" {
    start_server threaded_echo "$(bin 11_threads/threaded_echo)" --threads 2 --port 0
    # round-robin: 5 and 7 on thread 0, 6 on thread 1; an echo proves each is served
    exec 5<>"/dev/tcp/127.0.0.1/$PORT" 6<>"/dev/tcp/127.0.0.1/$PORT" 7<>"/dev/tcp/127.0.0.1/$PORT"
    for fd in 5 6 7; do
        printf 'hi\n' >&$fd
        read -r -t 10 line <&$fd
        assert_equal "$line" hi
    done
    assert_equal "$(counts)" "thread 0: 2 connections, 2 open|thread 1: 1 connection, 1 open"
    exec 5>&- 6>&-
    for _ in $(seq 100); do
        got=$(counts)
        [ "$got" = "thread 0: 2 connections, 1 open|thread 1: 1 connection, 0 open" ] && break
        sleep 0.1
    done
    assert_equal "$got" "thread 0: 2 connections, 1 open|thread 1: 1 connection, 0 open"
    exec 7>&-
}
