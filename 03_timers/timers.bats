#!/usr/bin/env bats
# 03_timers/timers.bats — chapter 3: what each timer demo prints, in what order,
# and (with generous bounds) when; the idle server; the timer benchmark.

load ../tests/helpers

setup() {
    TIMERS=$(bin 03_timers/timers)
    IDLE=$(bin 03_timers/idle_server)
    BENCH=$(bin 03_timers/timer_bench)
}

# ms_of LINE: the leading "  123.4 ms" of a log line, as an integer
ms_of() { awk '{ printf "%d", $1 }' <<<"$1"; }

@test "oneshot: fires once, not before its delay, well within a second" {
    run "$TIMERS" --demo oneshot --delay 50
    assert_success
    assert_equal "$(count_lines <(echo "$output") 'oneshot: fired')" 1
    fired=$(grep -o 'fired [0-9.]* ms after' <<<"$output" | awk '{ printf "%d", $2 }')
    [ "$fired" -ge 50 ] && [ "$fired" -lt 1000 ] || fail "fired after $fired ms"
    assert_line --index 2 --regexp '^ *[0-9.]+ ms  oneshot: loop ended: no events left$'
}

@test "every output line starts with milliseconds since start" {
    run "$TIMERS" --demo all
    assert_success
    bad=$(grep -cvE '^ *[0-9]+\.[0-9] ms  ' <<<"$output" || true)
    assert_equal "$bad" 0
    # and the times never go backwards
    sorted=$(awk '{ print $1 }' <<<"$output" | sort -n -c && echo sorted)
    assert_equal "$sorted" "sorted"
}

@test "heartbeat --count 5: exactly ticks 1..5, then the loop ends by itself, exit 0" {
    run timeout 10 "$TIMERS" --demo heartbeat --interval 50 --count 5
    assert_success
    assert_equal "$(grep -o 'tick [0-9]*' <<<"$output" | tr '\n' ' ')" "tick 1 tick 2 tick 3 tick 4 tick 5 "
    assert_line --partial "heartbeat: 5 ticks done, timer deleted"
    assert_line --index -1 --partial "heartbeat: loop ended: no events left"
}

@test "heartbeat: tick N happens after N intervals (generous upper bound)" {
    run "$TIMERS" --demo heartbeat --interval 50 --count 4
    assert_success
    ticks=$(sed -n 's/.*tick \([0-9]*\) scheduled *\([0-9.]*\) ms actual *\([0-9.]*\) ms.*/\1 \2 \3/p' <<<"$output")
    assert_equal "$(wc -l <<<"$ticks")" 4 # the loop below checks 4 ticks, not none
    while read -r tick scheduled actual; do
        [ "${actual%.*}" -ge "${scheduled%.*}" ] || fail "tick $tick early: $actual < $scheduled"
        [ "${actual%.*}" -lt $((${scheduled%.*} + 1000)) ] || fail "tick $tick late: $actual"
    done <<<"$ticks"
}

@test "heartbeat: a re-added timer drifts by each tick's work, EV_PERSIST does not accumulate it" {
    run "$TIMERS" --demo heartbeat --interval 50 --count 6 --work 20 --readd
    assert_success
    readd_last=$(sed -n 's/.*tick 6 .*drift *+\([0-9]*\).*/\1/p' <<<"$output")
    run "$TIMERS" --demo heartbeat --interval 50 --count 6 --work 20
    assert_success
    persist_last=$(sed -n 's/.*tick 6 .*drift *+\([0-9]*\).*/\1/p' <<<"$output")
    # re-added: 5 ticks of 20 ms work before tick 6 => at least 100 ms late
    [ "$readd_last" -ge 100 ] || fail "re-added timer only $readd_last ms late at tick 6"
    # persistent: late by about one tick's work, not five
    [ "$persist_last" -lt "$readd_last" ] || fail "persist $persist_last ms vs re-added $readd_last ms"
}

@test "cancel: the cancelled timer never runs, and the loop ends right after the first" {
    run "$TIMERS" --demo cancel
    assert_success
    refute_line --partial "second timer fired"
    assert_line --partial "cancel: first timer fired; second timer pending: yes"
    assert_line --partial "cancel: evtimer_del(second); second timer pending: no"
    last=$(ms_of "${lines[-1]}")
    assert_line --index -1 --partial "cancel: loop ended: the second timer never ran"
    [ "$last" -ge 100 ] && [ "$last" -lt 1000 ] || fail "loop ended at $last ms"
}

@test "once: fires exactly once after its delay" {
    run "$TIMERS" --demo once --delay 80
    assert_success
    assert_equal "$(count_lines <(echo "$output") 'once: fired')" 1
    fired=$(ms_of "$(grep 'once: fired' <<<"$output")")
    registered=$(ms_of "$(grep 'once: registered' <<<"$output")")
    [ $((fired - registered)) -ge 79 ] && [ $((fired - registered)) -lt 1000 ]
}

