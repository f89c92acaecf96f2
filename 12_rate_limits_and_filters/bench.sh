#!/usr/bin/env bash
# 12_rate_limits_and_filters/bench.sh — make bench-chapter12: the shaper
# measured by meter, every figure from one run, side by side.
#
#   1. accuracy: one connection at 1 KiB/s, 64 KiB/s, 1 MiB/s, 10 MiB/s and
#      100 MiB/s, all five at once for SECONDS (default 10): achieved / configured
#   2. fairness: 10 connections sharing 1 MiB/s, libevent's group and --fair at
#      once: the total, Jain's index over the run and per second
#   3. CPU cost: the shaper's CPU per GiB sent, shaped at 100 MiB/s and not
#      shaped at all (3 s each, one after the other)
# On a shared machine the rates hold (they are the buckets'), the CPU figures
# move with the load: quote them as a ratio.
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
bin=${WORKBOOK_BIN:-.}/12_rate_limits_and_filters
seconds=${SECONDS_PER_RUN:-10}
make_workdir
hz=$(getconf CLK_TCK)

declare -A port pid
# shaper NAME FLAGS...: start one; its port is port[NAME], its pid pid[NAME]
shaper() {
    local name=$1
    shift
    "$bin/shaper" --port 0 "$@" >"$work/$name.log" 2>&1 &
    pids+=($!)
    pid[$name]=$!
    port[$name]=$(wait_listening_port "$work/$name.log")
}
total() { awk '/^total:/ { print $2 }' "$1"; }

echo "== accuracy: one connection each, $seconds s, all at once (tick 50 ms, burst = one second's)"
rates="1024 65536 1048576 10485760 104857600"
for r in $rates; do shaper "r$r" --rate "$r"; done
for r in $rates; do
    "$bin/meter" --port "${port[r$r]}" --seconds "$seconds" >"$work/m$r" &
done
wait_meters() { while [ "$(jobs -rp | wc -l)" -gt "$1" ]; do sleep 0.2; done; }
wait_meters ${#pids[@]}
printf '%12s %14s %8s\n' "configured" "achieved B/s" "ratio"
for r in $rates; do
    printf '%12s %14s %8s\n' "$r" "$(total "$work/m$r")" "$(awk -v a="$(total "$work/m$r")" -v r="$r" 'BEGIN { printf "%.4f", a / r }')"
done

echo "== fairness: 10 connections sharing 1048576 B/s, $seconds s, libevent's group and --fair at once"
shaper group --group-rate 1048576
shaper fair --group-rate 1048576 --fair
"$bin/meter" --port "${port[group]}" --connections 10 --seconds "$seconds" >"$work/group" &
"$bin/meter" --port "${port[fair]}" --connections 10 --seconds "$seconds" >"$work/fair" &
wait_meters ${#pids[@]}
for m in group fair; do
    printf '%-6s total %s B/s (ratio %s), jain %s, per second: %s\n' "$m" "$(total "$work/$m")" \
        "$(awk -v a="$(total "$work/$m")" 'BEGIN { printf "%.4f", a / 1048576 }')" \
        "$(awk '/^jain:/ { print $2 }' "$work/$m")" "$(sed -n 's/^jain per interval: //p' "$work/$m")"
done

echo "== CPU: the shaper's CPU per GiB sent, 3 s each"
cpu_run() { # NAME FLAGS...
    local name=$1
    shift
    shaper "$name" "$@"
    local t0 t1 bytes
    t0=$(cpu_ticks "${pid[$name]}")
    "$bin/meter" --port "${port[$name]}" --seconds 3 >"$work/$name.m"
    t1=$(cpu_ticks "${pid[$name]}")
    bytes=$(awk '/^conn 1:/ { print $3 }' "$work/$name.m")
    printf '%-22s %12s bytes  %6.2f CPU s per GiB\n' "$name" "$bytes" \
        "$(awk -v t=$((t1 - t0)) -v hz="$hz" -v b="$bytes" 'BEGIN { print t / hz / (b / 1073741824) }')"
}
cpu_run shaped_100MiB --rate 104857600
cpu_run unshaped
echo "(machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); shared with other work)"
