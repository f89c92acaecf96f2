#!/usr/bin/env bash
# 10_dns/bench.sh — make bench-chapter10: resolve's three ways of looking up
# names, side by side in one run, against two servers:
#   - dns_server --delay 50 (a slow resolver: every answer 50 ms late), a zone
#     of N distinct names (h1.bench.test ... hN.bench.test);
#   - dnsmasq (a real server, answering the same names from a hosts file at once).
# For each: concurrent (evdns's default 64 requests in flight, then 2048),
# --serial and --blocking. Serial and blocking against the slow server take
# 50 ms a name, so they run on SLOW_N names only (default 100) and the table
# gives the time per name too. Columns: wall time, per name, the heartbeat's
# worst lateness (how long the loop could not run a 10 ms timer), and
# resolve's CPU per name.
#
# Each row is the median of ROUNDS runs (default 3).
#
# Usage: 10_dns/bench.sh [N=1000] [SLOW_N=100] [ROUNDS=3]
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
n=${1:-1000}
slow_n=${2:-100}
rounds=${3:-3}
bin=${WORKBOOK_BIN:-build}/10_dns
delay=50

make_workdir
for i in $(seq "$n"); do
    echo "h$i.bench.test A 10.$((i / 65536 % 256)).$((i / 256 % 256)).$((i % 256))"
done >"$work/bench.zone"
awk '{ print $3, $1 }' "$work/bench.zone" >"$work/hosts"
awk '{ print $1 }' "$work/bench.zone" >"$work/names"
head -n "$slow_n" "$work/names" >"$work/names.slow"

"$bin/dns_server" --port 0 --zone "$work/bench.zone" --delay "$delay" >"$work/dns.out" 2>&1 &
pids+=($!)
dns_port=$(wait_listening_port "$work/dns.out" 10)

dnsmasq_port=$(free_port) # below the ephemeral range: no --port 0 server can hold it
dnsmasq --no-daemon --no-resolv --no-hosts --addn-hosts="$work/hosts" --local=/bench.test/ \
    --port "$dnsmasq_port" --listen-address 127.0.0.1 --bind-interfaces --pid-file= \
    --user="$(id -un)" --cache-size=0 >"$work/dnsmasq.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
    dig @127.0.0.1 -p "$dnsmasq_port" +tries=1 +time=1 +short h1.bench.test 2>/dev/null | grep -q . && break
    sleep 0.1
done

# run LABEL SERVER_PORT NAMES_FILE [RESOLVE ARGS...]: one row of the table, the
# median of ROUNDS runs for each column (on a shared machine one run can be
# stalled by others: a heartbeat late because we were not scheduled)
run() {
    local label=$1 port=$2 names=$3 col
    shift 3
    : >"$work/rows"
    for _ in $(seq "$rounds"); do
        TIMEFORMAT='%U %S'
        { time "$bin/resolve" --server "127.0.0.1:$port" --names "$names" --quiet --timeout 5 \
            "$@" >"$work/run.out" 2>"$work/run.err"; } 2>"$work/time" || true
        awk -v cpu="$(awk '{ print ($1 + $2) * 1000 }' "$work/time")" '/^summary: / {
            for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
            print v["names"], v["answers"], v["wall_ms"], v["heartbeat_worst_late_ms"], cpu }' \
            "$work/run.out" >>"$work/rows"
    done
    # median of each column (rows sorted per column), then per name
    for col in 1 2 3 4 5; do
        cut -d' ' -f"$col" "$work/rows" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
    done | paste -sd' ' | awk -v label="$label" '{
        printf "%-30s %6d %8d %10.1f %9.2f %10.1f %9.3f\n", label, $1, $2, $3, $3 / $1, $4, $5 / $1 }'
}

header() {
    echo
    echo "$1"
    printf '%-30s %6s %8s %10s %9s %10s %9s\n' mode names answers wall_ms ms/name worst_late cpu_ms/name
}

echo "bench-chapter10: medians of $rounds runs; $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
header "dns_server --delay $delay ($n distinct names; serial and blocking on $slow_n of them)"
run "concurrent, max-inflight 64" "$dns_port" "$work/names"
run "concurrent, max-inflight 2048" "$dns_port" "$work/names" --max-inflight 2048
run "serial" "$dns_port" "$work/names.slow" --serial
run "blocking" "$dns_port" "$work/names.slow" --blocking
header "dnsmasq $(dnsmasq --version | head -n 1 | awk '{ print $3 }') (the same $n names, answered at once)"
run "concurrent, max-inflight 64" "$dnsmasq_port" "$work/names"
run "concurrent, max-inflight 2048" "$dnsmasq_port" "$work/names" --max-inflight 2048
run "serial" "$dnsmasq_port" "$work/names" --serial
run "blocking" "$dnsmasq_port" "$work/names" --blocking
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
