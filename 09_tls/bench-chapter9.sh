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

# the rounds (rb_scenario) and their table (rb_table) are scripts/lib.sh's,
# shared with scripts/bench/bench-chapter6.sh
bench_rb=(redis-benchmark --tls --cacert "$certs/ca.crt")
bench_targets=("direct:$tls_port:$REDIS_PID" "terminator:$term_port:$term_pid" "stunnel:$stunnel_port:$stunnel_pid")
bench_flush_port=$redis_port
scenario() { rb_scenario "$@"; }
table() { rb_table; }

echo "$(machine_line) at start; other programs may share it"
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
