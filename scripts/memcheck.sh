#!/usr/bin/env bash
# memcheck.sh — each program's main scenario under valgrind, ending by its
# clean shutdown path (a signal, or the end of its work). A scenario passes
# when valgrind finds no memory error and nothing definitely or indirectly
# lost (valgrind exits 99 otherwise) and the program itself exits 0.
# Ends with "memcheck: N passed, M failed".
set -u
cd "$(dirname "$0")/.."
. scripts/lib.sh
bin=${WORKBOOK_BIN:-.}
work=$(mktemp -d)
passed=0
failed=0
redis_pid=
cleanup() {
    [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

VALGRIND=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect
    --error-exitcode=99)


# verdict NAME STATUS [EXPECTED=0]: count and report one scenario
verdict() {
    if [ "$2" -eq "${3:-0}" ]; then
        passed=$((passed + 1))
        echo "ok   $1"
    else
        failed=$((failed + 1))
        echo "FAIL $1 (exit $2)"
        sed 's/^/     /' "$work/$1.err" | head -40
    fi
}

# foreground NAME EXPECTED_EXIT CMD...: a program that ends by itself
foreground() {
    local name=$1 expected=$2
    shift 2
    "${VALGRIND[@]}" "$@" >"$work/$name.out" 2>"$work/$name.err" </dev/null
    verdict "$name" $? "$expected"
}

# server NAME DRIVE_FUNCTION CMD...: start CMD under valgrind, wait for its
# "listening on" line, run DRIVE_FUNCTION PORT PID, then SIGINT and collect
server() {
    local name=$1 drive=$2
    shift 2
    ("${VALGRIND[@]}" "$@" >"$work/$name.out" 2>"$work/$name.err" </dev/null) &
    local wrapper=$!
    local pid="" port=""
    port=$(wait_listening_port "$work/$name.out" 10 2>/dev/null)
    pid=$(pgrep -P "$wrapper" | head -n 1)
    [ -n "$pid" ] || pid=$wrapper
    if [ -z "$port" ]; then
        kill "$pid" 2>/dev/null
        wait "$wrapper"
        verdict "$name" 98
        return
    fi
    "$drive" "$port" "$pid"
    kill -INT "$pid" 2>/dev/null
    wait "$wrapper"
    verdict "$name" $?
}

drive_echo() { printf 'hello\nworld\n' | nc -N 127.0.0.1 "$1" >/dev/null; hold "$1"; }
# hold PORT: leave one client connected, so shutdown has a connection to free
hold() { (sleep 3 | nc 127.0.0.1 "$1" >/dev/null &); sleep 0.5; }
drive_signals() {
    drive_echo "$1"
    kill -USR1 "$2"
    kill -HUP "$2"
    sleep 0.3
}
drive_read() {
    printf '0123456789abcdef' | nc -N 127.0.0.1 "$1" >/dev/null
    hold "$1"
}
drive_write() { nc -N 127.0.0.1 "$1" </dev/null >/dev/null; hold "$1"; }
drive_relay() {
    redis-cli -p "$1" set memcheck:key value >/dev/null
    redis-cli -p "$1" get memcheck:key >/dev/null
    printf 'PING\r\n' | nc -N 127.0.0.1 "$1" >/dev/null
    hold "$1"
}
drive_producer_consumer() {
    local pport
    pport=$(sed -n 's/^producers connect to .*:\([0-9]*\)$/\1/p' "$work/backpressure_relay.out")
    nc 127.0.0.1 "$1" >/dev/null &
    sleep 0.5
    head -c 1048576 /dev/zero | nc -N 127.0.0.1 "$pport"
    for _ in $(seq 100); do kill -0 "$2" 2>/dev/null || break; sleep 0.1; done
}

drive_mux() {
    redis-cli -p "$1" set memcheck:key value >/dev/null
    redis-cli -p "$1" get memcheck:key >/dev/null
    printf 'PING\r\nECHO "a b"\r\n*abc\r\n' | nc -N 127.0.0.1 "$1" >/dev/null
    printf 'SET memcheck:n 1\r\nMULTI\r\nINCR memcheck:n\r\nEXEC\r\n' | nc -N 127.0.0.1 "$1" >/dev/null
    head -c 100000 /dev/zero | redis-cli -p "$1" -x set memcheck:big >/dev/null
    (for _ in $(seq 300); do printf 'GET memcheck:big\r\n'; done; sleep 4) | nc 127.0.0.1 "$1" >/dev/null &
    (sleep 1; for _ in $(seq 300); do printf 'GET memcheck:big\r\n'; done; sleep 4) | nc 127.0.0.1 "$1" | (sleep 4; cat >/dev/null) &
    redis-benchmark -p "$1" -q -c 20 -n 2000 -t set,get -P 4 >/dev/null 2>&1
    for _ in $(seq 150); do grep -q 'disconnecting$' "$work/mux.out" && break; sleep 0.1; done
    hold "$1"
}

# a private Redis for chapters 2 and 6
start_private_redis "$work" || exit 1
redis_port=$REDIS_PORT
redis_pid=$REDIS_PID
config="$work/greeting.conf"
echo "greeting = hello" >"$config"

server listener drive_echo "$bin/01_listener/listener" --port 0
foreground redis_client-notes 0 "$bin/02_redis_client/redis_client" --port "$redis_port"
foreground redis_client-command 0 "$bin/02_redis_client/redis_client" --port "$redis_port" \
    RPUSH memcheck:list a b c
foreground redis_client-host 0 "$bin/02_redis_client/redis_client" --host localhost \
    --port "$redis_port" PING
foreground redis_client-refused 1 "$bin/02_redis_client/redis_client" --port "$(free_port)"
printf 'SET a "x y"\nLRANGE memcheck:list 0 -1\nGET nothing\nNOPE\n' >"$work/pipe.txt"
"${VALGRIND[@]}" "$bin/02_redis_client/redis_client" --port "$redis_port" --pipe \
    <"$work/pipe.txt" >"$work/redis_client-pipe.out" 2>"$work/redis_client-pipe.err"
verdict redis_client-pipe $?
foreground redis_async 0 "$bin/02_redis_client/redis_async" --port "$redis_port"
foreground timers-all 0 "$bin/03_timers/timers" --demo all
foreground timer_bench 0 "$bin/03_timers/timer_bench" 1000
server idle_server drive_echo "$bin/03_timers/idle_server" --idle 5000 --port 0
server signals drive_signals "$bin/04_signals/signals" --port 0 --config "$config"
server signals_raw drive_signals "$bin/04_signals/signals_raw" --port 0 --config "$config"
server read_watermarks drive_read "$bin/05_bufferevent_watermarks/read_watermarks" \
    --port 0 --low 4 --high 8 --consume 2 --consume-delay 10
server write_watermark drive_write "$bin/05_bufferevent_watermarks/write_watermark" \
    --port 0 --bytes 100000
server backpressure_relay drive_producer_consumer \
    "$bin/05_bufferevent_watermarks/backpressure_relay" --port 0 --producer-port 0
server relay drive_relay "$bin/06_redis_relay/relay" --port 0 --redis-port "$redis_port"
server mux drive_mux "$bin/07_redis_multiplexer/mux" --port 0 --redis-port "$redis_port" \
    --client-output-limit 1048576

# chapter 0: the five echo servers; loadgen (under valgrind too) drives the libevent one
drive_loadgen() {
    "${VALGRIND[@]}" "$bin/00_why_event_loop/loadgen" --port "$1" --connections 20 --lines 20 \
        --think 2 >"$work/loadgen.out" 2>"$work/loadgen.err" </dev/null
    verdict loadgen $?
    hold "$1"
}
server echo_iterative drive_echo "$bin/00_why_event_loop/echo_iterative" --port 0
server echo_fork drive_echo "$bin/00_why_event_loop/echo_fork" --port 0
server echo_threads drive_echo "$bin/00_why_event_loop/echo_threads" --port 0
server echo_epoll drive_echo "$bin/00_why_event_loop/echo_epoll" --port 0
server echo_libevent drive_loadgen "$bin/00_why_event_loop/echo_libevent" --port 0
foreground loadgen-refused 1 "$bin/00_why_event_loop/loadgen" --port "$(free_port)" --connections 3

# chapter 11: threads, each joined before the exit; loadgen (not under
# valgrind) drives the echo servers, pinger.py leaves offload's jobs abandoned
drive_threaded() {
    "$bin/00_why_event_loop/loadgen" --port "$1" --connections 50 --lines 5 >/dev/null
    kill -USR1 "$2"
    hold "$1"
}
drive_offload() {
    printf 'PING\nHASH 1000\nSLEEP 10\nNOPE\n' | nc -N 127.0.0.1 "$1" >/dev/null
    11_threads/pinger.py --port "$1" --slow 'SLEEP 300' --slow-conns 2 --once --pings 3 \
        --delay 50 >/dev/null
    hold "$1"
}
server threaded_echo drive_threaded "$bin/11_threads/threaded_echo" --threads 3 --port 0
server reuseport_echo drive_threaded "$bin/11_threads/reuseport_echo" --threads 3 --port 0
server offload drive_offload "$bin/11_threads/offload" --threads 2 --port 0
server offload-inline drive_offload "$bin/11_threads/offload" --inline --port 0
foreground tally 0 "$bin/11_threads/tally" --threads 3 --ticks 2000
# one threaded scenario under helgrind too: lock order and unlocked sharing
VALGRIND=(valgrind -q --tool=helgrind --error-exitcode=99)
server offload-helgrind drive_offload "$bin/11_threads/offload" --threads 2 --port 0

echo "memcheck: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
