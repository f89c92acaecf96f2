# shellcheck shell=bash disable=SC2034,SC2154  # loaded by bats: reads its $status/$output, sets variables for the tests
# tests/helpers.bash — what every tests/*.bats file shares.
#
# Background programs: start_bg / start_server run a program with its output in
# files under the test's temp dir, every fd above 2 closed (bats-core #530: a
# background child holding bats's output pipe makes bats hang), and stop it in
# teardown — by pid, even when the test failed.
# Redis: start_redis starts a private redis-server on a free port (no disk, its
# own temp dir) for the file that calls it. The chores shared with scripts/
# (waiting for a line or a port, starting Redis, a process's CPU ticks) come from scripts/lib.sh.
#
# Binaries are found through WORKBOOK_BIN (the Makefile exports it; by default
# the checkout's build/), so one suite can test another build of the same code.

bats_load_library bats-support
bats_load_library bats-assert

# the checkout this file belongs to (not the test file's: a test may live anywhere)
WORKBOOK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# free_port, wait_for_line, wait_listening_port, wait_listening, starting
# Redis: the chores the scripts share, defined once there.
# shellcheck source=../scripts/lib.sh
. "$WORKBOOK_ROOT/scripts/lib.sh"
WORKBOOK_BIN=${WORKBOOK_BIN:-$WORKBOOK_ROOT/build}

# bin 01_listener/listener -> the path of that binary in the build under test
bin() { printf '%s/%s\n' "$WORKBOOK_BIN" "$1"; }

# Processes started inside a test die with the test; those started from
# setup_file live until teardown_file.
_wb_scope_dir() {
    if [ -n "${BATS_TEST_TMPDIR-}" ]; then
        printf '%s\n' "$BATS_TEST_TMPDIR"
    else
        printf '%s\n' "$BATS_FILE_TMPDIR"
    fi
}

# start_bg NAME CMD [ARG...]: run CMD in the background. Sets BG_PID and
# BG_OUT / BG_ERR, the files holding its stdout and stderr.
start_bg() { _wb_start_bg "" "$@"; }

# start_bg_to FD NAME CMD [ARG...]: start_bg, but CMD's stdout is this shell's
# descriptor FD (a socket the test reads the answers from, say), not BG_OUT
start_bg_to() { _wb_start_bg "$@"; }

_wb_start_bg() {
    local to=$1 name=$2
    shift 2
    local dir
    dir=$(_wb_scope_dir)
    BG_OUT="$dir/$name.out"
    BG_ERR="$dir/$name.err"
    : >"$BG_OUT"
    (
        if [ -n "$to" ]; then exec >&"$to"; else exec >"$BG_OUT"; fi
        close_fds_above_2
        exec "$@"
    ) 2>"$BG_ERR" </dev/null &
    BG_PID=$!
    echo "$BG_PID" >>"$dir/wb_pids"
}

# run_tagged CMD [ARG...]: run CMD in the foreground — an expect script
# driving make and a demo in a pty, say — with every fd above 2 closed and a
# tag in its environment (WB_TEST_SCOPE=the test's temp dir) that everything
# it starts inherits. Teardown stops every process still carrying the tag, so
# a script that failed or timed out (leaving make, the wrapper and the demo
# running) fails its test instead of hanging the suite.
run_tagged() {
    local dir
    dir=$(_wb_scope_dir)
    : >>"$dir/wb_tagged"
    (
        close_fds_above_2
        WB_TEST_SCOPE=$dir exec "$@"
    )
}

# the pids of live processes tagged by run_tagged for scope DIR
_wb_tagged_pids() {
    grep -lzxF "WB_TEST_SCOPE=$1" /proc/[0-9]*/environ 2>/dev/null |
        cut -d/ -f3 | grep -vxF -e "$$" -e "$BASHPID" || true
}

_wb_stop_tagged() {
    local dir=$1 pids
    [ -f "$dir/wb_tagged" ] || return 0
    rm -f "$dir/wb_tagged"
    pids=$(_wb_tagged_pids "$dir")
    [ -n "$pids" ] || return 0
    echo "# stopping what the test left running: ${pids//$'\n'/ }" >&3
    # shellcheck disable=SC2086  # a list of pids
    kill -TERM $pids 2>/dev/null
    for _ in $(seq 60); do
        [ -n "$(_wb_tagged_pids "$dir")" ] || return 0
        sleep 0.05
    done
    pids=$(_wb_tagged_pids "$dir")
    # shellcheck disable=SC2086
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null
    return 0
}

# count_lines FILE REGEX: how many lines of FILE match the extended REGEX.
count_lines() { grep -cE -- "$2" "$1" || true; }

# start_server NAME CMD [ARG...]: start_bg, then wait for the program's
# "listening on 127.0.0.1:PORT" line. Sets PORT, SERVER_PID, SERVER_OUT and
# SERVER_ERR. Give the program --port 0 so the kernel picks a free port.
start_server() {
    start_bg "$@"
    SERVER_PID=$BG_PID
    SERVER_OUT=$BG_OUT
    SERVER_ERR=$BG_ERR
    if ! PORT=$(wait_listening_port "$SERVER_OUT" 10); then
        echo "server $1 did not start; its stderr:" >&2
        cat "$SERVER_ERR" >&2
        return 1
    fi
    [ -n "$PORT" ] && [ "$PORT" -gt 0 ]
}

