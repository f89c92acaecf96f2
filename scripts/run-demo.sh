#!/usr/bin/env bash
# run-demo.sh [--pidfile FILE] CMD [ARG...] — run a chapter's demo for `make chapterN`
# so that Ctrl-C stops the demo, and only the demo, and make ends quietly.
#
# Ctrl-C sends SIGINT to the terminal's foreground process group. Under make that
# group holds make itself, and make, once interrupted, kills itself with SIGINT
# after its children end ("make: *** ... Interrupt" or "Error 130", status 130),
# however cleanly the demo shut down. So, on a terminal, the demo runs as a job
# of its own (set -m) brought to the foreground (fg): Ctrl-C reaches the demo
# alone, the demo shuts down cleanly, and make sees exit status 0. A demo that
# dies by SIGINT (status 130) counts as a clean stop too.
# --pidfile FILE: write the demo's pid there (removed when it ends), so the
# page can say `kill -USR1 $(cat FILE)` without guessing with pgrep.
set -u
pidfile=
if [ "${1-}" = --pidfile ]; then
    pidfile=$2
    shift 2
fi

if [ -t 0 ]; then
    # (the trap: a job killed by SIGINT otherwise makes this shell kill itself with
    # SIGINT too; a trapped signal is reset to its default in the demo)
    trap : INT
    set -m
    "$@" &
    pid=$!
    [ -n "$pidfile" ] && echo "$pid" >"$pidfile"
    # a job killed by SIGINT interrupts fg itself: the assignment after it is
    # skipped, and the 130 set here stands
    status=130
    fg %1 >/dev/null
    status=$?
else
    # no terminal (a test, a pipe): the demo runs in the foreground and gets
    # the SIGINT sent to the group; this shell only waits for it to end
    trap : INT TERM
    if [ -n "$pidfile" ]; then
        bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@"
    else
        "$@"
    fi
    status=$?
fi
[ -n "$pidfile" ] && rm -f "$pidfile"
[ "$status" -eq 130 ] && status=0
exit "$status"
