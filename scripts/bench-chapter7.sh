#!/usr/bin/env bash
# bench-chapter7.sh — redis-benchmark against three targets in one run, on one
# private Redis: Redis directly, twemproxy (nutcracker) and chapter 7's
# multiplexer. Prints a table per scenario with requests/s, the ratios
# mux/twemproxy and mux/direct, and the multiplexer's batching factor in that
# scenario (requests per write to Redis, from its SIGUSR1 stats).
#
# Every scenario runs ROUNDS times, the three targets taking turns; the table
# shows each target's median: a 2-core machine running the benchmark, Redis
# and a proxy at once is noisy.
#
# Usage: scripts/bench-chapter7.sh [REQUESTS=50000] [ROUNDS=3]   (about 4 minutes)
set -eu
cd "$(dirname "$0")/.."
. scripts/lib.sh
requests=${1:-50000}
rounds=${2:-3}
mux_bin=${WORKBOOK_BIN:-.}/07_redis_multiplexer/mux

make_workdir
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

start_private_redis "$work"
redis_port=$REDIS_PORT
pids+=("$REDIS_PID")

mux_port=$(free_port)
"$mux_bin" --port "$mux_port" --redis-port "$redis_port" >"$work/mux.log" 2>&1 &
mux_pid=$!
pids+=("$mux_pid")
wait_listening "$mux_port" 10 || exit 1

start_twemproxy "$redis_port" || exit 1
twem_port=$TWEM_PORT
twem_pid=$TWEM_PID

# mux_counters: "requests writes" from a fresh SIGUSR1 stats line
mux_counters() {
    local before
    before=$(grep -c '^stats: ' "$work/mux.log" || true)
    kill -USR1 "$mux_pid"
    for _ in $(seq 100); do
        [ "$(grep -c '^stats: ' "$work/mux.log" || true)" -gt "$before" ] && break
        sleep 0.05
    done
    grep '^stats: ' "$work/mux.log" | tail -n 1 |
        sed 's/.* requests=\([0-9]*\) .* upstream_writes=\([0-9]*\) .*/\1 \2/'
}

# bench PORT ARGS... -> "TEST requests/s" lines, one per test, in run order
bench() {
    local port=$1
    shift
    redis-cli -p "$redis_port" flushall >/dev/null
    redis-benchmark -p "$port" -q "$@" 2>/dev/null | tr '\r' '\n' |
        sed -n 's/^\([A-Z_0-9]*\)[^:]*: \([0-9.]*\) requests per second.*/\1 \2/p' |
        awk '!seen[$1]++'
}

# scenario ARGS...: every target with the same arguments, ROUNDS times, taking
# turns; then the table, with the batching factor the multiplexer reached
scenario() {
    local r0 w0 r1 w1
    read -r r0 w0 < <(mux_counters)
    for _ in $(seq "$rounds"); do
        bench "$redis_port" "$@" >>"$work/direct"
        bench "$twem_port" "$@" >>"$work/twem"
        bench "$mux_port" "$@" >>"$work/mux"
    done
    read -r r1 w1 < <(mux_counters)
    table
    awk -v r=$((r1 - r0)) -v w=$((w1 - w0)) \
        'BEGIN { printf "mux batching factor: %.1f requests per write to Redis (%d requests, %d writes)\n", (w ? r / w : 0), r, w }'
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
    printf '%-6s %12s %12s %12s %14s %11s\n' test direct twemproxy mux mux/twemproxy mux/direct
    median "$work/direct" >"$work/direct.m"
    median "$work/twem" >"$work/twem.m"
    median "$work/mux" >"$work/mux.m"
    awk 'FILENAME == ARGV[1] { order[++n] = $1; d[$1] = $2; next }
         FILENAME == ARGV[2] { t[$1] = $2; next }
         { m[$1] = $2 }
         END { for (i = 1; i <= n; i++) { k = order[i]
                 printf "%-6s %12.0f %12.0f %12.0f %13.2fx %10.2fx\n", k, d[k], t[k], m[k], m[k] / t[k], m[k] / d[k] } }' \
        "$work/direct.m" "$work/twem.m" "$work/mux.m"
    rm -f "$work"/direct* "$work"/twem* "$work"/mux.m "$work/mux"
}

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), twemproxy $(nutcracker --version 2>&1 | sed -n 's/.*nutcracker-//p'); mux with 1 shared connection; requests/s from redis-benchmark -q, median of $rounds rounds"

echo
echo "scenario: -c 1000 -P 1, $requests requests per test"
scenario -t set,get -n "$requests" -c 1000 -P 1

echo
echo "scenario: -c 50 -P 16, $((requests * 3)) requests per test"
scenario -t set,get -n $((requests * 3)) -c 50 -P 16

echo
echo "scenario: -c 50 -P 1 -d 16384 (16 KiB values), $((requests / 4)) requests per test"
scenario -t set,get -n $((requests / 4)) -c 50 -P 1 -d 16384
