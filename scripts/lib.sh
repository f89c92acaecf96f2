# shellcheck shell=bash
# scripts/lib.sh — shell chores shared by the scripts in this folder and by the
# tests (tests/helpers.bash sources it). Sourced, not run. Everything that
# starts Redis or waits for a server lives here, once.

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

# close_fds_above_2: in a subshell about to exec a background program, close
# every inherited descriptor but stdin/out/err (bats-core #530: a background
# child holding bats's output pipe makes bats hang).
close_fds_above_2() {
    local fd
    for fd in /proc/$BASHPID/fd/*; do
        fd=${fd##*/}
        if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
    done
}

# cpu_ticks PID: user + system CPU time of the process so far, in clock ticks
# (getconf CLK_TCK of them per second)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

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

# wait_for_line FILE REGEX [SECONDS=10]: wait until FILE has a line matching
# the extended REGEX; on timeout say so, show FILE, and fail.
wait_for_line() {
    local file=$1 regex=$2 seconds=${3:-10}
    local deadline=$((SECONDS + seconds))
    until grep -qE -- "$regex" "$file" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "timed out after ${seconds}s waiting for /$regex/ in $file:" >&2
            cat "$file" >&2
            return 1
        fi
        sleep 0.05
    done
}

# wait_listening_port FILE [SECONDS=10]: wait for a server's "listening on
# ADDR:PORT" line in FILE (its stdout) and print PORT.
wait_listening_port() {
    wait_for_line "$1" '^listening on .*:[0-9]+$' "${2:-10}" || return 1
    sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$1" | head -n 1
}

# wait_listening PORT [SECONDS=10]: wait until something listens on PORT,
# without connecting to it (ss reads the kernel's socket table)
wait_listening() {
    local deadline=$((SECONDS + ${2:-10}))
    until ss -ltnH "sport = :$1" | grep -q .; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "nothing listens on port $1 after ${2:-10}s" >&2
            return 1
        fi
        sleep 0.05
    done
}

# stop_pid PID: SIGTERM to PID, then wait up to 5 s for it to be gone.
# Returns 0 if PID was running (and was told to stop), 1 if it was not.
stop_pid() {
    kill "$1" 2>/dev/null || return 1
    local _
    for _ in $(seq 100); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
}

# spawn_redis PORT DIR [ARGS...]: a redis-server on 127.0.0.1:PORT, no
# persistence, files and redis.log in DIR; sets REDIS_PID. Waits up to 10 s
# for it to answer PING; fails (and stops it) if it died or never answered —
# another program may have taken the port.
spawn_redis() {
    local port=$1 dir=$2
    shift 2
    (
        close_fds_above_2
        exec redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
            --dir "$dir" --daemonize no "$@"
    ) >"$dir/redis.log" 2>&1 </dev/null &
    REDIS_PID=$!
    for _ in $(seq 200); do
        redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
        kill -0 "$REDIS_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill "$REDIS_PID" 2>/dev/null
    wait "$REDIS_PID" 2>/dev/null
    return 1
}

# start_private_redis DIR [ARGS...]: a throwaway redis-server on a free port
# (spawn_redis). Sets REDIS_PORT and REDIS_PID. Another program may take the
# port between free_port and bind, so it tries up to 5 ports.
start_private_redis() {
    local dir=$1
    shift
    for _ in 1 2 3 4 5; do
        REDIS_PORT=$(free_port)
        spawn_redis "$REDIS_PORT" "$dir" "$@" && return 0
    done
    echo "redis-server did not start:" >&2
    tail -n 5 "$dir/redis.log" >&2
    return 1
}

# start_twemproxy REDIS_PORT: twemproxy (nutcracker) on a free port in front
# of the Redis on REDIS_PORT, configured as the benchmarks compare it (one
# server, redis protocol), its files in $work (make_workdir). Sets TWEM_PORT
# and TWEM_PID, appends the pid to pids; fails if it does not listen in 10 s.
start_twemproxy() {
    TWEM_PORT=$(free_port)
    cat >"$work/nutcracker.yml" <<YML
workbook:
  listen: 127.0.0.1:$TWEM_PORT
  hash: fnv1a_64
  distribution: ketama
  redis: true
  servers:
   - 127.0.0.1:$1:1
YML
    nutcracker -c "$work/nutcracker.yml" -s "$(free_port)" -o "$work/nutcracker.log" &
    TWEM_PID=$!
    pids+=("$TWEM_PID")
    wait_listening "$TWEM_PORT" 10
}
