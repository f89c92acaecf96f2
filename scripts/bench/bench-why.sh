#!/usr/bin/env bash
# bench-why.sh — chapter 0's benchmark: the same line-echo server five ways
# (iterative, fork, threads, raw epoll, libevent), each against 1, 10, 100,
# 1,000 and 10,000 concurrent connections of build/tools/loadgen, in
# one run on one machine. Per cell: throughput, p50/p99 latency, errors, the
# server's memory holding N idle clients (total and per connection), its
# tasks (processes + threads) and its context switches per request. Then the
# iterative server's lesson (N = 2, clients that pause between lines), a few
# ratios of the run's own figures, and docs/img/00-why.svg (gnuplot: installed
# by `scripts/deps.sh plot`; without it the script stops with exit status 1).
#
# Usage: scripts/bench/bench-why.sh        (make bench-why)
#        scripts/bench/bench-why.sh --plot FILE   only redraw the plot from a run's
#            printed output saved in FILE (docs/00-why-event-loop.md quotes one)
#   NS="1 10 100"  REQUESTS=20000  BYTES=64  SERVERS="epoll libevent"  NO_PLOT=1
#
# Each cell aims at REQUESTS echoed lines in all: a connection sends
# REQUESTS / N lines, but at least MIN_LINES (so 10,000 connections send 10
# lines each). One line is one request: sent, then its echo awaited.
#
# Memory is PSS (proportional set size, from /proc/PID/smaps_rollup): like RSS,
# but a page shared by k processes counts 1/k in each. Summed over the fork
# server's children it is honest; summed RSS would count libc once per child.
# The cost per connection is the growth of Pss_Anon (heap, stacks: the memory
# the clients make the server allocate) over the clients held: file-backed
# pages (libc) move with what other programs on the machine map.
# shellcheck disable=SC2046 # lists of pids and of /proc files are split on purpose
# shellcheck disable=SC2154 # $work is set by make_workdir (scripts/lib.sh)
set -eu
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
bin=${WORKBOOK_BIN:-build}/00_why_event_loop
tools=${WORKBOOK_BIN:-build}/tools
NS=${NS:-"1 10 100 1000 10000"}
SERVERS=${SERVERS:-"iterative fork threads epoll libevent"}
REQUESTS=${REQUESTS:-20000}
MIN_LINES=${MIN_LINES:-10}
BYTES=${BYTES:-64}
CELL_TIMEOUT=${CELL_TIMEOUT:-30} # seconds loadgen may take to connect, and again to run
SETTLE_S=${SETTLE_S:-20}         # seconds a server gets to take all N clients
svg=docs/img/00-why.svg

# Each connection is a descriptor in loadgen and one in the server (which
# inherits this limit).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fd_limit=$(ulimit -n)

# plot FILE: draw $svg from the "machine:" line and the table rows in FILE
plot() {
    command -v gnuplot >/dev/null || {
        echo "bench-why: cannot draw $svg: gnuplot is not installed (scripts/deps.sh plot installs it)" >&2
        return 1
    }
    local server machine
    for server in iterative fork threads epoll libevent; do
        awk -v s="$server" '$1 == s && $2 ~ /^[0-9]+$/' "$1" >"$work/plot-$server.dat"
    done
    machine=$(sed -n 's/^machine: \([^;]*\);.*\(libevent [^;]*\);.*/\1, \2/p' "$1" | head -n 1)
    gnuplot <<GNUPLOT
set terminal svg size 1000,760 dynamic font "sans,12" background rgb "white"
set output "$svg"
set multiplot layout 2,2 title "The same echo server five ways ($machine; loadgen on the same machine)"
set logscale xy
set xrange [0.7:14000]
set xlabel "concurrent connections"
set grid
servers = "iterative fork threads epoll libevent"
file(s) = sprintf("$work/plot-%s.dat", s)
set style data linespoints
set title "throughput (echoed lines per second)"
set key bottom left
plot for [s in servers] file(s) using 2:(\$3 > 0 ? \$3 : 1/0) lw 2 pt 7 title s
unset key
set title "p99 latency (ms)"
plot for [s in servers] file(s) using 2:(\$5 > 0 ? \$5 : 1/0) lw 2 pt 7
set title "KiB per idle connection (anonymous PSS)"
plot for [s in servers] file(s) using 2:((s ne "iterative" && \$2 >= 10 && \$8 > 0) ? \$8 : 1/0) lw 2 pt 7
set title "server context switches per request"
plot for [s in servers] file(s) using 2:(\$10 > 0 ? \$10 : 1/0) lw 2 pt 7
unset multiplot
GNUPLOT
    echo "wrote $svg"
}

