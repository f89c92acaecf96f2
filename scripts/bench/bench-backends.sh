#!/usr/bin/env bash
# bench-backends.sh — chapter 1's listener on each of libevent's three Linux
# backends (--backend epoll|poll|select), side by side in one run:
#   1. N idle connections (IDLE="1000 10000") plus one active client that
#      sends ROUNDS lines (or for BUDGET seconds) one at a time, waiting for each echo: round-trip
#      latency p50/p99, and the server's CPU time (utime+stime from
#      /proc/PID/stat) over those round trips, per round trip;
#   2. select past FD_SETSIZE: SELECT_PAST connections (default 1,100) to the
#      listener on --backend select: how many it accepted, and whether it
#      still runs. libevent's select.c grows its own fd_set past 1024 bits; what
#      the C library's FD_SET does with fd 1024 is what this measures.
# select is measured at the smaller IDLE counts only (below 1024 fds).
#
# Usage: scripts/bench/bench-backends.sh      (make bench-backends)
#   IDLE="1000 10000"  ROUNDS=2000  BUDGET=15 (seconds per cell)  SELECT_PAST=1100
# shellcheck disable=SC2154 # $work is set by make_workdir (scripts/lib.sh)
set -eu
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
bin=${WORKBOOK_BIN:-build}
idle_counts=${IDLE:-1000 10000}
rounds=${ROUNDS:-2000}
budget=${BUDGET:-15} # seconds of round trips per cell at most
select_past=${SELECT_PAST:-1100}
py=/usr/bin/python3

# This shell's children hold the client ends; the server inherits the limit.
max_idle=0
for n in $idle_counts; do [ "$n" -gt "$max_idle" ] && max_idle=$n; done
want=$((max_idle + 1000))
ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt "$want" ]; then
    echo "bench-backends: the descriptor limit is $(ulimit -n): too low for $max_idle connections" >&2
    exit 1
fi

make_workdir

# The client side, in Python: open the idle connections, then time the
# active client's round trips and read the server's CPU ticks around them.
cat >"$work/client.py" <<'PY'
import os, socket, sys, time
port, pid, idle, rounds, budget = (int(a) for a in sys.argv[1:6])
tick = os.sysconf("SC_CLK_TCK")
def cpu_ms():
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / tick
def connect():
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s
held = [connect() for _ in range(idle)]
active = connect()
f = active.makefile("rb")
f.readline()                                  # the greeting
time.sleep(0.5)                               # let the server settle
before = cpu_ms()
times = []
deadline = time.monotonic() + budget           # a slow backend stops early
for i in range(rounds):
    if time.monotonic() > deadline:
        break
    t = time.perf_counter()
    active.sendall(b"ping %d\r\n" % i)
    if not f.readline():
        sys.exit("the server closed the active connection")
    times.append(time.perf_counter() - t)
used = cpu_ms() - before
times.sort()
p = lambda q: times[min(len(times) - 1, int(q * len(times)))] * 1e6
print(f"{p(0.50):.0f} {p(0.99):.0f} {used * 1000.0 / len(times):.1f} {len(times)}")
PY

# past FD_SETSIZE: open as many as we can, then is the server alive?
cat >"$work/past.py" <<'PY'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
held = []
try:
    for _ in range(n):
        held.append(socket.create_connection(("127.0.0.1", port), timeout=5))
except OSError as e:
    pass
time.sleep(1)
print(len(held))
PY

# start BACKEND: the listener on that backend; sets PID and PORT
start() {
    "$bin/01_listener/listener" --port 0 --backend "$1" >"$work/$1.out" 2>"$work/$1.err" &
    PID=$!
    pids+=("$PID")
    PORT=$(wait_listening_port "$work/$1.out") && return
    echo "bench-backends: the listener on $1 did not start" >&2
    cat "$work/$1.err" >&2
    exit 1
}

stop() {
    kill -INT "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
}

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); $(uname -sr); libevent $(pkg-config --modversion libevent)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: figures move with it)"
echo
printf '%-8s %7s %10s %10s %16s %8s\n' backend idle "p50 (us)" "p99 (us)" "server CPU/rt" rounds
for n in $idle_counts; do
    for backend in epoll poll select; do
        if [ "$backend" = select ] && [ "$n" -gt 1000 ]; then
            printf '%-8s %7d %10s %10s %16s\n' select "$n" - - "(past FD_SETSIZE)"
            continue
        fi
        start "$backend"
        read -r p50 p99 cpu done_rounds < <("$py" "$work/client.py" "$PORT" "$PID" "$n" "$rounds" "$budget")
        stop
        printf '%-8s %7d %10s %10s %13s us %8d\n' "$backend" "$n" "$p50" "$p99" "$cpu" "$done_rounds"
    done
done
echo "(one active client: up to $rounds round trips of a short line, or $budget s of them; TCP_NODELAY;"
echo " server CPU/rt: the server's utime+stime over those round trips, divided by their number)"
echo
echo "select past FD_SETSIZE (1024): $select_past connections to --backend select"
start select
opened=$("$py" "$work/past.py" "$PORT" "$select_past")
accepted=$(grep -c '^recv a connection' "$work/select.out" || true)
if kill -0 "$PID" 2>/dev/null; then
    echo "  opened $opened, the server accepted $accepted and is still running"
    stop
else
    status=0
    wait "$PID" 2>/dev/null || status=$?
    echo "  opened $opened; the server accepted $accepted, then died (exit status $status):"
    sed 's/^/    stderr: /' "$work/select.err" | tail -n 2
fi
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
