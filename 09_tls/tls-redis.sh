#!/usr/bin/env bash
# 09_tls/tls-redis.sh — chapter 9's private Redis for the demos: one
# redis-server with a plaintext port (for the terminator behind it) and a TLS
# port (for tls_client and redis-cli --tls), serving build/certs/server.crt.
# Kept running for a session, like scripts/demo/demo-redis.sh (`make redis`).
#
#   tls-redis.sh start   start ours (or say it runs); messages on stderr, then
#                        "PLAIN_PORT TLS_PORT" on stdout
#   tls-redis.sh stop    stop ours
#
# Ports 6389 (plain) and 6390 (TLS) when both are free, otherwise two free
# ports, which it names. State in build/tls-redis/ (WORKBOOK_TLS_REDIS_STATE);
# no persistence; clients need no certificate (tls-auth-clients no).
set -u
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
state=${WORKBOOK_TLS_REDIS_STATE:-build/tls-redis}
certs=${CERTS_DIR:-build/certs}
prog="tls-redis"
say() { echo "$prog: $*" >&2; }
port_is_free() { ! (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running() {
    [ -f "$state/redis.pid" ] && [ -f "$state/ports" ] && kill -0 "$(cat "$state/redis.pid")" 2>/dev/null &&
        [ "$(redis-cli -p "$(cut -d' ' -f1 "$state/ports")" ping 2>/dev/null)" = PONG ]
}

start() {
    if running; then
        say "our TLS Redis is running (pid $(cat "$state/redis.pid")), ports: plain, TLS = $(cat "$state/ports")"
        cat "$state/ports"
        return 0
    fi
    09_tls/certs.sh "$certs" >/dev/null || return 1
    certs=$(cd "$certs" && pwd) # redis-server --dir moves it before it reads them
    local plain=6389 tls=6390 dir
    if ! port_is_free $plain || ! port_is_free $tls; then
        plain=$(free_port)
        tls=$(free_port)
    fi
    mkdir -p "$state"
    dir=$(cd "$state" && pwd)
    if ! redis-server --port "$plain" --tls-port "$tls" --bind 127.0.0.1 --save '' --appendonly no \
        --tls-cert-file "$certs/server.crt" --tls-key-file "$certs/server.key" \
        --tls-ca-cert-file "$certs/ca.crt" --tls-auth-clients no \
        --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null; then
        say "redis-server did not start (see $state/redis.log)"
        return 1
    fi
    for _ in $(seq 100); do
        [ "$(redis-cli -p "$plain" ping 2>/dev/null)" = PONG ] && break
        sleep 0.05
    done
    if ! wait_listening "$tls" 5; then
        say "redis-server did not answer; its log:"
        tail -n 5 "$state/redis.log" >&2
        return 1
    fi
    echo "$plain $tls" >"$state/ports"
    say "started a private TLS Redis (pid $(cat "$state/redis.pid")): plain 127.0.0.1:$plain, TLS 127.0.0.1:$tls; stop it with: make tls-redis-stop"
    cat "$state/ports"
}

stop() {
    [ -f "$state/redis.pid" ] || { say "no TLS Redis of ours is running"; return 0; }
    local pid
    pid=$(cat "$state/redis.pid")
    if stop_pid "$pid"; then
        say "stopped our TLS Redis (pid $pid)"
    fi
    rm -f "$state/redis.pid" "$state/ports"
}

case ${1-} in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start | stop" >&2; exit 2 ;;
esac
