#!/usr/bin/env bats
# tests/trace.bats — --trace, --backend and the SIGUSR2 dump (common/trace.c and
# the wiring in each server). The trace is parsed, never compared whole: fds and
# timings change from run to run.

load helpers
load servers

setup_file() {
    start_redis
}

# The servers tests/servers.bash does not list (they need a second port or a
# producer), with the arguments each needs besides --port 0.
EXTRA_SERVERS='
echo_libevent       00_why_event_loop/echo_libevent
write_watermark     05_bufferevent_watermarks/write_watermark
backpressure_relay  05_bufferevent_watermarks/backpressure_relay --producer-port 0
mux                 07_redis_multiplexer/mux --redis-port REDIS_PORT
'

# talk_to_listener: connect, read the greeting, send a line, read its echo.
talk_to_listener() {
    local greeting echo_line
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    IFS= read -r -t 5 greeting <&5
    printf 'trace me\r\n' >&5
    IFS= read -r -t 5 echo_line <&5
    exec 5>&-
    [[ $greeting == hello* ]]
    [ "${echo_line%$'\r'}" = "trace me" ]
}

# line_no FILE REGEX [AFTER]: the number of the first line of FILE matching
# REGEX after line AFTER (default 0); fails when there is none.
line_no() {
    local n
    n=$(awk -v after="${3:-0}" -v re="$2" 'NR > after && $0 ~ re { print NR; exit }' "$1")
    [ -n "$n" ] || { echo "no line matching '$2' after line ${3:-0} of $1" >&2; return 1; }
    echo "$n"
}

@test "listener --trace: the accepted fd is registered, then detected, then dispatched" {
    start_server listener "$(bin 01_listener/listener)" --port 0 --trace
    talk_to_listener
    wait_for_line "$SERVER_ERR" 'dispatch +fd [0-9]+ +read -> on_read' 5
    # the new connection's fd: the first fd registered after on_accept ran
    local accept_at fd reg det disp
    accept_at=$(line_no "$SERVER_ERR" 'dispatch +fd [0-9]+ +accept -> on_accept')
    fd=$(awk -v after="$accept_at" 'NR > after && /register +fd [0-9]+ +EV_READ/ {
            for (i = 1; i <= NF; i++) if ($i == "fd") { print $(i + 1); exit } }' "$SERVER_ERR")
    [ -n "$fd" ]
    reg=$(line_no "$SERVER_ERR" "register +fd $fd +EV_READ +\\(event_add\\)" "$accept_at")
    det=$(line_no "$SERVER_ERR" "detect +fd $fd +EV_READ" "$reg")
    disp=$(line_no "$SERVER_ERR" "dispatch +fd $fd +read -> on_read" "$det")
    [ "$reg" -lt "$det" ] && [ "$det" -lt "$disp" ]
    # epoll is the default backend, and its epoll_ctl shows up as a register step
    line_no "$SERVER_ERR" "register +fd $fd +EPOLLIN +\\(epoll ADD\\)" "$accept_at"
    line_no "$SERVER_ERR" 'detect +epoll_wait: [0-9]+ ready'
    # readable on a projector: every trace line has a time, a step and no address
    run grep -c '0x' "$SERVER_ERR"
    assert_output 0
    run grep -cvE '^ +[0-9]+\.[0-9] ms  (register|detect  |dispatch|libevent|dump    )  |^Inserted events:|^Active events:|^  \[(fd|sig) ' "$SERVER_ERR"
    assert_output 0
}

@test "listener --backend poll really waits in poll()" {
    start_server listener "$(bin 01_listener/listener)" --port 0 --trace --backend poll
    assert_equal "$(head -1 "$SERVER_OUT")" "backend: poll"
    talk_to_listener
    wait_for_line "$SERVER_ERR" 'detect +poll: [0-9]+ ready' 5
    # poll has no epoll_ctl: no fd is ever registered with the kernel on its own
    run grep -cE 'epoll' "$SERVER_ERR"
    assert_output 0
}

@test "listener --backend select serves a client" {
    start_server listener "$(bin 01_listener/listener)" --port 0 --trace --backend select
    assert_equal "$(head -1 "$SERVER_OUT")" "backend: select"
    talk_to_listener
    wait_for_line "$SERVER_ERR" 'detect +select: [0-9]+ ready' 5
}

@test "--backend with an unknown name: message, exit 2" {
    run "$(bin 01_listener/listener)" --backend nonsense
    assert_failure 2
    assert_line --index 0 "listener: --backend: 'nonsense' is not one of epoll, poll, select"
}