# wait_exit PID [SECONDS=10]: wait for a background process of this shell to
# end; sets EXIT_STATUS. Fails if it is still running after SECONDS.
wait_exit() {
    local pid=$1 seconds=${2:-10}
    local deadline=$((SECONDS + seconds))
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "process $pid still running after ${seconds}s" >&2
            return 1
        fi
        sleep 0.05
    done
    EXIT_STATUS=0
    wait "$pid" || EXIT_STATUS=$?
}

# stop_pid PID: TERM, up to 3 s of grace, then KILL.
stop_pid() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 60); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

_wb_stop_listed() {
    local list="$1/wb_pids" pid
    _wb_stop_tagged "$1"
    [ -f "$list" ] || return 0
    for pid in $(tac "$list"); do stop_pid "$pid"; done
    rm -f "$list"
    _wb_no_sanitizer_reports "$1"
}

# Under `make asan-test` a background program's sanitizer report would go
# unseen in its stderr file: fail the test that started it instead.
_wb_no_sanitizer_reports() {
    local file
    for file in "$1"/*.err; do
        [ -f "$file" ] || continue
        if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$file"; then
            echo "sanitizer report in $file:" >&2
            cat "$file" >&2
            return 1
        fi
    done
}

# assert_in_order WANT GOT WHAT: every line of the text WANT is a line of the text
# GOT, each found after the one before (other lines may come between) — a page
# quoting a real run. Fails naming the first line of WANT not found; WHAT says
# who quotes it.
assert_in_order() {
    local missing
    missing=$(awk 'NR == FNR { want[++n] = $0; next }
                   i < n && $0 == want[i + 1] { i++ }
                   END { if (i < n) print "line " i + 1 ": " want[i + 1] }' \
        <(printf '%s\n' "$1") <(printf '%s\n' "$2"))
    [ -z "$missing" ] || fail "$3 quotes a line the run did not print (in this order), $missing"
}

# assert_rss_below PID KIB: the process's resident memory is below KIB. Under
# sanitizers (WORKBOOK_SANITIZED=1) RSS measures the sanitizer's shadow memory
# and quarantine, not the program, so the bound is not checked there.
assert_rss_below() {
    local pid=$1 bound=$2 rss
    rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
    echo "# RSS of $pid: $rss KiB (bound $bound KiB)" >&3
    [ -n "${WORKBOOK_SANITIZED-}" ] && return 0
    [ "$rss" -lt "$bound" ] || fail "RSS $rss KiB, bound $bound KiB"
}

# Default teardowns; a .bats file that defines its own should call these.
stop_test_processes() { _wb_stop_listed "${BATS_TEST_TMPDIR-}"; }
stop_file_processes() { _wb_stop_listed "$BATS_FILE_TMPDIR"; }
teardown() { stop_test_processes; }
teardown_file() { stop_file_processes; }

# wait_gone_pid PID SECONDS / wait_gone_dir DIR SECONDS
wait_gone_pid() {
    local deadline=$((SECONDS + $2))
    while kill -0 "$1" 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}
wait_gone_dir() {
    local deadline=$((SECONDS + $2))
    while [ -e "$1" ]; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# port_is_free PORT: nothing accepts connections on 127.0.0.1:PORT.
port_is_free() { ! (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_redis: a private redis-server on a free port (scripts/lib.sh's
# start_private_redis), in its own temp dir, stopped in teardown like any
# start_bg program. Sets REDIS_PORT and REDIS_PID. Call it from setup_file (one
# Redis per file) or from a test.
start_redis() {
    local dir
    dir=$(mktemp -d "$(_wb_scope_dir)/redis.XXXXXX")
    start_private_redis "$dir" || return 1
    echo "$REDIS_PID" >>"$(_wb_scope_dir)/wb_pids"
    export REDIS_PORT REDIS_PID
}

# signal_for_line SIGNAL PREFIX: send SIGNAL to SERVER_PID and print the newest
# line of SERVER_OUT starting with PREFIX, once one more such line appeared
signal_for_line() {
    local before
    before=$(count_lines "$SERVER_OUT" "^$2")
    kill "-$1" "$SERVER_PID"
    for _ in $(seq 100); do
        [ "$(count_lines "$SERVER_OUT" "^$2")" -gt "$before" ] && break
        sleep 0.05
    done
    grep "^$2" "$SERVER_OUT" | tail -n 1
}

# fd_count PID: how many descriptors the process has open.
fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# telnet_expect PORT EXPECT_BODY: run a real telnet on 127.0.0.1:PORT under
# expect. EXPECT_BODY runs once telnet is connected; in it, `want REGEX` waits
# for output matching REGEX (failing the test after 5 s or on EOF) and
# `send "text\r"` types a line. telnet's terminal echoes a typed line itself, so
# the server's copy of "hi" is the second one: `want {hi\r\nhi\r\n}` (the
# first alone would match before the server answered). Afterwards telnet is left
# with Ctrl-] and quit.
telnet_expect() {
    local port=$1 body=$2 script
    script=$(_wb_scope_dir)/telnet.exp
    cat >"$script" <<'EXPECT'
set timeout 5
proc want {pattern} {
    expect {
        -re $pattern {}
        timeout { puts stderr "\ntimeout waiting for /$pattern/"; exit 1 }
        eof { puts stderr "\nconnection closed while waiting for /$pattern/"; exit 1 }
    }
}
spawn telnet 127.0.0.1 [lindex $argv 0]
want {Escape character is}
EXPECT
    printf '%s\n' "$body" >>"$script"
    cat >>"$script" <<'EXPECT'
send "\035"
want {telnet>}
send "quit\r"
expect eof
exit 0
EXPECT
    run_tagged expect -f "$script" "$port"
}
