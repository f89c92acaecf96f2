# scripts/lib.sh — shell chores shared by the scripts in this folder
# (sourced, not run).

# make_workdir: a temp dir in $work, and an EXIT trap that kills every pid
# the script appended to the pids array and removes the dir
make_workdir() {
    work=$(mktemp -d)
    pids=()
    trap _cleanup_workdir EXIT
}
_cleanup_workdir() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now. Drawn
# from 20000-32767, below Linux's ephemeral range (32768-60999), so it does not
# collide with the source port of some outgoing connection.
free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 12768))
        (exec 9<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}

# start_private_redis DIR [ARGS...]: a throwaway redis-server on a free port,
# no persistence, files in DIR. Sets REDIS_PORT and REDIS_PID. Another program
# may take the port between free_port and bind, so it tries up to 5 ports;
# fails if none answers within 5 s.
start_private_redis() {
    local dir=$1 attempt
    shift
    for attempt in 1 2 3 4 5; do
        REDIS_PORT=$(free_port)
        redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
            --dir "$dir" --daemonize no "$@" >"$dir/redis.log" 2>&1 &
        REDIS_PID=$!
        for _ in $(seq 100); do
            redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
            kill -0 "$REDIS_PID" 2>/dev/null || break # lost the port: try another
            sleep 0.05
        done
        kill "$REDIS_PID" 2>/dev/null
        wait "$REDIS_PID" 2>/dev/null
    done
    echo "redis-server did not start:" >&2
    tail -n 5 "$dir/redis.log" >&2
    return 1
}
