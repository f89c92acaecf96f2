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

# ---- measuring: one copy for every scripts/bench/*.sh and 09_tls/bench-chapter9.sh ----
# Requests/s on a shared machine swing by tens of per cent; these measures
# swing far less: CPU time per request, system calls per request, and
# user-space instructions per request under callgrind (repeatable to a few
# per mille whatever runs beside it).

# median_spread: numbers on stdin, one a line -> "MEDIAN SPREAD" where SPREAD
# is (max - min) / median in per cent: how far apart the rounds were
median_spread() {
    sort -g | awk '{ v[++n] = $1 }
        END { if (!n) { print "0 0"; exit }
              m = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
              printf "%.1f %.0f\n", m, (m > 0 ? (v[n] - v[1]) * 100 / m : 0) }'
}

# cpu_us_per_request TICKS_BEFORE TICKS_AFTER N: CPU time (cpu_ticks of one
# process, read before and after a run) in microseconds per request
cpu_us_per_request() {
    awk -v t=$(($2 - $1)) -v hz="$(getconf CLK_TCK)" -v n="$3" 'BEGIN { printf "%.1f\n", t * 1e6 / hz / n }'
}

# run_cpu OUT CMD...: run CMD (stdout to OUT, stderr dropped) and print the
# user + system CPU seconds it used (the kernel's counts, as /proc/PID/stat
# holds them, collected when it exits)
run_cpu() {
    local out=$1 TIMEFORMAT='%U %S'
    shift
    { time "$@" >"$out" 2>/dev/null; } 2>&1 | awk '{ print $1 + $2 }'
}