@test "all: runs oneshot, both heartbeats, cancel and once in that order" {
    run "$TIMERS" --demo all
    assert_success
    order=$(grep -oE '(oneshot|heartbeat|cancel|once): loop ended' <<<"$output" | cut -d: -f1 | tr '\n' ' ')
    assert_equal "$order" "oneshot heartbeat heartbeat cancel once "
    assert_line --partial "EV_PERSIST, 5 ms of work per tick"
    assert_line --partial "re-added in the callback, 5 ms of work per tick"
}

@test "idle: a silent client is disconnected after the idle time" {
    start_server idle "$IDLE" --idle 300 --port 0
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    start=$(date +%s%N)
    run timeout 5 cat <&5 # returns at EOF, when the server closes
    elapsed_ms=$((($(date +%s%N) - start) / 1000000))
    exec 5<&-
    assert_success
    assert_output $'idle for 300 ms, bye\r'
    # our clock starts after the connect, the server's at its accept: a loaded
    # machine (or ASan) puts tens of ms between them, hence 200, not 300
    [ "$elapsed_ms" -ge 200 ] && [ "$elapsed_ms" -lt 4500 ] || fail "closed after $elapsed_ms ms"
    wait_for_line "$SERVER_OUT" 'idle: closing 127\.0\.0\.1:[0-9]+: no input for 300 ms'
}

@test "idle: a client sending a line every 200 ms (idle 2000) stays connected past 3 s" {
    start_server idle "$IDLE" --idle 2000 --port 0
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    # every line must come back, and between lines nothing else may arrive (the
    # server's "idle ... bye" would): `read -t 0.2` on the socket is the pause,
    # with no process started. Idle 2000 ms against a line every ~200 ms leaves
    # 1.8 s for scheduling delays on a loaded machine.
    start=${EPOCHREALTIME/./} last=$start max_gap_us=0 i=0
    while [ $((${EPOCHREALTIME/./} - start)) -lt 3000000 ]; do
        i=$((i + 1))
        printf 'line %d\n' "$i" >&5
        now=${EPOCHREALTIME/./}
        [ $((now - last)) -gt "$max_gap_us" ] && max_gap_us=$((now - last))
        last=$now
        echoed=
        read -r -t 5 -u 5 echoed || fail "line $i: no echo after $(((now - start) / 1000)) ms"
        assert_equal "$echoed" "line $i"
        rc=0
        read -r -t 0.2 -u 5 extra || rc=$?
        [ "$rc" -gt 128 ] || fail "line $i: unexpected '$extra' (read status $rc)"
    done
    echo "# $i lines over 3 s; longest gap between two lines $((max_gap_us / 1000)) ms" >&3
    [ "$i" -ge 3 ] || fail "only $i lines sent"
    refute grep -q 'idle: closing' "$SERVER_OUT"
    exec 5<&- 5>&-
    # and once it goes quiet, the timer catches it after all
    wait_for_line "$SERVER_OUT" 'idle: (closing|127\.0\.0\.1:[0-9]+ left)' 10
}

@test "idle: SIGINT shuts the server down with exit 0" {
    start_server idle "$IDLE" --idle 5000 --port 0
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    wait_for_line "$SERVER_OUT" 'connected; it will be closed after 5000 ms'
    kill -INT "$SERVER_PID"
    wait_exit "$SERVER_PID" 5
    exec 5<&-
    assert_equal "$EXIT_STATUS" 0
    wait_for_line "$SERVER_OUT" 'idle: caught SIGINT, shutting down'
}

@test "timer_bench 10000: both lines, every timer fired, and a ratio" {
    run "$BENCH" 10000
    assert_success
    assert_line --regexp '^min-heap +add +[0-9.]+ ms +fire +[0-9.]+ ms +fired 10000 +peak RSS +[0-9.]+ MiB$'
    assert_line --regexp '^common timeout +add +[0-9.]+ ms +fire +[0-9.]+ ms +fired 10000 +peak RSS +[0-9.]+ MiB$'
    assert_line --regexp '^ratio heap/common: add [0-9.]+x +fire [0-9.]+x$'
}

@test "bad values: message and exit 2" {
    run "$TIMERS" --demo heartbeat --interval -5
    assert_failure 2
    assert_line --index 0 "timers: --interval: -5 is out of range (1 to 3600000)"
    run "$TIMERS" --demo heartbeat --count abc
    assert_failure 2
    assert_line --index 0 "timers: --count: 'abc' is not a number"
    run "$TIMERS" --demo sometimes
    assert_failure 2
    assert_line --index 0 "timers: --demo: unknown demo 'sometimes' (oneshot, heartbeat, cancel, once, all)"
    run "$BENCH" 0
    assert_failure 2
    assert_line --index 0 "timer_bench: N: 0 is out of range (1 to 100000000)"
    run "$IDLE" --port 99999
    assert_failure 2
    assert_line --index 0 "idle_server: --port: 99999 is out of range (0 to 65535)"
}

@test "--help lists every demo from the one table, with what it shows" {
    run "$TIMERS" --help
    assert_success
    for demo in oneshot heartbeat cancel once all; do
        assert_line --regexp "^  --demo $demo +[a-zA-Z]"
    done
    assert_equal "$(grep -c '^  --demo ' <<<"$output")" 5
}
