#!/usr/bin/env bash
# strace-lesson.sh N — `make strace-chapterN`: run chapter N's server under
# strace with a scripted client, stop it, and print its system calls annotated
# with the three steps (register = epoll_ctl, detect = epoll_wait, dispatch =
# the accept4/read/write that follow), by scripts/classroom/strace-annotate.py.
#
#   chapter 1: the listener; the client is nc, which sends one line and leaves
#   chapter 6: the relay, in front of a private Redis started for the run; the
#              clients are two redis-cli commands
#
# Everything runs on free ports and stops at the end (the Redis too). The raw
# strace output is kept in build/strace-chapterN.txt, to compare with.
# Exit: 0, 1 (strace missing or not allowed to trace, a server that did not
# start), 2 (usage).
set -u
prog=strace-lesson
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
bin=${WORKBOOK_BIN:-build}

# The calls of the lesson: the loop's, the sockets' and the bytes'.
CALLS=epoll_create1,epoll_ctl,epoll_wait,pipe2,socket,bind,listen,connect,accept4
CALLS=$CALLS,read,readv,recvfrom,write,writev,sendto,shutdown,close

case ${1-} in
    1 | 6) chapter=$1 ;;
    *) echo "usage: $0 1|6" >&2; exit 2 ;;
esac
command -v strace >/dev/null || { echo "$prog: strace is not installed (Debian: apt-get install strace)" >&2; exit 1; }
if ! strace -o /dev/null true 2>/dev/null; then
    echo "$prog: strace cannot trace here (ptrace not permitted: a container without CAP_SYS_PTRACE?)" >&2
    exit 1
fi

make_workdir
# shellcheck disable=SC2154  # $work and pids come from make_workdir
raw=$work/strace.txt

# traced NAME CMD...: CMD under strace, its stdout in $work/NAME.out; waits for
# its "listening on" line and sets port and server (the traced program's pid)
traced() {
    local name=$1
    shift
    (
        close_fds_above_2
        exec strace -f -tt -T -s 80 -e trace="$CALLS" -o "$raw" "$@"
    ) >"$work/$name.out" 2>"$work/$name.err" </dev/null &
    strace_pid=$!
    pids+=("$strace_pid")
    if ! port=$(wait_listening_port "$work/$name.out" 15); then
        echo "$prog: $name did not start:" >&2
        cat "$work/$name.err" >&2
        exit 1
    fi
    server=$(ps -o pid= --ppid "$strace_pid" | tr -d ' ')
}

# stop_traced: SIGINT to the server (not to strace), then wait for strace to end
stop_traced() {
    kill -INT "$server"
    for _ in $(seq 200); do
        kill -0 "$strace_pid" 2>/dev/null || break
        sleep 0.05
    done
    wait "$strace_pid" 2>/dev/null
}

say() { printf '%s\n' "$*"; }

if [ "$chapter" = 1 ]; then
    traced listener "$bin/01_listener/listener" --port 0
    say "== build/01_listener/listener --port 0, under strace; the client: printf 'hi there\\n' | nc -N 127.0.0.1 $port"
    printf 'hi there\n' | nc -N 127.0.0.1 "$port" | sed 's/^/   nc got: /'
    # the server notices the client's close before we stop it
    wait_for_line "$work/listener.out" 'closed' 10 || exit 1
    stop_traced
    annotate=(/usr/bin/python3 scripts/classroom/strace-annotate.py "$raw")
else
    mkdir -p "$work/redis"
    start_private_redis "$work/redis" || exit 1
    pids+=("$REDIS_PID")
    traced relay "$bin/06_redis_relay/relay" --port 0 --redis-port "$REDIS_PORT"
    say "== build/06_redis_relay/relay --port 0 --redis-port $REDIS_PORT (a private Redis), under strace; the clients:"
    say "   redis-cli -p $port set workbook:strace hello   ->  $(redis-cli -p "$port" set workbook:strace hello)"
    say "   redis-cli -p $port get workbook:strace         ->  $(redis-cli -p "$port" get workbook:strace)"
    for _ in $(seq 100); do
        [ "$(ss -tnH state established "( sport = :$port )" | wc -l)" -eq 0 ] && break
        sleep 0.05
    done
    stop_traced
    annotate=(/usr/bin/python3 scripts/classroom/strace-annotate.py --redis-port "$REDIS_PORT" "$raw")
fi

say "== the server's system calls: register (epoll_ctl), detect (epoll_wait), dispatch (what follows)"
"${annotate[@]}" || exit 1
mkdir -p build
cp "$raw" "build/strace-chapter$chapter.txt"
say "== the raw strace output: build/strace-chapter$chapter.txt"
