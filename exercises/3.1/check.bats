#!/usr/bin/env bats
# exercises/3.1/check.bats — idle_server keeps its behaviour (a silent client is
# told "idle for N ms, bye" and closed; a talking one stays) with the timeout
# inside the bufferevent: no timer of its own any more.

load ../../tests/helpers
load ../helpers

IDLE_C="$WORKBOOK_ROOT/03_timers/idle_server.c"

start_idle() { start_server idle "$(bin 03_timers/idle_server)" --idle "$1" --port 0; }

@test "the timeout is the bufferevent's: bufferevent_set_timeouts, no evtimer_new" {
    # the code only: comment lines (/* … */ blocks, // …) do not count
    code=$(sed -E 's#//.*##' "$IDLE_C" | awk '
        { line = $0; out = "" }
        { while (line != "") {
              if (in_c) { i = index(line, "*/"); if (!i) { line = "" } else { line = substr(line, i + 2); in_c = 0 } }
              else { i = index(line, "/*"); if (!i) { out = out line; line = "" } else { out = out substr(line, 1, i - 1); line = substr(line, i + 2); in_c = 1 } }
          }
          printf "%d:%s\n", NR, out }')
    timer=$(grep -E 'evtimer_new|idle_timer' <<<"$code" || true)
    [ -z "$timer" ] || fail "idle_server.c still has a timer of its own per connection; with the bufferevent's timeout these lines go (line: code):
$timer"
    grep -q 'bufferevent_set_timeouts(' <<<"$code" ||
        fail "idle_server.c never calls bufferevent_set_timeouts: the connection has no read timeout (every client would stay forever)"
}

@test "a silent client is told 'idle for 300 ms, bye' and closed" {
    start_idle 300
    exec {c}<>"/dev/tcp/127.0.0.1/$PORT"
    run timeout 5 cat <&"$c" # returns at EOF, when the server closes
    exec {c}<&-
    assert_success
    assert_output $'idle for 300 ms, bye\r'
    wait_for_line "$SERVER_OUT" 'idle: closing 127\.0\.0\.1:[0-9]+: no input for 300 ms'
}

@test "input restarts the clock: lines 200 ms apart for 1.6 s keep a 1000 ms connection open" {
    start_idle 1000
    exec {c}<>"/dev/tcp/127.0.0.1/$PORT"
    for i in $(seq 8); do
        printf 'line %d\n' "$i" >&"$c"
        read -r -t 5 -u "$c" echoed || fail "line $i: no echo"
        assert_equal "$echoed" "line $i"
        read -r -t 0.2 -u "$c" extra && fail "line $i: unexpected '$extra'"
    done
    run timeout 5 cat <&"$c"
    exec {c}<&-
    assert_output $'idle for 1000 ms, bye\r'
}

@test "a client that leaves first: 'left', and its connection is freed" {
    start_idle 5000
    exec {c}<>"/dev/tcp/127.0.0.1/$PORT"
    wait_for_line "$SERVER_OUT" 'connected; it will be closed'
    exec {c}<&-
    wait_for_line "$SERVER_OUT" 'idle: 127\.0\.0\.1:[0-9]+ left'
}