make_workdir
if [ "${1-}" = --plot ]; then
    [ -r "${2-}" ] || { echo "usage: $0 --plot FILE (a saved run's output)" >&2; exit 2; }
    scripts/deps.sh plot || exit 1
    plot "$2" || exit 1
    exit 0
fi
# the plot comes at the end of a 2-minute run: make sure gnuplot is there first
if [ -z "${NO_PLOT-}" ]; then
    scripts/deps.sh plot || exit 1
fi
data=$work/cells.dat # one line per cell, for the table and the plot
: >"$data"

# ---- the server under test ----------------------------------------------------

# start NAME: run 00_why_event_loop/echo_NAME on a free port; sets PID, PORT
start() {
    "$bin/echo_$1" --port 0 >"$work/$1.out" 2>"$work/$1.err" &
    PID=$!
    pids+=("$PID")
    for _ in $(seq 200); do
        PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/$1.out")
        [ -n "$PORT" ] && return
        sleep 0.05
    done
    echo "bench-why: echo_$1 did not start:" >&2
    cat "$work/$1.err" >&2
    exit 1
}

stop() { # SIGINT, then wait up to 60 s (10,000 children take a while)
    kill -INT "$PID" 2>/dev/null || return 0
    for _ in $(seq 600); do
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
}

# The server's processes: itself and (fork) its children.
procs() { echo "$PID" $(cat "/proc/$PID/task/$PID/children" 2>/dev/null); }
# PSS of them all, KiB
mem_kib() {
    (cd /proc && awk -v field="${1:-Pss}:" '$1 == field { s += $2 } END { print s + 0 }' \
        $(for p in $(procs); do echo "$p/smaps_rollup"; done) 2>/dev/null)
}
# kernel tasks: processes + threads
tasks() { (cd /proc && awk '/^Threads:/ { s += $2 } END { print s + 0 }' \
    $(for p in $(procs); do echo "$p/status"; done) 2>/dev/null); }
# context switches, voluntary + involuntary, over every task
ctx_switches() {
    (cd /proc && awk '/ctxt_switches:/ { s += $2 } END { print s + 0 }' \
        $(for p in $(procs); do echo "$p"/task/*/status; done) 2>/dev/null)
}
# how many clients the server holds now
held() {
    case $1 in
    fork) echo $(($(procs | wc -w) - 1)) ;;
    threads) echo $(($(tasks) - 1)) ;;
    *) echo $(($(find "/proc/$PID/fd" -mindepth 1 -maxdepth 1 | wc -l) - base_fds)) ;;
    esac
}

# ---- one cell -----------------------------------------------------------------

# wait_line FILE REGEX SECONDS: 0 once FILE has a matching line
wait_line() {
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        grep -qE "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# field NAME: a figure from the loadgen report in $lg_out
field() {
    case $1 in
    rps) sed -n 's/^requests .* s: \([0-9]*\) req\/s$/\1/p' "$lg_out" ;;
    echoed) sed -n 's/^requests \([0-9]*\) of .*/\1/p' "$lg_out" ;;
    p50) sed -n 's/^latency ms: p50 \([0-9.]*\) .*/\1/p' "$lg_out" ;;
    p99) sed -n 's/^latency ms: .* p99 \([0-9.]*\) .*/\1/p' "$lg_out" ;;
    errors) sed -n 's/^errors \([0-9]*\).*/\1/p' "$lg_out" ;;
    esac
}

