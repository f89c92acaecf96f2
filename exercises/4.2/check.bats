#!/usr/bin/env bats
# Exercise 4.2 — predict, then observe. The experiment: the server is frozen
# with SIGSTOP; while it cannot run it is sent SIGUSR1 five times and SIGHUP
# three times (the config's greeting changed to "b" before the first SIGHUP
# and to "c" before the second); then SIGCONT. Your predictions, in
# exercises/4.2/answer.txt:
#   stats_lines: N      how many "stats:" lines the server prints
#   reload_lines: N     how many "reload:" lines it prints
#   greeting: WORD      what a client connecting afterwards is greeted with
# The check runs the experiment on both programs and compares.

load ../../tests/helpers

ANSWER="$WORKBOOK_ROOT/exercises/4.2/answer.txt"

# answer KEY: the value written for KEY in answer.txt ("" if none)
answer() {
    sed -n "s/^[[:space:]]*$1[[:space:]]*[:=][[:space:]]*\([^[:space:]#]*\).*/\1/p" "$ANSWER" | tail -n 1
}

setup() {
    if [ ! -f "$ANSWER" ]; then
        fail "write your predictions first, into exercises/4.2/answer.txt, three lines:
stats_lines: ?
reload_lines: ?
greeting: ?"
    fi
    for key in stats_lines reload_lines greeting; do
        value=$(answer "$key")
        [ -n "$value" ] && [ "$value" != "?" ] || fail "answer.txt: no prediction for '$key' yet"
    done
    CONFIG="$BATS_TEST_TMPDIR/server.conf"
    echo "greeting = a" >"$CONFIG"
}

# wait_stopped PID: until the kernel reports the process stopped (state T).
# kill -STOP only asks; signals sent before the stop takes effect would be
# handled one by one, and the experiment would be a different one.
wait_stopped() {
    local deadline=$((SECONDS + 10))
    until grep -q '^State:[[:space:]]*T' "/proc/$1/status"; do
        [ "$SECONDS" -lt "$deadline" ] || fail "process $1 never stopped"
        sleep 0.02
    done
}

experiment() { # PROGRAM
    start_server signals "$(bin "04_signals/$1")" --port 0 --config "$CONFIG"
    kill -STOP "$SERVER_PID"
    wait_stopped "$SERVER_PID"
    for _ in 1 2 3 4 5; do kill -USR1 "$SERVER_PID"; done
    echo "greeting = b" >"$CONFIG"
    kill -HUP "$SERVER_PID"
    echo "greeting = c" >"$CONFIG"
    kill -HUP "$SERVER_PID"
    kill -HUP "$SERVER_PID"
    kill -CONT "$SERVER_PID"
    # whatever was pending is handled as soon as the server runs again
    wait_for_line "$SERVER_OUT" '^stats: '
    wait_for_line "$SERVER_OUT" '^reload: '
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    read -r -t 5 greeting <&5
    exec 5<&-
    # SIGINT comes after everything above, so the output is complete once it exits
    kill -INT "$SERVER_PID"
    wait_exit "$SERVER_PID" 10
    assert_equal "$EXIT_STATUS" 0
    stats=$(count_lines "$SERVER_OUT" '^stats: ')
    reloads=$(count_lines "$SERVER_OUT" '^reload: ')
    echo "# $1 printed:" >&3
    grep -E '^(stats|reload): ' "$SERVER_OUT" | sed 's/^/#   /' >&3
    echo "#   and greeted a new client with \"$greeting\"" >&3
    compare stats_lines "$stats"
    compare reload_lines "$reloads"
    compare greeting "$greeting"
}

# compare KEY OBSERVED: the prediction for KEY is what the run showed
compare() {
    [ "$(answer "$1")" = "$2" ] || fail "you predicted $1: $(answer "$1"); the run gave $1: $2"
}

@test "4.2 signals (evsignal_new): the run matches answer.txt" { experiment signals; }
@test "4.2 signals_raw (self-pipe): the run matches answer.txt" { experiment signals_raw; }
