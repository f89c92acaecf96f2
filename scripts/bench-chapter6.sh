#!/usr/bin/env bash
# bench-chapter6.sh — redis-benchmark against three targets in one run, on one
# private Redis: Redis directly, chapter 6's relay, and twemproxy (nutcracker)
# configured for the same Redis. Prints one table with requests/s and the
# ratios relay/twemproxy and relay/direct.
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
# Usage: scripts/bench-chapter6.sh [REQUESTS=200000] [ROUNDS=3]
set -eu
cd "$(dirname "$0")/.."
. scripts/lib.sh
requests=${1:-200000}
rounds=${2:-3}
relay_bin=${WORKBOOK_BIN:-.}/06_redis_relay/relay
tests=set,get,incr,lpush,lrange_100

make_workdir
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

wait_port() {
    for _ in $(seq 100); do (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.05; done
    echo "bench-chapter6: nothing listens on $1" >&2
    exit 1
}

start_private_redis "$work"
redis_port=$REDIS_PORT
pids+=("$REDIS_PID")

relay_port=$(free_port)
"$relay_bin" --port "$relay_port" --redis-port "$redis_port" >"$work/relay.log" 2>&1 &
pids+=($!)
wait_port "$relay_port"

twem_port=$(free_port)
cat >"$work/nutcracker.yml" <<YML
workbook:
  listen: 127.0.0.1:$twem_port
  hash: fnv1a_64
  distribution: ketama
  redis: true
  servers:
   - 127.0.0.1:$redis_port:1
YML
nutcracker -c "$work/nutcracker.yml" -s "$(free_port)" -o "$work/nutcracker.log" &
pids+=($!)
wait_port "$twem_port"

# bench PORT ARGS... -> "TEST requests/s" lines, one per test, in run order
bench() {
    local port=$1
    shift
    redis-cli -p "$redis_port" flushall >/dev/null
    redis-benchmark -p "$port" -q "$@" 2>/dev/null | tr '\r' '\n' |
        sed -n 's/^\([A-Z_0-9]*\)[^:]*: \([0-9.]*\) requests per second.*/\1 \2/p' |
        awk '!seen[$1]++' # lrange_100 first runs an LPUSH of its own: keep the first
}

# scenario ARGS...: every target with the same redis-benchmark arguments,
# ROUNDS times, taking turns
scenario() {
    for _ in $(seq "$rounds"); do
        bench "$redis_port" "$@" >>"$work/direct"
        bench "$relay_port" "$@" >>"$work/relay"
        bench "$twem_port" "$@" >>"$work/twem"
    done
}

# median FILE: "TEST median" per test, in first-seen order
median() {
    awk '{ if (!($1 in n)) order[++k] = $1; v[$1, ++n[$1]] = $2 }
         END { for (i = 1; i <= k; i++) { t = order[i]; m = n[t]
                 for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++)
                     if (v[t, b] < v[t, a]) { x = v[t, a]; v[t, a] = v[t, b]; v[t, b] = x }
                 print t, (m % 2 ? v[t, (m + 1) / 2] : (v[t, m / 2] + v[t, m / 2 + 1]) / 2) } }' "$1"
}

table() {
    printf '%-10s %12s %12s %12s %16s %13s\n' test direct relay twemproxy relay/twemproxy relay/direct
    median "$work/direct" >"$work/direct.m"
    median "$work/relay" >"$work/relay.m"
    median "$work/twem" >"$work/twem.m"
    awk 'FILENAME == ARGV[1] { order[++n] = $1; d[$1] = $2; next }
         FILENAME == ARGV[2] { r[$1] = $2; next }
         { t[$1] = $2 }
         END { for (i = 1; i <= n; i++) { k = order[i]
                 printf "%-10s %12.0f %12.0f %12.0f %15.2fx %12.2fx\n", k, d[k], r[k], t[k], r[k] / t[k], r[k] / d[k] } }' \
        "$work/direct.m" "$work/relay.m" "$work/twem.m"
    rm -f "$work"/direct* "$work"/relay.m "$work/relay" "$work"/twem*
}

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo "Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), twemproxy $(nutcracker --version 2>&1 | sed -n 's/.*nutcracker-//p'); requests/s from redis-benchmark -q, median of $rounds rounds"

echo
echo "scenario: -c 50 -P 16, $requests requests per test"
scenario -t "$tests" -n "$requests" -P 16 -c 50
table

echo
echo "scenario: -c 50 -P 16 -d 16384 (16 KiB values), $((requests / 10)) requests per test"
scenario -t set,get -n $((requests / 10)) -P 16 -c 50 -d 16384
table

echo
echo "scenario: -c 50 -P 1 -d 16384 (16 KiB values, no pipelining), $((requests / 10)) requests per test"
scenario -t set,get -n $((requests / 10)) -P 1 -c 50 -d 16384
table

echo
echo "scenario: -c 1000 -P 1, $((requests / 4)) requests per test"
scenario -t set,get -n $((requests / 4)) -P 1 -c 1000
table
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