# cell SERVER N: measure, append a line to $data
cell() {
    local server=$1 n=$2 lines=$((REQUESTS / $2)) lg base_mem base_anon idle_anon
    local cell_start=$SECONDS holding=$2 idle_mem=0 idle_tasks ctx0 ctx1 note=""
    [ "$lines" -lt "$MIN_LINES" ] && lines=$MIN_LINES
    lg_out=$work/lg-$server-$n.out
    start "$server"
    base_fds=$(find "/proc/$PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
    base_mem=$(mem_kib) base_anon=$(mem_kib Pss_Anon)
    if [ "$server" = iterative ]; then
        # It holds one client at a time: nothing to pause for.
        ctx0=$(ctx_switches)
        "$tools/loadgen" --port "$PORT" --connections "$n" --lines "$lines" --bytes "$BYTES" \
            --timeout "$CELL_TIMEOUT" >"$lg_out" 2>&1 || true
        ctx1=$(ctx_switches)
        idle_mem=$(mem_kib) idle_anon=$(mem_kib Pss_Anon)
        idle_tasks=$(tasks)
        holding=1 # one client at a time
    else
        "$tools/loadgen" --port "$PORT" --connections "$n" --lines "$lines" --bytes "$BYTES" \
            --timeout "$CELL_TIMEOUT" --pause >"$lg_out" 2>&1 &
        lg=$!
        pids+=("$lg")
        # Wait until loadgen has connected (or failed) all N and the server
        # holds every connected client, for at most SETTLE_S seconds.
        local want="" deadline=$((SECONDS + SETTLE_S))
        while [ "$SECONDS" -lt "$deadline" ]; do
            want=$(sed -n 's/^connected \([0-9]*\) of.*/\1/p' "$lg_out")
            [ -n "$want" ] && [ "$(held "$server")" -ge "$want" ] && break
            sleep 0.1
        done
        holding=$(held "$server")
        idle_mem=$(mem_kib) idle_anon=$(mem_kib Pss_Anon)
        idle_tasks=$(tasks)
        ctx0=$(ctx_switches)
        if [ -z "$want" ] || [ "$holding" -lt "$want" ]; then
            # Too slow to take them all: that is this cell's result (the
            # machine's cap), and the traffic run is skipped.
            note="capped: held $holding of $n clients after ${SETTLE_S} s"
            kill -INT "$lg" 2>/dev/null || true
            ctx1=$ctx0
        else
            kill -USR1 "$lg" 2>/dev/null || true
            wait_line "$lg_out" '^done; ' "$CELL_TIMEOUT" || true
            ctx1=$(ctx_switches)
            kill -USR1 "$lg" 2>/dev/null || true
        fi
        wait "$lg" 2>/dev/null || true
    fi
    stop
    local refused
    refused=$(grep -hE '^refused [0-9]+' "$work/$server.out" | awk '{ print $2 }')
    [ -n "$refused" ] && note="server refused $refused: $(grep -hE 'cannot (fork|start)' "$work/$server.err" | head -n 1 | sed 's/^[^:]*: //')"
    grep -q 'timed out' "$lg_out" && note="${note:+$note; }$(grep -h 'timed out' "$lg_out" | sed 's/^loadgen: //')"
    local echoed rps p50 p99 errors
    echoed=$(field echoed) rps=$(field rps) p50=$(field p50) p99=$(field p99) errors=$(field errors)
    awk -v s="$server" -v n="$n" -v rps="${rps:-0}" -v p50="${p50:-0}" -v p99="${p99:-0}" \
        -v err="${errors:-$n}" -v done="${echoed:-0}" -v mem="$idle_mem" -v base="$base_mem" \
        -v held="$holding" -v anon="$idle_anon" -v base_anon="$base_anon" \
        -v tasks="$idle_tasks" -v ctx=$((ctx1 - ctx0)) -v secs=$((SECONDS - cell_start)) \
        -v note="$note" 'BEGIN {
        per = held > 0 ? (anon - base_anon) / held : 0
        cps = done > 0 ? ctx / done : 0
        printf "%-9s %6d %8d %8.3f %9.3f %6d %8.1f %8.2f %6d %7.2f %5d  %s\n",
            s, n, rps, p50, p99, err, mem / 1024, per, tasks, cps, secs, note }' |
        sed 's/ *$//' | tee -a "$data"
}

