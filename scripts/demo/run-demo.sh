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
# The hand-over has a race, and it is closed here: bash forks the job, then fg
# gives it the terminal (tcsetpgrp) — a little later. A demo that printed
# "listening on" in between was still in the background, so a Ctrl-C typed on
# seeing that line went to make's group instead (make noted it and waited; the
# trapped shell ignored it; the demo never saw it and ran on, and make with it:
# the hang tests/walkthrough.bats once met on Debian 13). So the job first waits
# until its process group owns the terminal (the tpgid field of /proc/self/stat
# equals its pgrp) and only then execs the demo: whatever the demo prints, it
# prints in the foreground. A Ctrl-C that still lands in the moment before the
# hand-over is not lost either: the trap notes it and the demo is stopped.
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
    interrupted=
    trap 'interrupted=1' INT
    exec 3>&2
    if [ ! -t 2 ]; then
        if (: <>/dev/tty) 2>/dev/null; then exec 2<>/dev/tty; else exec 2>&0; fi
    fi
    set -m
    (
        # wait (up to 10 s) until fg has made this job the foreground group
        for _ in $(seq 1000); do
            stat=$(cat /proc/$BASHPID/stat 2>/dev/null) || break
            read -r _ _ pgrp _ _ tpgid _ <<<"${stat##*) }"
            [ "$pgrp" = "$tpgid" ] && break
            sleep 0.01
        done
        exec "$@" 2>&3 3>&-
    ) &
    pid=$!
    [ -n "$pidfile" ] && echo "$pid" >"$pidfile"
    # a Ctrl-C before the hand-over reached this shell, not the job: stop the job
    [ -n "$interrupted" ] && kill -INT -- "-$pid" 2>/dev/null
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
