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
#   4. burst: a client idle for 2 s, then uploading 1 MiB at once, to a shaper
#      reading at 64 KiB/s with burst = one tick and with burst = 10 s's worth
#      (side by side): what the shaper has read 0.5 s and 1.5 s later
# On a shared machine the rates hold (they are the buckets'), the CPU figures
# move with the load: quote them as a ratio.
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
bin=${WORKBOOK_BIN:-build}/12_rate_limits_and_filters
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
"$bin/meter" --port "${port[group]}" --connections 10 --seconds "$seconds" --warmup-ms 500 >"$work/group" &
"$bin/meter" --port "${port[fair]}" --connections 10 --seconds "$seconds" --warmup-ms 500 >"$work/fair" &
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
echo "== burst: a client idle for 2 s, then sending 1 MiB at once; read at 64 KiB/s (tick 50 ms)"
shaper tight --rate 65536 --burst 3276
shaper loose --rate 65536 --burst 655360
# read_so_far NAME: "AGE RECEIVED" of conn 1, from a fresh stats line (AGE: seconds connected)
read_so_far() {
    local before
    before=$(grep -c '^stats: conn 1 ' "$work/$1.log")
    kill -USR1 "${pid[$1]}"
    while [ "$(grep -c '^stats: conn 1 ' "$work/$1.log")" -le "$before" ]; do sleep 0.01; done
    grep '^stats: conn 1 ' "$work/$1.log" | tail -n 1 | sed -E 's/.* in ([0-9.]+) s .*received ([0-9]+),.*/\1 \2/'
}
for b in tight loose; do
    python3 -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
time.sleep(2)
print("sending", flush=True)
s.sendall(b"x" * 1048576)
time.sleep(3)' "${port[$b]}" >"$work/$b.client" &
done
until grep -q sending "$work/tight.client" && grep -q sending "$work/loose.client"; do sleep 0.01; done
printf '%-30s %10s %10s %16s\n' "" "connected" "read" "read / 65536"
for t in 0.5 1.0; do
    sleep "$t"
    for b in tight loose; do
        read -r age got <<<"$(read_so_far "$b")"
        printf '%-30s %8s s %10s %14s s\n' "burst $([ $b = tight ] && echo "3276 (one tick)" || echo "655360 (10 s)")" \
            "$age" "$got" "$(awk -v g="$got" 'BEGIN { printf "%.2f", g / 65536 }')"
    done
done
wait_meters ${#pids[@]}
echo "(one tick's burst: reading started when the data did; 10 s's burst: the idle 2 s had been saved)"
echo "(machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); shared with other work)"
