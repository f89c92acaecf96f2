#!/usr/bin/env bash
# bench-chapter7.sh — redis-benchmark against three targets in one run, on one
# private Redis: Redis directly, twemproxy (nutcracker) and chapter 7's
# multiplexer. Prints a table per scenario with requests/s, the ratios
# mux/twemproxy and mux/direct, and the multiplexer's batching factor in that
# scenario (requests per write to Redis, from its SIGUSR1 stats). Under each
# table, where the CPU went: how many cores redis-benchmark kept busy (1.00 =
# its one thread never waited: the load generator, not the target, set the
# pace) and the target's CPU time per request.
#
# Every scenario runs ROUNDS times, the three targets taking turns; the table
# shows each target's median: a 2-core machine running the benchmark, Redis
# and a proxy at once is noisy.
#
# Usage: scripts/bench/bench-chapter7.sh [REQUESTS=100000] [ROUNDS=5]   (about 6 minutes)
#   MUX_BIN_B=path   also run a second multiplexer binary (say, the previous
#                    version) in the same rounds: an A/B column "mux B" and the
#                    ratio mux/B are added to each table
#   SCENARIOS="1 3"  run only these scenarios (1: -c 1000, 1t: -c 1000 with
#                    redis-benchmark --threads, one per core, 2: -P 16, 3: 16 KiB)
set -eu
cd "$(dirname "$0")/../.."
. scripts/lib.sh
requests=${1:-100000}
rounds=${2:-5}
mux_bin=${WORKBOOK_BIN:-build}/07_redis_multiplexer/mux
mux_b_bin=${MUX_BIN_B:-}
scenarios=${SCENARIOS:-1 1t 2 3}
# redis-benchmark is one thread by default, and at -c 1000 -P 1 that thread is
# the slowest part of the run (see docs/07): scenario 1t gives it a thread per core
generator_threads=$(nproc)

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

if [ -n "$mux_b_bin" ]; then
    mux_b_port=$(free_port)
    "$mux_b_bin" --port "$mux_b_port" --redis-port "$redis_port" >"$work/mux_b.log" 2>&1 &
    mux_b_pid=$!
    pids+=("$mux_b_pid")
    wait_listening "$mux_b_port" 10 || exit 1
fi

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

clk_tck=$(getconf CLK_TCK)

# bench NAME PORT PID ARGS... -> "TEST requests/s" lines in $work/NAME, one per
# test in run order; and in $work/NAME.cpu one line: how busy redis-benchmark
# kept its threads (CPU time / wall time, in cores) and the CPU time PID (the
# target: Redis itself or the proxy) used per request, in microseconds
bench() {
    local name=$1 port=$2 pid=$3 t0 t1 requests
    shift 3
    requests=$(($(printf '%s\n' "$@" | sed -n '/^-n$/{n;p}') * 2)) # set and get
    redis-cli -p "$redis_port" flushall >/dev/null
    t0=$(cpu_ticks "$pid")
    { time redis-benchmark -p "$port" -q "$@" >"$work/out" 2>/dev/null; } 2>"$work/time"
    t1=$(cpu_ticks "$pid")
    tr '\r' '\n' <"$work/out" |
        sed -n 's/^\([A-Z_0-9]*\)[^:]*: \([0-9.]*\) requests per second.*/\1 \2/p' |
        awk '!seen[$1]++' >>"$work/$name"
    awk -v t=$((t1 - t0)) -v hz="$clk_tck" -v n="$requests" \
        '{ printf "generator %.2f\ntarget %.1f\n", ($2 + $3) / $1, t * 1e6 / hz / n }' \
        "$work/time" >>"$work/$name.cpu"
}
TIMEFORMAT='%R %U %S'

