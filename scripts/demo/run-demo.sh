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
# Job control works through the shell's stderr (bash hands the terminal to a job
# with tcsetpgrp on it): when stderr is a pipe (`make chapter0 2>&1 | tee log`),
# the shell's own stderr is pointed at the terminal first and the demo keeps the
# original one (fd 3), so Ctrl-C still reaches the demo alone, tee lives on and
# gets the demo's last lines.
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
    exec 3>&2
    if [ ! -t 2 ]; then
        if (: <>/dev/tty) 2>/dev/null; then exec 2<>/dev/tty; else exec 2>&0; fi
    fi
    set -m
    "$@" 2>&3 3>&- &
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
