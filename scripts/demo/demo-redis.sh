#!/usr/bin/env bash
# demo-redis.sh — a private Redis for the chapter demos, kept running for a whole
# session (`make redis` ... `make redis-stop`), so that every command on a page
# finds the same Redis, with the keys the earlier commands wrote.
#
#   demo-redis.sh start [PORT]  start ours (or say it already runs); messages on stderr,
#                               then the port on stdout
#   demo-redis.sh port [PORT]   the port the demos should use: PORT when given
#                               (that Redis, or ours started there), else ours,
#                               started if needed
#   demo-redis.sh stop          stop ours
#
# Ours listens on 127.0.0.1:6379 when that port is free, otherwise on another
# free port, which it names. It never takes over another Redis: a Redis that
# already runs on 6379 (a system one, say) is left alone, and the messages say
# how to point the chapters at ours (REDIS_PORT=N). Its state lives in
# build/redis/: pid file, port, log; no persistence. The demos' keys all start
# with "workbook:".
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
# (tests move it elsewhere: WORKBOOK_REDIS_STATE, and WORKBOOK_REDIS_DEFAULT_PORT
# stands in for 6379, which a test must not take on a shared machine)
state=${WORKBOOK_REDIS_STATE:-build/redis}
default_port=${WORKBOOK_REDIS_DEFAULT_PORT:-6379}
pidfile=$state/redis.pid
portfile=$state/port
prog=demo-redis

say() { echo "$prog: $*" >&2; }
answers() { [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ]; }

# ours_running: our Redis is alive and answers; sets port
ours_running() {
    [ -f "$pidfile" ] && [ -f "$portfile" ] || return 1
    port=$(cat "$portfile")
    kill -0 "$(cat "$pidfile")" 2>/dev/null && answers "$port"
}

# adopt PORT: the Redis there is ours although build/redis/ is gone (make clean
# removed it while ours ran): it was started with our pid file path. Take it back.
adopt() {
    local statedir
    mkdir -p "$state"
    statedir=$(cd "$state" && pwd)
    [ "$(redis-cli -p "$1" config get pidfile 2>/dev/null | sed -n 2p)" = "$statedir/redis.pid" ] || return 1
    redis-cli -p "$1" info server | sed -n 's/^process_id:\([0-9]*\).*/\1/p' >"$pidfile"
    echo "$1" >"$portfile"
    port=$1
    say "found our private Redis on 127.0.0.1:$port (pid $(cat "$pidfile")) although $state/ was gone: using it"
}

start_on() { # PORT
    mkdir -p "$state"
    rm -f "$pidfile" "$portfile"
    if ! redis-server --port "$1" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$(cd "$state" && pwd)" --daemonize yes --pidfile "$(cd "$state" && pwd)/redis.pid" \
        --logfile "$(cd "$state" && pwd)/redis.log" >/dev/null; then
        say "redis-server did not start (see $state/redis.log)"
        return 1
    fi
    for _ in $(seq 100); do
        answers "$1" && break
        sleep 0.05
    done
    if ! answers "$1"; then
        say "redis-server did not answer on port $1:"
        tail -n 5 "$state/redis.log" >&2
        return 1
    fi
    echo "$1" >"$portfile"
    port=$1
    say "started a private Redis on 127.0.0.1:$port (pid $(cat "$pidfile"), no persistence, files in $state/)"
}

start() { # [PORT] [quiet]: quiet = say nothing when ours already runs
    local want=${1-} quiet=${2-}
    if ours_running; then
        if [ -n "$want" ] && [ "$want" != "$port" ]; then
            say "our Redis already runs on port $port; make redis-stop first to move it to $want"
            return 1
        fi
        if [ -n "$quiet" ]; then
            echo "$port"
            return 0
        fi
        say "our private Redis is running on 127.0.0.1:$port (pid $(cat "$pidfile"))"
    elif [ -n "$want" ]; then
        if answers "$want"; then
            say "port $want is another Redis, not ours: not touching it"
            return 1
        fi
        start_on "$want" || return 1
    elif answers "$default_port" && adopt "$default_port"; then
        :
    elif ! port_is_free "$default_port"; then
        local p
        p=$(free_port)
        if answers "$default_port"; then
            say "another Redis (not ours) answers on $default_port: the demos will not write into it"
        else
            say "port $default_port is taken by something else"
        fi
        start_on "$p" || return 1
    else
        start_on "$default_port" || return 1
    fi
    hint
    echo "$port"
}

hint() {
    if [ "$port" = "$default_port" ]; then
        say "the pages' commands work as written; stop it with: make redis-stop"
    else
        say "make chapter2 and make chapter6 use it by themselves (REDIS_PORT=$port says so explicitly);"
        say "on the pages, add --port $port to redis_client/redis_async and -p $port to redis-cli; stop it with: make redis-stop"
    fi
}

port_is_free() { ! (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

port_cmd() { # [PORT]
    local want=${1-}
    if [ -n "$want" ] && answers "$want"; then
        if ! { ours_running && [ "$port" = "$want" ]; }; then
            say "using the Redis on 127.0.0.1:$want (REDIS_PORT=$want; not started by the workbook)"
        fi
        echo "$want"
        return 0
    fi
    start "$want" quiet
}

stop() {
    if ! [ -f "$pidfile" ]; then
        say "no private Redis of ours is running (no $pidfile)"
        return 0
    fi
    local pid
    pid=$(cat "$pidfile")
    if stop_pid "$pid"; then
        say "stopped our private Redis (pid $pid)"
    fi
    rm -f "$pidfile" "$portfile"
}

case ${1-} in
    start) start "${2-}" ;;
    port) port_cmd "${2-}" ;;
    stop) stop ;;
    *) echo "usage: $0 start [PORT] | port [PORT] | stop" >&2; exit 2 ;;
esac