# callgrind_ir CMD...: run CMD under callgrind and print the user-space
# instructions it executed. With CALLGRIND_OUT=FILE the profile is kept there
# (callgrind_annotate FILE shows where they went).
callgrind_ir() {
    local out=${CALLGRIND_OUT:-$work/callgrind.tmp}
    valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >/dev/null 2>&1 </dev/null
    awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

# callgrind_start OUT CMD...: start a server under callgrind (profile to
# OUT), its stdout in OUT.log; sets CG_PID and appends it to pids.
# callgrind_stop: SIGTERM it, wait, set CG_IR to the instructions it
# executed (a variable, not output: $(callgrind_stop) would run in a subshell,
# which cannot wait for the server).
callgrind_start() {
    local out=$1
    shift
    (
        close_fds_above_2
        exec valgrind --tool=callgrind --callgrind-out-file="$out" "$@"
    ) >"$out.log" 2>&1 </dev/null &
    CG_PID=$!
    CG_OUT=$out
    pids+=("$CG_PID")
}
callgrind_stop() {
    kill -TERM "$CG_PID" 2>/dev/null
    wait "$CG_PID" 2>/dev/null || true
    CG_IR=$(awk '/^(summary|totals):/ { print $2; exit }' "$CG_OUT")
}

# strace_calls CMD...: run CMD under strace -c -f and print how many system
# calls it (and its threads) made
strace_calls() {
    strace -c -f -o "$work/strace.tmp" "$@" >/dev/null 2>&1 </dev/null
    awk '$NF == "total" { print $4 }' "$work/strace.tmp"
}

# strace_attach PID: count the system calls of a running process (and its
# threads) from now on; strace_detach sets STRACE_CALLS to the count (a
# variable, for the reason callgrind_stop gives). Waits until the
# tracer is attached (TracerPid in /proc/PID/status), not a fixed time.
strace_attach() {
    strace -c -f -p "$1" -o "$work/strace.attach" 2>/dev/null &
    STRACE_PID=$!
    local deadline=$((SECONDS + 10))
    until [ "$(awk '/^TracerPid:/ { print $2 }' "/proc/$1/status")" != 0 ]; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.02
    done
}
strace_detach() {
    kill -INT "$STRACE_PID" 2>/dev/null
    wait "$STRACE_PID" 2>/dev/null || true
    STRACE_CALLS=$(awk '$NF == "total" { print $4 }' "$work/strace.attach")
}

# machine_line: the machine the figures come from, for every bench's header
machine_line() {
    echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

# ---- redis-benchmark against several targets, taking turns ----
# The loop bench-chapter6.sh and 09_tls/bench-chapter9.sh share. Set first:
#   bench_targets=(NAME:PORT:PID ...)  direct first, then ours, then the peer
#   bench_rb=(redis-benchmark [--tls --cacert FILE])  the generator's command
#   bench_flush_port=PORT  the plain port of the Redis behind them (flushed
#                          every round: GET reads the key SET wrote)
#   rounds=N  (and make_workdir's $work)
# (the defaults below: one plain redis-benchmark, no targets yet, 3 rounds)
bench_rb=(redis-benchmark)
bench_targets=()
bench_flush_port=
rb_args=()
rounds=3

# rb_bench PORT PID TEST N ARGS... -> "TEST requests/s cpu-µs-per-request":
# one redis-benchmark run of one test, and the CPU time the process PID spent
# on it, per request. CPU time is steadier than requests/s on a busy
# machine: waiting for a core costs throughput, not CPU.
rb_bench() {
    local port=$1 pid=$2 test=$3 n=$4 before after
    shift 4
    before=$(cpu_ticks "$pid")
    # lrange_100 first runs an LPUSH of its own: its own line comes last
    "${bench_rb[@]}" -p "$port" -q -t "$test" -n "$n" "$@" 2>/dev/null | tr '\r' '\n' |
        sed -n 's/^\([A-Z_0-9]*\)[^:]*: \([0-9.]*\) requests per second.*/\1 \2/p' | tail -n 1 |
        tr '\n' ' '
    after=$(cpu_ticks "$pid")
    cpu_us_per_request "$before" "$after" "$n"
}

# rb_scenario TESTS N ARGS...: every test (comma-separated) on every target
# with the same redis-benchmark arguments, ROUNDS times, the targets taking
# turns so that drift hits them alike; results in $work/rounds.NAME
rb_scenario() {
    local tests=$1 n=$2 test t name port pid
    shift 2
    rm -f "$work"/rounds.*
    for _ in $(seq "$rounds"); do
        redis-cli -p "$bench_flush_port" flushall >/dev/null
        for test in ${tests//,/ }; do
            for t in "${bench_targets[@]}"; do
                IFS=: read -r name port pid <<<"$t"
                rb_bench "$port" "$pid" "$test" "$n" "$@" >>"$work/rounds.$name"
            done
        done
    done
}

# rb_table: the last rb_scenario as a table, one line per test: each
# target's median requests/s with the rounds' spread, the ratios
# ours/peer and ours/direct, and each target's median CPU µs per request
rb_table() {
    local tnames=() t test name col
    for t in "${bench_targets[@]}"; do tnames+=("${t%%:*}"); done
    local d=${tnames[0]} o=${tnames[1]} p=${tnames[2]}
    printf '%-10s %15s %15s %15s %9s %9s | CPU µs/request: %s %s %s\n' test "$d/s" "$o/s" "$p/s" \
        "$o/$p" "$o/$d" "$d" "$o" "$p"
    for test in $(awk '!seen[$1]++ { print $1 }' "$work/rounds.$d"); do
        for name in "${tnames[@]}"; do
            for col in 2 3; do
                awk -v t="$test" -v c="$col" '$1 == t { print $c }' "$work/rounds.$name" |
                    median_spread >"$work/ms.$name.$col"
            done
        done
        awk -v t="$test" '
            FILENAME ~ /\.2$/ { rps[++i] = $1; sp[i] = $2 } FILENAME ~ /\.3$/ { cpu[++j] = $1 }
            END { printf "%-10s %9.0f ±%3d%% %9.0f ±%3d%% %9.0f ±%3d%% %8.2fx %8.2fx | %5.1f %5.1f %5.1f\n",
                         t, rps[1], sp[1], rps[2], sp[2], rps[3], sp[3],
                         (rps[3] ? rps[2] / rps[3] : 0), (rps[1] ? rps[2] / rps[1] : 0),
                         cpu[1], cpu[2], cpu[3] }' \
            "$work/ms.$d.2" "$work/ms.$o.2" "$work/ms.$p.2" "$work/ms.$d.3" "$work/ms.$o.3" "$work/ms.$p.3"
    done
}

# rb_syscalls PID N ARGS...: system calls per request the running target PID
# makes over one fixed redis-benchmark workload (N SET then N GET, through
# the port in ARGS' -p), counted by strace attached to it
rb_syscalls() {
    local pid=$1 n=$2
    shift 2
    strace_attach "$pid" || { echo "?"; return; }
    "${bench_rb[@]}" -q -t set,get -n "$n" "$@" >/dev/null 2>&1
    strace_detach
    awk -v c="$STRACE_CALLS" -v n="$n" 'BEGIN { printf "%.2f\n", c / (2 * n) }'
}

# rb_instructions PORT N IDLE_IR CMD... -> user-space instructions per
# request: start CMD (a server that will listen on PORT) under callgrind,
# run N SET then N GET through it (redis-benchmark with ${rb_args[@]}), stop
# it, subtract IDLE_IR (the same server started and stopped with no work) and
# divide by 2 N. Keeps the profile at $work/cg.PORT (CALLGRIND_KEEP=DIR: there).
rb_instructions() {
    local port=$1 n=$2 idle=$3
    shift 3
    callgrind_start "${CALLGRIND_KEEP:-$work}/cg.$port" "$@"
    wait_listening "$port" 60 || { echo "?"; return; }
    if [ "$n" -gt 0 ]; then
        "${bench_rb[@]}" -p "$port" -q -t set,get -n "$n" "${rb_args[@]}" >/dev/null 2>&1
    fi
    callgrind_stop
    if [ "$n" -eq 0 ]; then echo "$CG_IR"; else
        awk -v ir="$CG_IR" -v idle="$idle" -v n="$n" 'BEGIN { printf "%.0f\n", (ir - idle) / (2 * n) }'
    fi
}