# ---- the run -----------------------------------------------------------------

machine_line="machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo),\
 $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); $(uname -sr);\
 libevent $(pkg-config --modversion libevent); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$machine_line"
echo "N connections, each sending max($REQUESTS / N, $MIN_LINES) lines of $BYTES bytes, one at a time, waiting for each echo;" \
    "loadgen and server share the machine. Descriptor limit $fd_limit, process limit $(ulimit -u)."
echo
printf "%-9s %6s %8s %8s %9s %6s %8s %8s %6s %7s %5s  %s\n" server N 'req/s' 'p50 ms' 'p99 ms' \
    errors 'mem MiB' 'KiB/conn' tasks 'cs/req' secs notes
started=$SECONDS
for server in $SERVERS; do
    for n in $NS; do
        cell "$server" "$n"
    done
done
echo "(mem: PSS while holding N idle clients; KiB/conn: growth of anonymous PSS / clients held;" \
    "tasks: processes + threads; cs/req: the server's context switches per echoed line;" \
    "secs: the cell's wall time)"
echo "cells took $((SECONDS - started)) s"

# ---- the iterative server's lesson --------------------------------------------

THINK_MS=100
echo
echo "the lesson: 2 clients, each sending 5 lines $THINK_MS ms apart (a session of ~$((4 * THINK_MS)) ms):"
for server in $SERVERS; do
    start "$server"
    lg_out=$work/lesson-$server.out
    "$tools/loadgen" --port "$PORT" --connections 2 --lines 5 --think "$THINK_MS" \
        --timeout "$CELL_TIMEOUT" >"$lg_out" 2>&1 || true
    stop
    sed -n 's/^first echo ms: max \([0-9.]*\); session ms: min \([0-9.]*\) .*/\1 \2/p' "$lg_out" |
        awk -v s="$server" '{ printf "  %-9s slowest first echo %8.3f ms; shortest session %8.3f ms: ratio %.2f\n",
            s, $1, $2, ($2 > 0 ? $1 / $2 : 0) }' | tee -a "$work/lesson.dat"
done

# ---- ratios of this run -----------------------------------------------------------

# value SERVER N COLUMN: a figure from the table (columns as printed, 1-based)
value() { awk -v s="$1" -v n="$2" -v c="$3" '$1 == s && $2 == n { print $c }' "$data"; }
# ratio WHAT A B: print A / B, and the two figures it comes from
ratio() {
    awk -v a="$2" -v b="$3" -v what="$1" 'BEGIN {
        if (a == "" || b == "" || b == 0) { printf "  %-58s not measured\n", what; exit }
        printf "  %-58s %.2f (%s / %s)\n", what, a / b, a, b }'
}
echo
echo "ratios, from this run:"
ratio "libevent / raw epoll throughput at 1,000" \
    "$(value libevent 1000 3)" "$(value epoll 1000 3)"
ratio "libevent / thread-per-connection throughput at 1,000" \
    "$(value libevent 1000 3)" "$(value threads 1000 3)"
per=$(value libevent 10000 8)
if [ -n "$per" ]; then
    awk -v p="$per" 'BEGIN { printf "  %-58s %.2f KiB\n", "libevent memory per idle connection at 10,000", p }'
