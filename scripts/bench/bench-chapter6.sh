#!/usr/bin/env bash
# bench-chapter6.sh — redis-benchmark against three targets in one run, on one
# private Redis: Redis directly, chapter 6's relay, and twemproxy (nutcracker)
# configured for the same Redis. Prints one table per scenario: requests/s, the
# ratios relay/twemproxy and relay/direct, and the CPU time each target process
# spent per request.
#
# Every scenario runs ROUNDS times, the three targets taking turns, and the
# table shows each target's median: a 2-core machine running the benchmark,
# Redis and a proxy at once is noisy.
#
# Four scenarios: small values pipelined (-P 16), 16 KiB values pipelined and
# not (-P 1), and 1,000 clients without pipelining. About 2 minutes on an idle
# 2-core machine; the load average is printed at the start and the end,
# because on a shared machine it decides how far to trust the figures.
#
# Usage: scripts/bench/bench-chapter6.sh [REQUESTS=100000] [ROUNDS=3]
set -eu
cd "$(dirname "$0")/../.."
. scripts/lib.sh
requests=${1:-100000}
rounds=${2:-3}
relay_bin=${WORKBOOK_BIN:-build}/06_redis_relay/relay
tests=set,get,incr,lpush,lrange_100

make_workdir
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

start_private_redis "$work"
redis_port=$REDIS_PORT
pids+=("$REDIS_PID")

relay_port=$(free_port)
"$relay_bin" --port "$relay_port" --redis-port "$redis_port" >"$work/relay.log" 2>&1 &
relay_pid=$!
pids+=("$relay_pid")
wait_listening "$relay_port" 10 || exit 1

start_twemproxy "$redis_port" || exit 1
twem_port=$TWEM_PORT
twem_pid=$TWEM_PID

clk_tck=$(getconf CLK_TCK)

# bench PORT PID TEST N ARGS... -> "TEST requests/s cpu-µs-per-request": one
# redis-benchmark run of one test, and the CPU time the process PID (the
# target: Redis, the relay or twemproxy) spent on it, per request. CPU time
# is steadier than requests/s on a busy machine: waiting for a core costs
# throughput, not CPU.
bench() {
    local port=$1 pid=$2 test=$3 n=$4 before after
    shift 4
    before=$(cpu_ticks "$pid")
    # lrange_100 first runs an LPUSH of its own: its own line comes last
    redis-benchmark -p "$port" -q -t "$test" -n "$n" "$@" 2>/dev/null | tr '\r' '\n' |
        sed -n 's/^\([A-Z_0-9]*\)[^:]*: \([0-9.]*\) requests per second.*/\1 \2/p' | tail -n 1 |
        tr '\n' ' '
    after=$(cpu_ticks "$pid")
    awk -v t=$((after - before)) -v hz="$clk_tck" -v n="$n" 'BEGIN { printf "%.1f\n", t * 1e6 / hz / n }'
}

# scenario TESTS N ARGS...: every test on every target with the same
# redis-benchmark arguments, ROUNDS times, the targets taking turns
scenario() {
    local tests=$1 n=$2 test
    shift 2
    for _ in $(seq "$rounds"); do
        # GET reads the key SET wrote (one key: no -r), so flush once per round
        redis-cli -p "$redis_port" flushall >/dev/null
        for test in ${tests//,/ }; do
            bench "$redis_port" "$REDIS_PID" "$test" "$n" "$@" >>"$work/direct"
            bench "$relay_port" "$relay_pid" "$test" "$n" "$@" >>"$work/relay"
            bench "$twem_port" "$twem_pid" "$test" "$n" "$@" >>"$work/twem"
        done
    done
}

# median FILE COLUMN: "TEST median-of-COLUMN" per test, in first-seen order
median() {
    awk -v c="$2" '{ if (!($1 in n)) order[++k] = $1; v[$1, ++n[$1]] = $c }
         END { for (i = 1; i <= k; i++) { t = order[i]; m = n[t]
                 for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++)
                     if (v[t, b] < v[t, a]) { x = v[t, a]; v[t, a] = v[t, b]; v[t, b] = x }
                 print t, (m % 2 ? v[t, (m + 1) / 2] : (v[t, m / 2] + v[t, m / 2 + 1]) / 2) } }' "$1"
}

table() {
    printf '%-10s %9s %9s %9s %10s %9s | %s\n' test direct relay twemproxy relay/twem relay/dir \
        'CPU µs per request: Redis, relay, twemproxy'
    local f
    for f in direct relay twem; do
        median "$work/$f" 2 >"$work/$f.rps"
        median "$work/$f" 3 >"$work/$f.cpu"
    done
    paste -d' ' "$work/direct.rps" "$work/relay.rps" "$work/twem.rps" \
        "$work/direct.cpu" "$work/relay.cpu" "$work/twem.cpu" |
        awk '{ printf "%-10s %9.0f %9.0f %9.0f %9.2fx %8.2fx | %6.1f %6.1f %6.1f\n",
                      $1, $2, $4, $6, $4 / $6, $4 / $2, $8, $10, $12 }'
    rm -f "$work"/direct* "$work"/relay.rps "$work"/relay.cpu "$work/relay" "$work"/twem*
}

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo "Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), twemproxy $(nutcracker --version 2>&1 | sed -n 's/.*nutcracker-//p'); requests/s from redis-benchmark -q and CPU time per request of each target process, median of $rounds rounds"

echo
echo "scenario: -c 50 -P 16, $requests requests per test"
scenario "$tests" "$requests" -P 16 -c 50
table

echo
echo "scenario: -c 50 -P 16 -d 16384 (16 KiB values), $((requests / 10)) requests per test"
scenario set,get $((requests / 10)) -P 16 -c 50 -d 16384
table

echo
echo "scenario: -c 50 -P 1 -d 16384 (16 KiB values, no pipelining), $((requests / 10)) requests per test"
scenario set,get $((requests / 10)) -P 1 -c 50 -d 16384
table

echo
echo "scenario: -c 1000 -P 1, $((requests / 4)) requests per test"
scenario set,get $((requests / 4)) -P 1 -c 1000
table
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
