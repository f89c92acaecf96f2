#!/usr/bin/env bash
# 11_threads/bench.sh — make bench-chapter11: chapter 11's figures in one run.
#
# 1. Echo: chapter 0's loadgen (CONNS connections x LINES lines of 64 bytes)
#    against chapter 0's single-threaded echo_libevent, threaded_echo and
#    reuseport_echo at --threads 1, 2 and 4, ROUNDS times, the servers taking
#    turns; the median of each: requests/s, the ratio to echo_libevent, and the
#    server's CPU time per request (user + system, from /proc/PID/stat) — on a
#    shared 2-core machine the steadier figure. The spread of connections over
#    the threads (SIGUSR1's counts) is printed for the last round.
# 2. Offload: pinger.py's PING latency (p50/p99) against offload with the pool
#    (no slow work; one HASH job at a time; two at once) and with --inline.
#
# loadgen is one thread: it and the server share the 2 cores, so requests/s
# says more about the machine than about the server; see docs/11-threads.md.
#
# Usage: 11_threads/bench.sh [ROUNDS=3] [CONNS=200] [LINES=500]
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
rounds=${1:-3}
conns=${2:-200}
lines=${3:-500}
bin=${WORKBOOK_BIN:-build}
hash_job='HASH 20000000'

make_workdir
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
clk_tck=$(getconf CLK_TCK)

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# start NAME CMD...: run a server on a free port; sets SRV_PID, SRV_PORT
start() {
    local name=$1
    shift
    "$@" --port 0 >"$work/$name.out" 2>"$work/$name.err" &
    SRV_PID=$!
    pids+=("$SRV_PID")
    SRV_PORT=$(wait_listening_port "$work/$name.out" 10) || { cat "$work/$name.err" >&2; exit 1; }
}

stop() { # stop PID
    kill -INT "$1"
    wait "$1" || true
}

# one NAME: a loadgen run against the running server: "req/s cpu-µs-per-request"
one() {
    local before after out
    before=$(cpu_ticks "$SRV_PID")
    out=$("$bin/tools/loadgen" --port "$SRV_PORT" --connections "$conns" \
        --lines "$lines" --bytes 64)
    after=$(cpu_ticks "$SRV_PID")
    grep -q '^errors 0$' <<<"$out" || { echo "$1: loadgen: $out" >&2; exit 1; }
    req_s=$(sed -n 's/^requests .* s: \([0-9]*\) req\/s$/\1/p' <<<"$out")
    awk -v r="$req_s" -v t=$((after - before)) -v hz="$clk_tck" -v n=$((conns * lines)) \
        'BEGIN { printf "%s %.2f\n", r, t * 1e6 / hz / n }' >>"$work/$1.fig"
}

configs=("echo_libevent|00_why_event_loop/echo_libevent")
for n in 1 2 4; do
    configs+=("threaded_echo-$n|11_threads/threaded_echo --threads $n")
    configs+=("reuseport_echo-$n|11_threads/reuseport_echo --threads $n")
done

echo
echo "== echo: $conns connections x $lines lines, $rounds rounds, median =="
for round in $(seq "$rounds"); do
    for c in "${configs[@]}"; do
        name=${c%%|*}
        # shellcheck disable=SC2086 # the command line is words on purpose
        start "$name" "$bin"/${c#*|}
        one "$name"
        if [ "$round" = "$rounds" ] && [ "$name" != echo_libevent ]; then
            kill -USR1 "$SRV_PID"
            wait_for_line "$work/$name.out" '^thread 0: ' 10 >/dev/null
            sleep 0.2 # the other threads' lines follow at once
            sed -n 's/^thread [0-9]*: \([0-9]*\) connections*\b.*$/\1/p' "$work/$name.out" |
                paste -sd/ >"$work/$name.balance"
        fi
        stop "$SRV_PID"
    done
done

median() { # FILE COLUMN
    sort -n -k"$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'
}
base=$(median "$work/echo_libevent.fig" 1)
printf '%-18s %10s %9s %16s  %s\n' server req/s "vs ch.0" "CPU µs/request" "connections per thread"
for c in "${configs[@]}"; do
    name=${c%%|*}
    r=$(median "$work/$name.fig" 1)
    cpu=$(median "$work/$name.fig" 2)
    printf '%-18s %10s %8.2fx %16s  %s\n' "$name" "$r" "$(awk -v a="$r" -v b="$base" 'BEGIN { print a / b }')" \
        "$cpu" "$(cat "$work/$name.balance" 2>/dev/null || echo -)"
done

echo
echo "== offload: PING latency, 500 pings 2 ms apart (inline: 20) =="
printf '%-40s %10s %10s %10s\n' scenario "p50 ms" "p99 ms" "max ms"
ping_row() { # LABEL PINGER-ARGS...
    local label=$1 out
    shift
    out=$(11_threads/pinger.py --port "$SRV_PORT" --timeout 120 "$@")
    sed -n 's/^pings [0-9]*: p50 \([0-9.]*\) ms  p99 \([0-9.]*\) ms  max \([0-9.]*\) ms$/\1 \2 \3/p' \
        <<<"$out" | awk -v l="$label" '{ printf "%-40s %10s %10s %10s\n", l, $1, $2, $3 }'
}
start offload "$bin/11_threads/offload" --threads 2
ping_row "pool of 2, no slow jobs" --pings 500 --interval 2
ping_row "pool of 2, 1 $hash_job at a time" --pings 500 --interval 2 --slow "$hash_job" --slow-conns 1
ping_row "pool of 2, 2 at a time" --pings 500 --interval 2 --slow "$hash_job" --slow-conns 2
stop "$SRV_PID"
start offload-inline "$bin/11_threads/offload" --inline
ping_row "--inline, no slow jobs" --pings 500 --interval 2
ping_row "--inline, 1 $hash_job at a time" --pings 20 --interval 2 --slow "$hash_job" --slow-conns 1
stop "$SRV_PID"
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
