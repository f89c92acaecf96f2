#!/usr/bin/env bash
# plot5.sh — chapter 5's backpressure picture. Runs the relay demo twice with
# the same scenario — a producer that sends 16 MiB as fast as it can, a consumer
# that reads 64 KiB every 10 ms — once with backpressure and once without, and
# draws bytes buffered in the relay over time into OUT.svg.
#
# Usage: scripts/bench/plot5.sh [OUT]   (default build/05-backpressure.svg; `make plot5
# UPDATE=1` passes docs/img/05-backpressure.svg, the picture the page shows)
set -eu
cd "$(dirname "$0")/../.."
. scripts/lib.sh
out=${1:-build/05-backpressure.svg}
mkdir -p "$(dirname "$out")"
relay=${WORKBOOK_BIN:-build}/05_bufferevent_watermarks/backpressure_relay
high=262144
low=65536
bytes=16777216
make_workdir
head -c "$bytes" /dev/urandom >"$work/source"

# slow_consumer PORT FILE: read 64 KiB, sleep 10 ms, repeat, until EOF
slow_consumer() {
    nc 127.0.0.1 "$1" | perl -e 'binmode STDIN; binmode STDOUT; $| = 1;
        while (read(STDIN, $b, 65536)) { print $b; select(undef, undef, undef, 0.01) }' >"$2"
}

run() { # NAME [relay flags...]
    local name=$1
    shift
    "$relay" --port 0 --producer-port 0 --high $high --low $low \
        --csv "$work/$name.csv" "$@" >"$work/$name.log" 2>&1 &
    local pid=$!
    local port pport
    port=$(wait_listening_port "$work/$name.log")
    pport=$(sed -n 's/^producers connect to .*:\([0-9]*\)$/\1/p' "$work/$name.log")
    slow_consumer "$port" "$work/$name.received" &
    local consumer=$!
    sleep 0.2
    nc -N 127.0.0.1 "$pport" <"$work/source"
    wait "$consumer"
    wait "$pid"
    cmp -s "$work/source" "$work/$name.received" || { echo "plot5: $name: data differs" >&2; exit 1; }
    # ms since the first sample, KiB buffered
    awk -F, 'NR == 1 { next } t0 == "" { t0 = $1 } { printf "%.1f %.1f %d\n", $1 - t0, $2 / 1024, $3 }' \
        "$work/$name.csv" >"$work/$name.dat"
    echo "$name: $(grep '^peak buffered' "$work/$name.log")"
}

run backpressure
run unbounded --no-backpressure

gnuplot <<GNUPLOT
set terminal svg size 900,480 dynamic font "sans,12" background rgb "white"
set output "$out"
set title "Relay, fast producer to slow consumer (16 MiB): bytes buffered toward the consumer"
set xlabel "time since the relay started relaying (ms)"
set ylabel "buffered in the relay (KiB, log scale)"
set logscale y
set yrange [1:32768]
set key below
set grid
plot "$work/unbounded.dat" using 1:(\$2 > 0 ? \$2 : 1) with lines lw 2 lc rgb "#d62728" title "--no-backpressure", \
     "$work/backpressure.dat" using 1:(\$2 > 0 ? \$2 : 1) with lines lw 2 lc rgb "#1f77b4" title "backpressure (default)", \
     $high / 1024 with lines lw 2 dt 2 lc rgb "#555555" title "high watermark ($((high / 1024)) KiB): pause producer", \
     $low / 1024 with lines lw 2 dt 2 lc rgb "#2ca02c" title "low watermark ($((low / 1024)) KiB): resume"
GNUPLOT
# keep the data beside the picture, to read the numbers behind it
mkdir -p build && cp "$work/backpressure.dat" "$work/unbounded.dat" build/
echo "wrote $out (data: build/backpressure.dat, build/unbounded.dat: ms, KiB buffered, reading on/off)"
