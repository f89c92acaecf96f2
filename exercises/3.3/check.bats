#!/usr/bin/env bats
# exercises/3.3/check.bats — idle_server answers a line "left?" with
# "left N ms": the time until its idle timer closes the connection. The
# question is not input: it does not restart the clock. Other lines still
# echo and restart it.

load ../../tests/helpers
load ../helpers

setup() { start_server idle "$(bin 03_timers/idle_server)" --idle 2000 --port 0; }

# left_ms FD: ask, and print N from the "left N ms" reply
left_ms() {
    local reply
    printf 'left?\n' >&"$1"
    read -r -t 5 -u "$1" reply || { echo "no reply to left?" >&2; return 1; }
    [[ $reply =~ ^left\ ([0-9]+)\ ms$'\r'$ ]] || { echo "reply '$reply' is not 'left N ms'" >&2; return 1; }
    echo "${BASH_REMATCH[1]}"
}

@test "left? right after connecting: between 1000 and 2000 ms of --idle 2000" {
    exec {c}<>"/dev/tcp/127.0.0.1/$PORT"
    first=$(left_ms "$c")
    # (up to 2005: event_pending reports the expiry converted from libevent's
    # monotonic clock to gettimeofday's, which can differ by a millisecond or
    # so — a right answer once came out "left 2001 ms")
    [ "$first" -le 2005 ] && [ "$first" -ge 1000 ] || fail "left $first ms"
}

@test "asking is not input: 800 ms later the answer is smaller, then the bye comes anyway" {
    exec {c}<>"/dev/tcp/127.0.0.1/$PORT"
    first=$(left_ms "$c")
    read -r -t 0.8 -u "$c" extra && fail "unexpected '$extra'"
    second=$(left_ms "$c")
    echo "# left: $first ms, then $second ms" >&3
    [ "$second" -le $((first - 400)) ] || fail "left $first ms, 800 ms later $second ms: the question restarted the clock"
    run timeout 5 cat <&"$c"
    assert_output $'idle for 2000 ms, bye\r'
}

@test "any other line still echoes and restarts the clock" {
    exec {c}<>"/dev/tcp/127.0.0.1/$PORT"
    read -r -t 0.8 -u "$c" extra && fail "unexpected '$extra'"
    printf 'hello\n' >&"$c"
    read -r -t 5 -u "$c" echoed || fail "no echo"
    assert_equal "$echoed" "hello"
    after=$(left_ms "$c")
    [ "$after" -ge 1500 ] || fail "left $after ms right after a line: the line did not restart the clock"
}
