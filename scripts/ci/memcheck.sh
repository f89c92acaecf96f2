#!/usr/bin/env bash
# memcheck.sh — each program's main scenario under valgrind, ending by its
# clean shutdown path (a signal, or the end of its work). A scenario passes
# when valgrind finds no memory error and nothing definitely or indirectly
# lost (valgrind exits 99 otherwise) and the program itself exits 0.
# Ends with "memcheck: N passed, M failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
bin=${WORKBOOK_BIN:-build}
work=$(mktemp -d)
passed=0
failed=0
redis_pid=
cleanup() {
    [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# shellcheck disable=SC2054  # the commas belong to one valgrind option
VALGRIND=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect
    --error-exitcode=99)


# verdict NAME STATUS [EXPECTED=0]: count and report one scenario
verdict() {
    if [ "$2" -eq "${3:-0}" ]; then
        passed=$((passed + 1))
        echo "ok   $1"
    else
        failed=$((failed + 1))
        echo "FAIL $1 (exit $2)"
        sed 's/^/     /' "$work/$1.err" | head -40
    fi
}

# foreground NAME EXPECTED_EXIT CMD...: a program that ends by itself
foreground() {
    local name=$1 expected=$2
    shift 2
    "${VALGRIND[@]}" "$@" >"$work/$name.out" 2>"$work/$name.err" </dev/null
    verdict "$name" $? "$expected"
}

# server NAME DRIVE_FUNCTION CMD...: start CMD under valgrind, wait for its
# "listening on" line, run DRIVE_FUNCTION PORT PID, then SIGINT and collect
server() {
    local name=$1 drive=$2
    shift 2
    ("${VALGRIND[@]}" "$@" >"$work/$name.out" 2>"$work/$name.err" </dev/null) &
    local wrapper=$!
    local pid="" port=""
    port=$(wait_listening_port "$work/$name.out" 10 2>/dev/null)
    pid=$(pgrep -P "$wrapper" | head -n 1)
    [ -n "$pid" ] || pid=$wrapper
    if [ -z "$port" ]; then
        kill "$pid" 2>/dev/null
        wait "$wrapper"
        verdict "$name" 98
        return
    fi
    "$drive" "$port" "$pid"
    kill -INT "$pid" 2>/dev/null
    wait "$wrapper"
    verdict "$name" $?
}

drive_echo() { printf 'hello\nworld\n' | nc -N 127.0.0.1 "$1" >/dev/null; hold "$1"; }
# hold PORT: leave one client connected, so shutdown has a connection to free
hold() { (sleep 3 | nc 127.0.0.1 "$1" >/dev/null &); sleep 0.5; }
drive_signals() {
    drive_echo "$1"
    kill -USR1 "$2"
    kill -HUP "$2"
    sleep 0.3
}
drive_read() {
    printf '0123456789abcdef' | nc -N 127.0.0.1 "$1" >/dev/null
    hold "$1"
}
drive_write() { nc -N 127.0.0.1 "$1" </dev/null >/dev/null; hold "$1"; }
drive_relay() {
    redis-cli -p "$1" set memcheck:key value >/dev/null
    redis-cli -p "$1" get memcheck:key >/dev/null
    printf 'PING\r\n' | nc -N 127.0.0.1 "$1" >/dev/null
    hold "$1"
}
drive_producer_consumer() {
    local pport
    pport=$(sed -n 's/^producers connect to .*:\([0-9]*\)$/\1/p' "$work/backpressure_relay.out")
    nc 127.0.0.1 "$1" >/dev/null &
    sleep 0.5
    head -c 1048576 /dev/zero | nc -N 127.0.0.1 "$pport"
    for _ in $(seq 100); do kill -0 "$2" 2>/dev/null || break; sleep 0.1; done
}

drive_mux() {
    redis-cli -p "$1" set memcheck:key value >/dev/null
    redis-cli -p "$1" get memcheck:key >/dev/null
    printf 'PING\r\nECHO "a b"\r\n*abc\r\n' | nc -N 127.0.0.1 "$1" >/dev/null
    printf 'SET memcheck:n 1\r\nMULTI\r\nINCR memcheck:n\r\nEXEC\r\n' | nc -N 127.0.0.1 "$1" >/dev/null
    head -c 100000 /dev/zero | redis-cli -p "$1" -x set memcheck:big >/dev/null
    (for _ in $(seq 300); do printf 'GET memcheck:big\r\n'; done; sleep 4) | nc 127.0.0.1 "$1" >/dev/null &
    (sleep 1; for _ in $(seq 300); do printf 'GET memcheck:big\r\n'; done; sleep 4) | nc 127.0.0.1 "$1" | (sleep 4; cat >/dev/null) &
    redis-benchmark -p "$1" -q -c 20 -n 2000 -t set,get -P 4 >/dev/null 2>&1
    for _ in $(seq 150); do grep -q 'disconnecting$' "$work/mux.out" && break; sleep 0.1; done
    hold "$1"
}

# a private Redis for chapters 2 and 6
start_private_redis "$work" || exit 1
redis_port=$REDIS_PORT
redis_pid=$REDIS_PID
config="$work/greeting.conf"
echo "greeting = hello" >"$config"

server listener drive_echo "$bin/01_listener/listener" --port 0
foreground redis_client-notes 0 "$bin/02_redis_client/redis_client" --port "$redis_port"
foreground redis_client-command 0 "$bin/02_redis_client/redis_client" --port "$redis_port" \
    RPUSH memcheck:list a b c
foreground redis_client-host 0 "$bin/02_redis_client/redis_client" --host localhost \
    --port "$redis_port" PING
foreground redis_client-refused 1 "$bin/02_redis_client/redis_client" --port "$(free_port)"
printf 'SET a "x y"\nLRANGE memcheck:list 0 -1\nGET nothing\nNOPE\n' >"$work/pipe.txt"
"${VALGRIND[@]}" "$bin/02_redis_client/redis_client" --port "$redis_port" --pipe \
    <"$work/pipe.txt" >"$work/redis_client-pipe.out" 2>"$work/redis_client-pipe.err"
verdict redis_client-pipe $?
foreground redis_async 0 "$bin/02_redis_client/redis_async" --port "$redis_port"
foreground timers-all 0 "$bin/03_timers/timers" --demo all
foreground timer_bench 0 "$bin/03_timers/timer_bench" 1000
server idle_server drive_echo "$bin/03_timers/idle_server" --idle 5000 --port 0
server signals drive_signals "$bin/04_signals/signals" --port 0 --config "$config"
server signals_raw drive_signals "$bin/04_signals/signals_raw" --port 0 --config "$config"
server read_watermarks drive_read "$bin/05_bufferevent_watermarks/read_watermarks" \
    --port 0 --low 4 --high 8 --consume 2 --consume-delay 10
server write_watermark drive_write "$bin/05_bufferevent_watermarks/write_watermark" \
    --port 0 --bytes 100000
server backpressure_relay drive_producer_consumer \
    "$bin/05_bufferevent_watermarks/backpressure_relay" --port 0 --producer-port 0
server relay drive_relay "$bin/06_redis_relay/relay" --port 0 --redis-port "$redis_port"
server mux drive_mux "$bin/07_redis_multiplexer/mux" --port 0 --redis-port "$redis_port" \
    --client-output-limit 1048576

# chapter 0: the five echo servers; loadgen (under valgrind too) drives the libevent one
drive_loadgen() {
    "${VALGRIND[@]}" "$bin/tools/loadgen" --port "$1" --connections 20 --lines 20 \
        --think 2 >"$work/loadgen.out" 2>"$work/loadgen.err" </dev/null
    verdict loadgen $?
    hold "$1"
}
server echo_iterative drive_echo "$bin/00_why_event_loop/echo_iterative" --port 0
server echo_fork drive_echo "$bin/00_why_event_loop/echo_fork" --port 0
server echo_threads drive_echo "$bin/00_why_event_loop/echo_threads" --port 0
server echo_epoll drive_echo "$bin/00_why_event_loop/echo_epoll" --port 0
server echo_libevent drive_loadgen "$bin/00_why_event_loop/echo_libevent" --port 0
foreground loadgen-refused 1 "$bin/tools/loadgen" --port "$(free_port)" --connections 3

# chapter 9: TLS (a Redis with a TLS port, the chapter's certificates); the
# terminator meets a good client, plaintext, a dirty close and a held one
09_tls/certs.sh "$work/certs" >/dev/null
tls_port=$(free_port)
start_private_redis "$work" --tls-port "$tls_port" --tls-cert-file "$work/certs/server.crt" \
    --tls-key-file "$work/certs/server.key" --tls-ca-cert-file "$work/certs/ca.crt" \
    --tls-auth-clients no || exit 1
tls_redis_pid=$REDIS_PID
tls_plain_port=$REDIS_PORT
wait_listening "$tls_port" 10
tls_client=("$bin/09_tls/tls_client" --cacert "$work/certs/ca.crt" --port "$tls_port")
foreground tls_client-command 0 "${tls_client[@]}" SET memcheck:tls value
foreground tls_client-trace 0 "${tls_client[@]}" --trace PING
foreground tls_client-wrong-name 1 "${tls_client[@]}" --servername other.example PING
foreground tls_client-untrusted 1 "$bin/09_tls/tls_client" --cacert "$work/certs/other-ca.crt" \
    --port "$tls_port" PING
drive_terminator() {
    redis-cli --tls --cacert "$work/certs/ca.crt" -p "$1" set memcheck:key value >/dev/null
    redis-cli --tls --cacert "$work/certs/ca.crt" -p "$1" get memcheck:key >/dev/null
    printf 'PING\r\n' | nc -N 127.0.0.1 "$1" >/dev/null
    09_tls/tls_peer.py "$1" "$work/certs/ca.crt" fin 'PING\r\n' >/dev/null
    (sleep 3 | openssl s_client -quiet -CAfile "$work/certs/ca.crt" -connect "127.0.0.1:$1" \
        >/dev/null 2>&1 &)
    sleep 1
}
server tls_terminator drive_terminator "$bin/09_tls/tls_terminator" --port 0 \
    --redis-port "$tls_plain_port" --cert "$work/certs/server.crt" --key "$work/certs/server.key"
kill "$tls_redis_pid" 2>/dev/null

# chapter 10: the DNS server (queries, malformed packets, a reply still delayed at
# shutdown), resolve and connect_name (under valgrind too) against it, resolve
# against no server, and resolve interrupted with lookups in flight (libevent #942)
drive_dns() {
    dig @127.0.0.1 -p "$1" +tries=1 +time=1 +short redis.workbook.test >/dev/null
    dig @127.0.0.1 -p "$1" +tries=1 +time=1 nope.workbook.test MX >/dev/null
    python3 -c 'import socket, sys; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); [s.sendto(b, ("127.0.0.1", int(sys.argv[1]))) for b in (b"", b"x" * 13, b"\x00\x01\x01\x00\x00\x01" + bytes(6) + b"\xc0\x0c")]' "$1"
    "${VALGRIND[@]}" "$bin/10_dns/resolve" --server "127.0.0.1:$1" redis.workbook.test \
        www.workbook.test nope.workbook.test >"$work/resolve.out" 2>"$work/resolve.err"
    verdict resolve $?
    "${VALGRIND[@]}" "$bin/10_dns/resolve" --server "127.0.0.1:$1" --blocking \
        redis.workbook.test nope.workbook.test >"$work/resolve-blocking.out" 2>"$work/resolve-blocking.err"
    verdict resolve-blocking $?
    "${VALGRIND[@]}" "$bin/10_dns/connect_name" --server "127.0.0.1:$1" --redis-port "$redis_port" \
        >"$work/connect_name.out" 2>"$work/connect_name.err"
    verdict connect_name $?
    "${VALGRIND[@]}" "$bin/10_dns/connect_name" --server "127.0.0.1:$1" --name nope.workbook.test \
        >"$work/connect_name-nxdomain.out" 2>"$work/connect_name-nxdomain.err"
    verdict connect_name-nxdomain $? 1
}
drive_dns_delayed() {
    dig @127.0.0.1 -p "$1" +tries=1 +time=1 redis.workbook.test >/dev/null 2>&1
    # resolve interrupted while its lookups wait for the delayed replies
    ("${VALGRIND[@]}" "$bin/10_dns/resolve" --server "127.0.0.1:$1" redis.workbook.test \
        www.workbook.test >"$work/resolve-interrupted.out" 2>"$work/resolve-interrupted.err") &
    local wrapper=$! pid=""
    sleep 1.5
    pid=$(pgrep -P "$wrapper" | head -n 1)
    kill -INT "${pid:-$wrapper}" 2>/dev/null
    wait "$wrapper"
    local status=$?
    grep -q '^interrupted: 0 of 2 lookups finished' "$work/resolve-interrupted.out" || status=97
    verdict resolve-interrupted "$status" 1
}
server dns_server drive_dns "$bin/10_dns/dns_server" --port 0 --zone 10_dns/workbook.zone
server dns_server-delayed drive_dns_delayed "$bin/10_dns/dns_server" --port 0 \
    --zone 10_dns/workbook.zone --delay 4000
foreground resolve-down 1 "$bin/10_dns/resolve" --server "127.0.0.1:$(free_port)" \
    --timeout 0.2 --attempts 1 redis.workbook.test
# chapter 12: the shaper (libevent's group, then --fair), driven by meter (under
# valgrind too); filter_demo with a last line flushed on close and one client left
drive_meter() {
    "${VALGRIND[@]}" "$bin/12_rate_limits_and_filters/meter" --port "$1" --connections 3 --seconds 1 --warmup-ms 200 \
        >"$work/meter.out" 2>"$work/meter.err" </dev/null
    verdict meter $?
    kill -USR1 "$2"
    hold "$1"
}
drive_shaper() { "$bin/12_rate_limits_and_filters/meter" --port "$1" --connections 3 --seconds 1 >/dev/null; hold "$1"; }
drive_filter() { printf 'one\ntwo\nthree' | nc -N 127.0.0.1 "$1" >/dev/null; hold "$1"; }
server shaper drive_meter "$bin/12_rate_limits_and_filters/shaper" --port 0 --rate 65536 \
    --group-rate 131072 --min-share 128
server shaper-fair drive_shaper "$bin/12_rate_limits_and_filters/shaper" --port 0 --group-rate 131072 --fair
server filter_demo drive_filter "$bin/12_rate_limits_and_filters/filter_demo" --port 0
foreground shaper-refused 2 "$bin/12_rate_limits_and_filters/shaper" --rate 65536 --burst 10
# chapter 8: the HTTP gateway (JSON, PUT, a file, a stream held open, a slow
# head, a client gone mid-request) and the evhttp client against it
drive_gateway() {
    local u=http://127.0.0.1:$1
    curl -s "$u/SET/memcheck:g/v" "$u/GET/memcheck:g.txt" "$u/LRANGE/memcheck:list/0/-1.raw" \
        "$u/FLUSHALL" "$u/docs/index.html" "$u/docs/../x" -o /dev/null >/dev/null
    curl -s -X PUT --data-binary @README.md "$u/SET/memcheck:readme" >/dev/null
    curl -s -X POST --data-binary 'HGETALL/memcheck:h' "$u/" >/dev/null
    (curl -s -N -m 3 "$u/SUBSCRIBE/memcheck:chan" >/dev/null &)
    (printf 'GET /PING HTTP/1.1\r\nHost: x' | nc -q 2 127.0.0.1 "$1" >/dev/null &)
    sleep 0.5
    redis-cli -p "$redis_port" publish memcheck:chan hello >/dev/null
    "${VALGRIND[@]}" "$bin/08_http_gateway/http_get" "$u/GET/memcheck:g" \
        >"$work/http_get.out" 2>"$work/http_get.err" </dev/null
    verdict http_get $?
    hold "$1"
}
server http_gateway drive_gateway "$bin/08_http_gateway/http_gateway" --port 0 \
    --redis-port "$redis_port" --docs docs
foreground http_get-refused 1 "$bin/08_http_gateway/http_get" "http://127.0.0.1:$(free_port)/"
# chapter 7's framers: a reply nested deeper than hiredis 0.14.1 reads, large
# replies, inline quoting and a refused quote, half a reply when it stops
drive_mux_framers() {
    printf '%s\r\n' 'COMMAND DOCS' 'SET memcheck:q "\x41\n"' "ECHO 'a\\b'" \
        'EVAL "local t={0} local c=t for i=1,100 do local n={i} c[2]=n c=n end return t" 0' \
        'ECHO "bad"x' | nc -N 127.0.0.1 "$1" >/dev/null
    (printf 'EVAL "return string.rep(\x27x\x27,30000000)" 0\r\n' | nc 127.0.0.1 "$1" >/dev/null &)
    hold "$1"
}
server mux_framers drive_mux_framers "$bin/07_redis_multiplexer/mux" --port 0 --redis-port "$redis_port"
# chapter 11: threads, each joined before the exit; loadgen (not under
# valgrind) drives the echo servers, pinger.py leaves offload's jobs abandoned
drive_threaded() {
    "$bin/tools/loadgen" --port "$1" --connections 50 --lines 5 >/dev/null
    kill -USR1 "$2"
    hold "$1"
}
drive_offload() {
    printf 'PING\nHASH 1000\nSLEEP 10\nNOPE\n' | nc -N 127.0.0.1 "$1" >/dev/null
    11_threads/pinger.py --port "$1" --slow 'SLEEP 300' --slow-conns 2 --once --pings 3 \
        --delay 50 >/dev/null
    hold "$1"
}
server threaded_echo drive_threaded "$bin/11_threads/threaded_echo" --threads 3 --port 0
server reuseport_echo drive_threaded "$bin/11_threads/reuseport_echo" --threads 3 --port 0
server offload drive_offload "$bin/11_threads/offload" --threads 2 --port 0
server offload-inline drive_offload "$bin/11_threads/offload" --inline --port 0
foreground tally 0 "$bin/11_threads/tally" --threads 3 --ticks 2000
# one threaded scenario under helgrind too: lock order and unlocked sharing
VALGRIND=(valgrind -q --tool=helgrind --error-exitcode=99)
server offload-helgrind drive_offload "$bin/11_threads/offload" --threads 2 --port 0

echo "memcheck: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