@test "without --trace: no trace lines, and the default backend is epoll" {
    start_server listener "$(bin 01_listener/listener)" --port 0
    assert_equal "$(head -1 "$SERVER_OUT")" "backend: epoll"
    talk_to_listener
    stop_pid "$SERVER_PID"
    run grep -cE 'register|detect|dispatch' "$SERVER_ERR"
    assert_output 0
}

@test "SIGUSR2 dumps the registered events, naming the listening fd" {
    start_server listener "$(bin 01_listener/listener)" --port 0
    # the listening socket's fd: the one whose socket inode /proc/net/tcp lists
    # as listening (state 0A) on PORT
    local hexport inode fd=""
    hexport=$(printf '%04X' "$PORT")
    inode=$(awk -v p=":$hexport" '$2 ~ p"$" && $4 == "0A" { print $10; exit }' /proc/net/tcp)
    [ -n "$inode" ]
    for link in /proc/"$SERVER_PID"/fd/*; do
        [ "$(readlink "$link")" = "socket:[$inode]" ] && fd=${link##*/}
    done
    [ -n "$fd" ]
    kill -USR2 "$SERVER_PID"
    wait_for_line "$SERVER_ERR" '^Active events:' 5
    assert_equal "$(grep -cE "^  \\[fd +$fd\\] Read Persist\$" "$SERVER_ERR")" 1
    run grep -c '0x' "$SERVER_ERR"
    assert_output 0
    assert_equal "$(grep -c '^  \[sig 12\] Signal Persist' "$SERVER_ERR")" 1
}

# check_server NAME ARGS...: with --trace --backend poll it starts, says
# "backend: poll", registers its listening socket and dumps its events.
check_server() {
    start_server "$1" "${@:2}" --trace --backend poll
    grep -qx 'backend: poll' "$SERVER_OUT"
    grep -qE '^ +[0-9.]+ ms  register  fd [0-9]+  EV_READ  \(event_add\)$' "$SERVER_ERR"
    wait_for_line "$SERVER_ERR" '^Active events:' 5
    if grep -q epoll "$SERVER_ERR"; then
        echo "$1 --backend poll still used epoll" >&2
        return 1
    fi
    stop_pid "$SERVER_PID"
}

@test "every server takes --trace and --backend" {
    local name checked=0 line
    for name in $(server_names); do
        server_entry "$name"
        check_server "$name" "${TARGET[@]}"
        checked=$((checked + 1))
    done
    while read -r name line; do
        [ -n "$name" ] || continue
        line=${line//REDIS_PORT/$REDIS_PORT}
        # shellcheck disable=SC2086 # the arguments are words
        set -- $line
        check_server "$name" "$(bin "$1")" "${@:2}" --port 0
        checked=$((checked + 1))
    done <<<"$EXTRA_SERVERS"
    # tests/servers.bash lists 6 today, plus the 4 above
    [ "$checked" -ge 10 ]
}

@test "every server rejects an unknown --backend with exit 2" {
    local name checked=0
    for name in $(server_names); do
        server_entry "$name"
        run "${TARGET[@]}" --backend kqueue
        assert_failure 2
        assert_line --index 0 --partial "--backend: 'kqueue' is not one of epoll, poll, select"
        checked=$((checked + 1))
    done
    [ "$checked" -ge 6 ]
}

# page_trace NAME: the block under <!-- trace: NAME --> in docs/01-listener.md
page_trace() {
    awk -v m="<!-- trace: $1 -->" '$0 == m { on = 1; next }
        on && /^```/ { if (in_block) exit; in_block = 1; next }
        in_block { print }' "$WORKBOOK_ROOT/docs/01-listener.md"
}

# without_times: drop the time column, and how many fds epoll_wait reported
# (two events may be reported together in another run)
without_times() { sed -E 's/^ *[0-9.]+ ms  //; s/epoll_wait: [0-9]+ ready/epoll_wait: N ready/'; }

@test "docs/01's --trace transcript of one telnet session is what the listener traces, in order" {
    page_trace listener-telnet | without_times >"$BATS_TEST_TMPDIR/page"
    [ "$(wc -l <"$BATS_TEST_TMPDIR/page")" -ge 20 ]
    start_server listener "$(bin 01_listener/listener)" --port 0 --trace
    run telnet_expect "$PORT" '
want {type a line and it comes back}
send "hi\r"
want {hi\r\nhi\r\n}
'
    assert_success
    wait_for_line "$SERVER_ERR" 'event -> on_conn_event'
    assert_in_order "$(cat "$BATS_TEST_TMPDIR/page")" "$(without_times <"$SERVER_ERR")" docs/01-listener.md
}
