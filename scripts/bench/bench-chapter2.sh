#!/usr/bin/env bash
# bench-chapter2.sh — chapter 2's client against redis-benchmark, side by side
# in one run, on one private Redis: both use one connection and the same
# pipeline depth, and both send PING as a RESP array (redis-benchmark's
# PING_MBULK). Prints a table and the ratio.
#
# Usage: scripts/bench/bench-chapter2.sh [REQUESTS=200000] [PIPELINES="1 16 64"] [ROUNDS=3]
set -eu
requests=${1:-200000}
pipelines=${2:-1 16 64}
rounds=${3:-3}
client=${WORKBOOK_BIN:-build}/02_redis_client/redis_client

dir=$(mktemp -d)
cd "$(dirname "$0")/../.."
. scripts/lib.sh
start_private_redis "$dir"
port=$REDIS_PORT
trap 'kill $REDIS_PID 2>/dev/null; wait $REDIS_PID 2>/dev/null; rm -rf "$dir"' EXIT

# best of ROUNDS, alternating the two programs so drift hits both alike
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
echo "requests: $requests per run, best of $rounds rounds"
printf '%-10s %16s %18s %8s\n' pipeline "redis_client/s" "redis-benchmark/s" ratio
for p in $pipelines; do
    ours=0 theirs=0
    for _ in $(seq "$rounds"); do
        o=$("$client" --port "$port" --bench "$requests" --pipeline "$p" |
            sed -n 's/^PING: \([0-9]*\) requests per second.*/\1/p')
        t=$(redis-benchmark -p "$port" -c 1 -P "$p" -n "$requests" -t ping -q 2>/dev/null |
            tr '\r' '\n' | sed -n 's/^PING_MBULK: \([0-9.]*\) requests per second.*/\1/p' | cut -d. -f1)
        [ "$o" -gt "$ours" ] && ours=$o
        [ "$t" -gt "$theirs" ] && theirs=$t
    done
    awk -v p="$p" -v o="$ours" -v t="$theirs" \
        'BEGIN { printf "%-10s %16d %18d %7.2fx\n", p, o, t, (t > 0 ? o / t : 0) }'
done
