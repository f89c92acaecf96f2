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
# not (-P 1), and 1,000 clients without pipelining. After each table, the
# steady measures of that scenario for the relay and twemproxy (system calls
# and callgrind instructions per request; scripts/lib.sh), and once more for
# -c 50 -P 1 with small values. About 3 minutes on an idle 2-core machine; the
# load average is printed at the start and the end, because on a shared
# machine it decides how far to trust the requests/s.
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

bench_targets=("direct:$redis_port:$REDIS_PID" "relay:$relay_port:$relay_pid" "twemproxy:$twem_port:$twem_pid")
bench_flush_port=$redis_port
# the rounds (rb_scenario) and their table (rb_table) are scripts/lib.sh's
scenario() {
    local tests=$1 n=$2
    shift 2
    last_args=("$@")
    rb_scenario "$tests" "$n" "$@"
}
table() { rb_table; }

# costs ARGS...: the steady measures of one scenario, for the relay and
# twemproxy alike, on a fixed short workload (COST_REQUESTS SET + as many
# GET): system calls per request of the running proxies (strace), and
# user-space instructions per request of a fresh copy of each under callgrind
# (Redis's own work behind them is the same for both and not counted).
cost_n=${COST_REQUESTS:-10000}
costs() {
    local sr st ir it cport
    rb_args=("$@")
    sr=$(rb_syscalls "$relay_pid" "$cost_n" -p "$relay_port" "$@")
    st=$(rb_syscalls "$twem_pid" "$cost_n" -p "$twem_port" "$@")
    cport=$(free_port)
    ir=$(rb_instructions "$cport" "$cost_n" "$relay_idle" "$relay_bin" --port "$cport" --redis-port "$redis_port")
    cport=$(free_port)
    twem_cg_conf "$cport"
    it=$(rb_instructions "$cport" "$cost_n" "$twem_idle" nutcracker -c "$work/cg.yml" -s "$(free_port)" -o "$work/cg-twem.log")
    printf '%-10s %15s %15s %9s
' "per request" relay twemproxy relay/twem
    awk -v a="$sr" -v b="$st" 'BEGIN { printf "%-10s %15.2f %15.2f %8.2fx\n", "syscalls", a, b, (b ? a / b : 0) }'
    awk -v a="$ir" -v b="$it" 'BEGIN { printf "%-10s %15d %15d %8.2fx\n", "instr", a, b, (b ? a / b : 0) }'
}
twem_cg_conf() {
    sed "s/listen: .*/listen: 127.0.0.1:$1/" "$work/nutcracker.yml" >"$work/cg.yml"
}
# each proxy started and stopped under callgrind with no work: what its start
# and exit cost, subtracted from every measured run
cport=$(free_port)
relay_idle=$(rb_instructions "$cport" 0 0 "$relay_bin" --port "$cport" --redis-port "$redis_port")
cport=$(free_port)
twem_cg_conf "$cport"
twem_idle=$(rb_instructions "$cport" 0 0 nutcracker -c "$work/cg.yml" -s "$(free_port)" -o "$work/cg-twem.log")

echo "$(machine_line) at start; other programs may share it"
echo "Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), twemproxy $(nutcracker --version 2>&1 | sed -n 's/.*nutcracker-//p'); requests/s from redis-benchmark -q and CPU time per request of each target process, median of $rounds rounds"

echo
echo "scenario: -c 50 -P 16, $requests requests per test"
scenario "$tests" "$requests" -P 16 -c 50
table
costs "${last_args[@]}"

echo
echo "costs only: -c 50 -P 1 (small values, no pipelining)"
costs -c 50 -P 1

echo
echo "scenario: -c 50 -P 16 -d 16384 (16 KiB values), $((requests / 10)) requests per test"
scenario set,get $((requests / 10)) -P 16 -c 50 -d 16384
table
costs "${last_args[@]}"

echo
echo "scenario: -c 50 -P 1 -d 16384 (16 KiB values, no pipelining), $((requests / 10)) requests per test"
scenario set,get $((requests / 10)) -P 1 -c 50 -d 16384
table
costs "${last_args[@]}"

echo
echo "scenario: -c 1000 -P 1, $((requests / 4)) requests per test"
scenario set,get $((requests / 4)) -P 1 -c 1000
table
costs "${last_args[@]}"
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
