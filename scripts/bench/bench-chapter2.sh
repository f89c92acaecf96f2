#!/usr/bin/env bash
# bench-chapter2.sh — chapter 2's client against redis-benchmark's own client,
# side by side in one run, on one private Redis: both use one connection and
# the same pipeline depth, and both send PING as a RESP array (redis-benchmark's
# PING_MBULK). Per pipeline depth it prints, for both clients:
#   requests/s    median of ROUNDS rounds (the two taking turns) ± the spread
#   CPU µs/req    user + system CPU time of the client process, per request
#                 (all rounds together: the kernel counts it in clock ticks)
#   syscalls/req  strace -c -f over a fixed 10,000 PINGs
#   instr/req     user-space instructions under callgrind: (run of 10,000
#                 PINGs − run of 1,000) / 9,000, so start-up and exit cancel
# and the ratio ours/theirs of each. requests/s swing on a shared machine;
# the other three hardly do. About a minute on an idle 2-core machine.
#
# Usage: scripts/bench/bench-chapter2.sh [REQUESTS=200000] [PIPELINES="1 16 64"] [ROUNDS=5]
set -eu
requests=${1:-200000}
pipelines=${2:-1 16 64}
rounds=${3:-5}
cd "$(dirname "$0")/../.."
client=${WORKBOOK_BIN:-build}/02_redis_client/redis_client
. scripts/lib.sh
make_workdir
start_private_redis "$work"
port=$REDIS_PORT
pids+=("$REDIS_PID")

# use ours|theirs P N: set cmd to that client's command line for N PINGs at pipeline P
use() {
    case $1 in
    ours) cmd=("$client" --port "$port" --bench "$3" --pipeline "$2") ;;
    theirs) cmd=(redis-benchmark -p "$port" -c 1 -P "$2" -n "$3" -t ping_mbulk -q) ;;
    esac
}
rps_of_ours() { sed -n 's/^PING: \([0-9]*\) requests per second.*/\1/p' "$work/out"; }
rps_of_theirs() { tr '\r' '\n' <"$work/out" | sed -n 's/^PING_MBULK: \([0-9.]*\) requests per second.*/\1/p'; }

# instr_per_request WHO P: callgrind's instructions per request, start-up cancelled
instr_per_request() {
    local big small
    use "$1" "$2" 10000
    big=$(callgrind_ir "${cmd[@]}")
    use "$1" "$2" 1000
    small=$(callgrind_ir "${cmd[@]}")
    echo $(((big - small) / 9000))
}

echo "$(machine_line) at start; other programs may share it"
echo "requests: $requests per round, $rounds rounds; cost columns: ours / redis-benchmark (ratio)"
printf '%-4s %18s %18s %7s | %-19s | %-19s | %-21s\n' P "redis_client/s" "redis-benchmark/s" ratio \
    "CPU µs/req" "syscalls/req" "instr/req"
for p in $pipelines; do
    : >"$work/o.rps"
    : >"$work/t.rps"
    : >"$work/o.cpu"
    : >"$work/t.cpu"
    for _ in $(seq "$rounds"); do
        use ours "$p" "$requests"
        run_cpu "$work/out" "${cmd[@]}" >>"$work/o.cpu"
        rps_of_ours >>"$work/o.rps"
        use theirs "$p" "$requests"
        run_cpu "$work/out" "${cmd[@]}" >>"$work/t.cpu"
        rps_of_theirs >>"$work/t.rps"
    done
    read -r o_rps o_sp < <(median_spread <"$work/o.rps")
    read -r t_rps t_sp < <(median_spread <"$work/t.rps")
    # CPU time is counted in clock ticks: the sum over all rounds, not a median
    o_cpu=$(awk '{ s += $1 } END { print s }' "$work/o.cpu")
    t_cpu=$(awk '{ s += $1 } END { print s }' "$work/t.cpu")
    use ours "$p" 10000
    o_sys=$(strace_calls "${cmd[@]}")
    use theirs "$p" 10000
    t_sys=$(strace_calls "${cmd[@]}")
    o_ir=$(instr_per_request ours "$p")
    t_ir=$(instr_per_request theirs "$p")
    awk -v p="$p" -v o="$o_rps" -v os="$o_sp" -v t="$t_rps" -v ts="$t_sp" -v oc="$o_cpu" -v tc="$t_cpu" \
        -v n=$((requests * rounds)) -v osy="$o_sys" -v tsy="$t_sys" -v oi="$o_ir" -v ti="$t_ir" 'BEGIN {
        ocu = oc * 1e6 / n; tcu = tc * 1e6 / n
        printf "%-4s %10.0f ±%3d%% %10.0f ±%3d%% %6.2fx | %4.2f / %4.2f (%4.2fx) | %4.2f / %4.2f (%4.2fx) | %5d / %5d (%4.2fx)\n",
            p, o, os, t, ts, (t > 0 ? o / t : 0), ocu, tcu, (tcu > 0 ? ocu / tcu : 0),
            osy / 10000, tsy / 10000, (tsy > 0 ? osy / tsy : 0), oi, ti, (ti > 0 ? oi / ti : 0) }'
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