fi
lesson=$(awk '$1 == "iterative" { print $NF }' "$work/lesson.dat" 2>/dev/null)
[ -n "$lesson" ] && echo "  iterative: 2nd client's first echo / 1st client's session: $lesson"

# ---- the plot --------------------------------------------------------------------

# ---- raw epoll against libevent, with the steady measures --------------------
# The one comparison the page draws a lesson from, measured again with what
# holds on a shared machine (scripts/lib.sh): STEADY_ROUNDS rounds at 1,000
# connections x 20 lines, the two servers taking turns (median ± spread), and
# for each server its CPU µs, system calls (strace, one round) and user-space
# instructions (callgrind, one round, start and exit subtracted) per request.
steady_n=1000
steady_lines=20
steady_rounds=${STEADY_ROUNDS:-5}
steady_requests=$((steady_n * steady_lines))
steady_load() { "$bin/loadgen" --port "$1" --connections "$steady_n" --lines "$steady_lines" --timeout "$CELL_TIMEOUT"; }
# steady_instr NAME: callgrind instructions per request of echo_NAME
steady_instr() {
    local port idle
    port=$(free_port)
    callgrind_start "$work/cg-$1" "$bin/echo_$1" --port "$port"
    wait_listening "$port" 60 || { echo "?"; return; }
    callgrind_stop
    idle=$CG_IR
    port=$(free_port)
    callgrind_start "$work/cg-$1" "$bin/echo_$1" --port "$port"
    wait_listening "$port" 60 || { echo "?"; return; }
    steady_load "$port" >/dev/null 2>&1
    callgrind_stop
    echo $(((CG_IR - idle) / steady_requests))
}
echo
echo "raw epoll and libevent at $steady_n connections x $steady_lines lines, $steady_rounds rounds taking turns:"
printf '  %-9s %16s %11s %13s %10s\n' server 'req/s' 'CPU µs/req' 'syscalls/req' 'instr/req'
for server in epoll libevent; do : >"$work/steady-$server"; done
for _ in $(seq "$steady_rounds"); do
    for server in epoll libevent; do
        start "$server"
        t0=$(cpu_ticks "$PID")
        steady_load "$PORT" 2>&1 | sed -n 's/^requests .* s: \([0-9]*\) req\/s$/\1/p' >>"$work/steady-$server"
        t1=$(cpu_ticks "$PID")
        echo "$t0 $t1" >>"$work/steady-$server.cpu"
        stop
    done
done
for server in epoll libevent; do
    read -r med spread < <(median_spread <"$work/steady-$server")
    cpu=$(awk -v hz="$(getconf CLK_TCK)" -v n="$steady_requests" '{ t += $2 - $1; k++ }
        END { printf "%.1f", t * 1e6 / hz / (n * k) }' "$work/steady-$server.cpu")
    start "$server"
    strace_attach "$PID"
    steady_load "$PORT" >/dev/null 2>&1
    strace_detach
    stop
    sys=$(awk -v c="$STRACE_CALLS" -v n="$steady_requests" 'BEGIN { printf "%.2f", c / n }')
    instr=$(steady_instr "$server")
    printf '  %-9s %9.0f ±%3d%% %11s %13s %10s\n' "$server" "$med" "$spread" "$cpu" "$sys" "$instr" |
        tee -a "$work/steady.dat"
done
awk '{ v[$1] = $2; i[$1] = $NF } END { if (v["epoll"] > 0 && i["epoll"] > 0)
    printf "  libevent / raw epoll: throughput %.2f (medians), instructions %.2f\n",
        v["libevent"] / v["epoll"], i["libevent"] / i["epoll"] }' "$work/steady.dat"

[ -n "${NO_PLOT-}" ] && exit 0
{ echo "$machine_line"; cat "$data"; } >"$work/run.txt"
plot "$work/run.txt" || exit 1
