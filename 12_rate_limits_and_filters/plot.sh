#!/usr/bin/env bash
# 12_rate_limits_and_filters/plot.sh — make plot12: 10 connections sharing
# 1 MiB/s for 8 s, libevent's group and --fair at once, each connection's rate
# every 250 ms drawn into OUT.svg (two panels, one line per connection).
#
# Usage: 12_rate_limits_and_filters/plot.sh [OUT]  (default build/12-fairness.svg;
# `make plot12 UPDATE=1` writes docs/img/12-fairness.svg, the page's picture)
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
bin=${WORKBOOK_BIN:-build}/12_rate_limits_and_filters
out=${1:-build/12-fairness.svg}
mkdir -p "$(dirname "$out")"
make_workdir
for m in group fair; do
    flags=(--group-rate 1048576)
    [ "$m" = fair ] && flags+=(--fair)
    "$bin/shaper" --port 0 "${flags[@]}" >"$work/$m.log" 2>&1 &
    pids+=($!)
    port=$(wait_listening_port "$work/$m.log")
    "$bin/meter" --port "$port" --connections 10 --seconds 8 --interval-ms 250 --warmup-ms 500 >"$work/$m.csv" &
    pids+=($!)
done
wait "${pids[1]}" "${pids[3]}"
for m in group fair; do
    # KiB/s: time, then one column per connection
    awk -F, '/^[0-9]/ { printf "%s", $1; for (i = 2; i < NF; i++) printf " %.1f", $i / 1024; print "" }' \
        "$work/$m.csv" >"$work/$m.dat"
    echo "$m: $(grep '^jain' "$work/$m.csv" | tr '\n' ' ')"
done
gnuplot <<GNUPLOT
set terminal svg size 900,620 dynamic noenhanced font "sans,12" background rgb "white"
set output "$out"
set multiplot layout 2,1 title "10 connections sharing 1 MiB/s (102.4 KiB/s each if fair), every 250 ms"
set ylabel "KiB/s per connection"
set yrange [0:250]
set grid
unset key
set title "libevent's group (bufferevent_rate_limit_group)"
plot for [i=2:11] "$work/group.dat" using 1:i with lines lw 1
set title "--fair: our own equal share per connection"
set xlabel "seconds"
plot for [i=2:11] "$work/fair.dat" using 1:i with lines lw 1
unset multiplot
GNUPLOT
mkdir -p build && cp "$work/group.dat" build/12-group.dat && cp "$work/fair.dat" build/12-fair.dat
echo "wrote $out (data: build/12-group.dat, build/12-fair.dat: seconds, then KiB/s per connection)"