# scenario ARGS...: every target with the same arguments, ROUNDS times, taking
# turns; then the table, with the batching factor the multiplexer reached
scenario() {
    local r0 w0 r1 w1
    read -r r0 w0 < <(mux_counters)
    for _ in $(seq "$rounds"); do
        bench direct "$redis_port" "$REDIS_PID" "$@"
        bench twem "$twem_port" "$twem_pid" "$@"
        bench mux "$mux_port" "$mux_pid" "$@"
        if [ -n "$mux_b_bin" ]; then bench mux_b "$mux_b_port" "$mux_b_pid" "$@"; fi
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

# cpu_lines: the medians of the .cpu files, a row per measure, a column per target
cpu_lines() {
    local name names="direct twem mux"
    [ -z "$mux_b_bin" ] || names="$names mux_b"
    for name in $names; do median "$work/$name.cpu" >"$work/$name.cpu.m"; done
    # shellcheck disable=SC2046 # one file per target, in column order
    awk 'FNR == 1 { col++ } { v[$1, col] = $2 }
         END { printf "%-44s", ""
               split("direct twemproxy mux mux_B", head, " ")
               for (i = 1; i <= col; i++) printf " %8s", head[i]; print ""
               printf "%-44s", "redis-benchmark busy, cores"
               for (i = 1; i <= col; i++) printf " %8.2f", v["generator", i]; print ""
               printf "%-44s", "CPU per request, us (Redis direct, else proxy)"
               for (i = 1; i <= col; i++) printf " %8.1f", v["target", i]; print "" }' \
        $(for name in $names; do echo "$work/$name.cpu.m"; done)
}

table() {
    median "$work/direct" >"$work/direct.m"
    median "$work/twem" >"$work/twem.m"
    median "$work/mux" >"$work/mux.m"
    if [ -n "$mux_b_bin" ]; then
        median "$work/mux_b" >"$work/mux_b.m"
        printf '%-6s %12s %12s %12s %12s %14s %11s %8s\n' test direct twemproxy mux "mux B" \
            mux/twemproxy mux/direct mux/B
        awk 'FILENAME == ARGV[1] { order[++n] = $1; d[$1] = $2; next }
             FILENAME == ARGV[2] { t[$1] = $2; next }
             FILENAME == ARGV[3] { m[$1] = $2; next }
             { b[$1] = $2 }
             END { for (i = 1; i <= n; i++) { k = order[i]
                     printf "%-6s %12.0f %12.0f %12.0f %12.0f %13.2fx %10.2fx %7.2fx\n", k, d[k], t[k], m[k], b[k],
                            m[k] / t[k], m[k] / d[k], m[k] / b[k] } }' \
            "$work/direct.m" "$work/twem.m" "$work/mux.m" "$work/mux_b.m"
    else
        printf '%-6s %12s %12s %12s %14s %11s\n' test direct twemproxy mux mux/twemproxy mux/direct
        awk 'FILENAME == ARGV[1] { order[++n] = $1; d[$1] = $2; next }
             FILENAME == ARGV[2] { t[$1] = $2; next }
             { m[$1] = $2 }
             END { for (i = 1; i <= n; i++) { k = order[i]
                     printf "%-6s %12.0f %12.0f %12.0f %13.2fx %10.2fx\n", k, d[k], t[k], m[k], m[k] / t[k], m[k] / d[k] } }' \
            "$work/direct.m" "$work/twem.m" "$work/mux.m"
    fi
    cpu_lines
    rm -f "$work"/direct* "$work"/twem* "$work"/mux.m "$work/mux" "$work/mux.cpu" "$work"/mux_b*
}

# costs ARGS...: the steady measures of a scenario (ARGS: its redis-benchmark
# arguments but -t and -n), for the multiplexer and twemproxy alike, on a
# fixed short workload (COST_REQUESTS SET + as many GET): system calls per
# request of the running proxies (strace), and user-space instructions per
# request of a fresh copy of each under callgrind, start and exit subtracted
# (scripts/lib.sh's rb_syscalls and rb_instructions)
cost_n=${COST_REQUESTS:-10000}
twem_cg_conf() {
    sed "s/listen: .*/listen: 127.0.0.1:$1/" "$work/nutcracker.yml" >"$work/cg.yml"
}
cg_mux() { rb_instructions "$1" "$2" "$3" "$mux_bin" --port "$1" --redis-port "$redis_port"; }
cg_twem() {
    twem_cg_conf "$1"
    rb_instructions "$1" "$2" "$3" nutcracker -c "$work/cg.yml" -s "$(free_port)" -o "$work/cg-twem.log"
}
mux_idle=
costs() {
    local sm st im it
    if [ -z "$mux_idle" ]; then # what start and exit cost, once
        mux_idle=$(cg_mux "$(free_port)" 0 0)
        twem_idle=$(cg_twem "$(free_port)" 0 0)
    fi
    rb_args=("$@")
    sm=$(rb_syscalls "$mux_pid" "$cost_n" -p "$mux_port" "$@")
    st=$(rb_syscalls "$twem_pid" "$cost_n" -p "$twem_port" "$@")
    im=$(cg_mux "$(free_port)" "$cost_n" "$mux_idle")
    it=$(cg_twem "$(free_port)" "$cost_n" "$twem_idle")
    printf '%-44s %8s %9s %9s\n' "per request, $cost_n SET + $cost_n GET" mux twemproxy mux/twem
    awk -v a="$sm" -v b="$st" 'BEGIN { printf "%-44s %8.2f %9.2f %8.2fx\n", "system calls (strace -c -f)", a, b, (b ? a / b : 0) }'
    awk -v a="$im" -v b="$it" 'BEGIN { printf "%-44s %8d %9d %8.2fx\n", "user-space instructions (callgrind)", a, b, (b ? a / b : 0) }'
}

echo "$(machine_line); other programs may share it"
echo "Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), twemproxy $(nutcracker --version 2>&1 | sed -n 's/.*nutcracker-//p'); mux with 1 shared connection; requests/s from redis-benchmark -q, median of $rounds rounds"

[ -n "$mux_b_bin" ] && echo "mux B: $mux_b_bin (same Redis, same rounds)"

want() { case " $scenarios " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

if want 1; then
echo
echo "scenario: -c 1000 -P 1, $requests requests per test"
scenario -t set,get -n "$requests" -c 1000 -P 1
costs -c 1000 -P 1
fi
if want 1t; then
echo
echo "scenario: -c 1000 -P 1 --threads $generator_threads (redis-benchmark with a thread per core), $((requests * 2)) requests per test"
scenario -t set,get -n $((requests * 2)) -c 1000 -P 1 --threads "$generator_threads"
fi
if want 2; then
echo
echo "scenario: -c 50 -P 16, $((requests * 3)) requests per test"
scenario -t set,get -n $((requests * 3)) -c 50 -P 16
costs -c 50 -P 16
fi
if want 3; then
echo
echo "scenario: -c 50 -P 1 -d 16384 (16 KiB values), $((requests / 4)) requests per test"
scenario -t set,get -n $((requests / 4)) -c 50 -P 1 -d 16384
costs -c 50 -P 1 -d 16384
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
