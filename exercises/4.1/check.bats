#!/usr/bin/env bats
# Exercise 4.1 — SIGUSR1 prints, after its stats line, one line per connected
# client: "client 127.0.0.1:PORT lines=N", N the lines echoed to that client.
# Checked with both programs (they share handle_signal).

load ../../tests/helpers

setup() {
    CONFIG="$BATS_TEST_TMPDIR/server.conf"
    echo "greeting = hello" >"$CONFIG"
}

# client_ports: the local ports of our connections to the server (only this
# test connects to its free port), sorted
client_ports() {
    ss -tnH state established "( dport = :$PORT )" |
        awk '{ n = split($3, a, ":"); print a[n] }' | sort -n
}

# list_after_usr1: the client lines printed by one SIGUSR1. Two signals, each
# waited for: the lines between their two stats lines are complete, since the
# first callback ended before the second began.
list_after_usr1() {
    local n
    n=$(count_lines "$SERVER_OUT" '^stats: ')
    signal_for_line USR1 'stats: ' >/dev/null
    signal_for_line USR1 'stats: ' >/dev/null
    awk -v first="$((n + 1))" '/^stats: / { seen++; next } seen == first && /^client /' "$SERVER_OUT"
}

case_list() { # PROGRAM
    start_server signals "$(bin "04_signals/$1")" --port 0 --config "$CONFIG"
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    read -r -t 5 _ <&5
    exec 6<>"/dev/tcp/127.0.0.1/$PORT"
    read -r -t 5 _ <&6
    printf 'one\ntwo\nthree\n' >&5
    for _ in 1 2 3; do read -r -t 5 _ <&5; done
    echo 'only' >&6
    read -r -t 5 _ <&6
    ports=$(client_ports)

    list=$(list_after_usr1)
    echo "# after the first SIGUSR1:" >&3
    printf '%s\n' "$list" | sed 's/^/# /' >&3
    assert_equal "$(printf '%s\n' "$list" | grep -c '^client ')" 2
    assert_equal "$(printf '%s\n' "$list" | grep -cE '^client 127\.0\.0\.1:[0-9]+ lines=3$')" 1
    assert_equal "$(printf '%s\n' "$list" | grep -cE '^client 127\.0\.0\.1:[0-9]+ lines=1$')" 1
    # the addresses are the clients' own
    listed=$(printf '%s\n' "$list" | sed -n 's/^client 127\.0\.0\.1:\([0-9]*\) .*/\1/p' | sort -n)
    assert_equal "$listed" "$ports"

    # a client that left is no longer listed; the other one still is
    exec 6<&-
    for _ in $(seq 100); do
        list=$(list_after_usr1)
        [ "$(printf '%s\n' "$list" | grep -c '^client ')" -eq 1 ] && break
    done
    assert_regex "$list" '^client 127\.0\.0\.1:[0-9]+ lines=3$'

    # and with no client at all, only the stats line
    exec 5<&-
    for _ in $(seq 100); do
        list=$(list_after_usr1)
        [ -z "$list" ] && break
    done
    assert_equal "$list" ""
}

@test "4.1 signals: SIGUSR1 lists each connected client with its lines" { case_list signals; }
@test "4.1 signals_raw: SIGUSR1 lists each connected client with its lines" { case_list signals_raw; }
