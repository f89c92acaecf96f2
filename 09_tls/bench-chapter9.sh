#!/usr/bin/env bash
# 09_tls/bench-chapter9.sh — redis-benchmark --tls against three TLS targets
# in one run, all in front of one private Redis: Redis's own TLS port,
# chapter 9's tls_terminator, and stunnel4 doing the same job (TLS in,
# plaintext to Redis's plain port). Prints one table per scenario:
# requests/s, the ratios terminator/stunnel and terminator/direct, and the
# CPU time the process doing the TLS work spent per request (Redis itself for
# the direct port; the terminator or stunnel otherwise — Redis's plaintext
# work behind them is the same for both).
#
# Scenarios: -c 50 -P 16 and -c 50 -P 1 (connections kept), and -c 50 -k 0:
# a new connection, so a new TLS handshake, for every request (handshakes/s).
# Every scenario runs ROUNDS times, the targets taking turns; the table shows
# medians. On a shared 2-core machine the load average (printed at the start
# and the end) says how far to trust the figures; the ratios and CPU per
# request are steadier than requests/s.
#
# Usage: 09_tls/bench-chapter9.sh [REQUESTS=100000] [ROUNDS=3]
set -eu
cd "$(dirname "$0")/.."
. scripts/lib.sh
requests=${1:-100000}
rounds=${2:-3}
terminator_bin=${WORKBOOK_BIN:-build}/09_tls/tls_terminator

make_workdir
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
certs=$work/certs
09_tls/certs.sh "$certs" >/dev/null

tls_port=$(free_port)
start_private_redis "$work" --tls-port "$tls_port" --tls-cert-file "$certs/server.crt" \
    --tls-key-file "$certs/server.key" --tls-ca-cert-file "$certs/ca.crt" --tls-auth-clients no
redis_port=$REDIS_PORT
pids+=("$REDIS_PID")
wait_listening "$tls_port" 10

term_port=$(free_port)
"$terminator_bin" --port "$term_port" --redis-port "$redis_port" --cert "$certs/server.crt" \
    --key "$certs/server.key" >"$work/terminator.log" 2>&1 &
term_pid=$!
pids+=("$term_pid")
wait_listening "$term_port" 10

stunnel_port=$(free_port)
cat >"$work/stunnel.conf" <<CONF
foreground = yes
pid =
debug = 3
output = $work/stunnel.log
[redis]
accept = 127.0.0.1:$stunnel_port
connect = 127.0.0.1:$redis_port
cert = $certs/server.crt
key = $certs/server.key
CONF
stunnel4 "$work/stunnel.conf" 2>>"$work/stunnel.log" &
stunnel_pid=$!
pids+=("$stunnel_pid")
wait_listening "$stunnel_port" 10

clk_tck=$(getconf CLK_TCK)

# bench PORT PID TEST N ARGS... -> "TEST requests/s cpu-µs-per-request"
bench() {
    local port=$1 pid=$2 test=$3 n=$4 before after
    shift 4
    before=$(cpu_ticks "$pid")
    redis-benchmark --tls --cacert "$certs/ca.crt" -p "$port" -q -t "$test" -n "$n" "$@" 2>/dev/null |
        tr '\r' '\n' | sed -n 's/^\([A-Z_0-9]*\)[^:]*: \([0-9.]*\) requests per second.*/\1 \2/p' |
        tail -n 1 | tr '\n' ' '
    after=$(cpu_ticks "$pid")
    awk -v t=$((after - before)) -v hz="$clk_tck" -v n="$n" 'BEGIN { printf "%.1f\n", t * 1e6 / hz / n }'
}

scenario() {
    local tests=$1 n=$2 test
    shift 2
    for _ in $(seq "$rounds"); do
        redis-cli -p "$redis_port" flushall >/dev/null
        for test in ${tests//,/ }; do
            bench "$tls_port" "$REDIS_PID" "$test" "$n" "$@" >>"$work/direct"
            bench "$term_port" "$term_pid" "$test" "$n" "$@" >>"$work/term"
            bench "$stunnel_port" "$stunnel_pid" "$test" "$n" "$@" >>"$work/stunnel"
        done
    done
}

# median FILE COLUMN: "TEST median-of-COLUMN" per test, in first-seen order
median() {
    awk -v col="$2" '{ if (!($1 in n)) order[++k] = $1; v[$1, ++n[$1]] = $col }
         END { for (i = 1; i <= k; i++) { t = order[i]; m = n[t]
                 for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++)
                     if (v[t, b] < v[t, a]) { x = v[t, a]; v[t, a] = v[t, b]; v[t, b] = x }
                 print t, (m % 2 ? v[t, (m + 1) / 2] : (v[t, m / 2] + v[t, m / 2 + 1]) / 2) } }' "$1"
}

table() {
    printf '%-6s %9s %9s %9s %10s %9s | %s\n' test direct term stunnel term/stun term/dir \
        'CPU µs per request: Redis (direct), terminator, stunnel'
    local f
    for f in direct term stunnel; do
        median "$work/$f" 2 >"$work/$f.rps"
        median "$work/$f" 3 >"$work/$f.cpu"
    done
    paste -d' ' "$work/direct.rps" "$work/term.rps" "$work/stunnel.rps" \
        "$work/direct.cpu" "$work/term.cpu" "$work/stunnel.cpu" |
        awk '{ printf "%-6s %9.0f %9.0f %9.0f %9.2fx %8.2fx | %6.1f %6.1f %6.1f\n",
                      $1, $2, $4, $6, $4 / $6, $4 / $2, $8, $10, $12 }'
    rm -f "$work"/direct* "$work"/term.rps "$work"/term.cpu "$work/term" "$work"/stunnel.rps \
        "$work"/stunnel.cpu "$work/stunnel"
}

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo "Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), $(stunnel4 -version 2>&1 | sed -n 's/^\(stunnel [0-9.]*\).*/\1/p'), $(openssl version | cut -d' ' -f1-2); median of $rounds rounds"

echo
echo "scenario: -c 50 -P 16, $requests requests per test"
scenario set,get "$requests" -P 16 -c 50
table

echo
echo "scenario: -c 50 -P 1, $((requests / 4)) requests per test"
scenario set,get $((requests / 4)) -P 1 -c 50
table

echo
echo "scenario: -c 50 -k 0 (a new connection and TLS handshake per request), $((requests / 50)) requests"
scenario get $((requests / 50)) -c 50 -k 0
table

echo
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
