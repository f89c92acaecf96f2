#!/usr/bin/env bash
# bench-c10k.sh — 10,000 concurrent idle connections to chapter 1's listener
# and to chapter 6's relay (each relay client also holds a connection to
# Redis). For each: does it hold them all, is a new client still served
# quickly, and how much resident memory does one idle connection cost?
#
# Usage: scripts/bench/bench-c10k.sh [CONNECTIONS=10000]
set -eu
n=${1:-10000}
cd "$(dirname "$0")/../.."
. scripts/lib.sh
bin=${WORKBOOK_BIN:-build}
# This shell holds the client ends; the servers inherit the raised limit. A
# relay needs two descriptors per client (its side and its own to Redis).
want=$((2 * n + 1000))
ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
limit=$(ulimit -n)
if [ "$limit" -lt $((n + 100)) ]; then
    echo "bench-c10k: the descriptor limit is $limit: too low for $n connections" >&2
    exit 1
fi
relay_n=$n
if [ "$limit" -lt "$want" ]; then
    relay_n=$(((limit - 1000) / 2))
    echo "note: the hard descriptor limit here is $limit (raising it needs CAP_SYS_RESOURCE):"
    echo "      the relay, at two descriptors per client, is measured with $relay_n clients"
fi

make_workdir

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
# start NAME CMD...: run a server, wait for its listening line; sets PORT, PID
start() {
    local name=$1
    shift
    "$@" >"$work/$name.out" 2>"$work/$name.err" &
    PID=$!
    pids+=("$PID")
    PORT=$(wait_listening_port "$work/$name.out") && return
    echo "bench-c10k: $name did not start" >&2
    cat "$work/$name.err" >&2
    exit 1
}

# measure NAME N PROBE_COMMAND: open N connections, report
measure() {
    local name=$1 n=$2 probe=$3 before after fds=() fd i start_ns elapsed_ms held
    sleep 0.5
    before=$(rss_kib "$PID")
    start_ns=$(date +%s%N)
    for ((i = 0; i < n; i++)); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
        fds+=("$fd")
    done
    local open_ms=$((($(date +%s%N) - start_ns) / 1000000))
    sleep 2 # let the server finish accepting and settle
    held=$(($(find "/proc/$PID/fd" -mindepth 1 -maxdepth 1 | wc -l)))
    after=$(rss_kib "$PID")
    start_ns=$(date +%s%N)
    local answer
    answer=$(eval "$probe")
    elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
    for fd in "${fds[@]}"; do exec {fd}>&-; done
    awk -v name="$name" -v n="$n" -v open_ms="$open_ms" -v held="$held" -v b="$before" \
        -v a="$after" -v ms="$elapsed_ms" -v answer="$answer" 'BEGIN {
        printf "%-9s %7d conns opened in %6d ms; server fds %6d; RSS %7d -> %7d KiB: %5.2f KiB per connection; new client answered in %d ms (%s)\n",
            name, n, open_ms, held, b, a, (a - b) / n, ms, answer }'
}

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); libevent $(pkg-config --modversion libevent)"
start listener "$bin/01_listener/listener" --port 0
measure listener "$n" "printf 'still here\\n' | nc -N 127.0.0.1 \$PORT | tail -n 1"
kill -INT "$PID"

start_private_redis "$work" --maxclients $((relay_n + 1000))
redis_port=$REDIS_PORT
pids+=("$REDIS_PID")
start relay "$bin/06_redis_relay/relay" --port 0 --redis-port "$redis_port"
measure relay "$relay_n" "redis-cli -p \$PORT ping"
echo "(a relay connection is two sockets and two bufferevents: the client's and its own to Redis)"
