#!/usr/bin/env bash
# demo.sh — classroom mode: `make demoN` plays chapter N as a short lesson in a
# tmux session laid out for a projector (docs/teaching.md says how to teach with it).
#
#   scripts/classroom/demo.sh N              the lesson of chapter N (its NN_name/demo.steps)
#   scripts/classroom/demo.sh --check FILE   parse a steps file; print "N steps" or what is wrong
#
# The screen: a server pane, two client panes, a trace pane (the server's stderr,
# where --trace writes register/detect/dispatch lines) and a small control pane
# at the bottom that shows the next step's explanation and its command. On Enter
# (or by itself with DEMO_AUTO=1) the command is typed into its pane with
# `tmux send-keys`, so the room sees it typed.
#
# A steps file holds one step per line, three fields separated by TABs:
#     pane <TAB> command <TAB> what to say about it
# pane: server, client, client2 or trace. Lines starting with # are comments.
# A client pane's name may end in & (client&): its command keeps running while
# the next steps are typed (a telnet, a subscriber, a transfer the next step
# watches). Without it, DEMO_AUTO types the next step only once the command has
# ended (at most 30 s): a quiet pane is not a finished command (a lookup that
# waits 300 ms on a slow server prints nothing while it waits). The server pane
# needs no &: what runs there is meant to keep running.
# The command and the explanation may name: {bin} (where the binaries are),
# {port} (the port of the server started last: a command with `--port 0` waits
# for its "listening on 127.0.0.1:PORT" line), {producer_port} (chapter 5's
# second port), {pid} (that server's pid), {redis_port} (a private Redis, started
# for the lesson when the file names it), {trace} ($DEMO_TRACE), {log} (the file
# the trace pane shows), {conf} (a copy of chapter 4's greeting.conf).
# A command `keys:K1 K2 ...` sends tmux key names instead of a line: `keys:C-c`
# is Ctrl-C, `keys:C-] q u i t Enter` leaves telnet.
#
# Settings (environment; make passes its command-line variables through):
#   DEMO_AUTO=1        advance by itself, DEMO_DELAY seconds per step (default 2)
#   DEMO_HOLD=SECONDS  with DEMO_AUTO, how long the last screen stays before
#                      everything stops (default DEMO_DELAY; the tests read it)
#   DEMO_SETTLE=1      with DEMO_AUTO, a step waits until the server and client
#                      panes have not changed for DEMO_DELAY seconds (at most
#                      10 s; the trace pane never rests while a timer ticks) instead of
#                      DEMO_DELAY flat: the lesson goes as fast as its commands
#                      do, and a step never overtakes the last one's output —
#                      the tests play lessons so, with DEMO_DELAY=0.3
#   DEMO_TRACE=FLAGS   the servers' trace flag (make: --trace; empty: none)
#   DEMO_STEPS=FILE    play this steps file instead of the chapter's demo.steps
#                      (your own lesson, in the chapter's setting)
#   DEMO_SOCKET=NAME   the tmux server's socket name (tmux -L; default: a new one)
#   DEMO_DETACHED=1    start the session in the background and return (tests)
#   DEMO_COLS, DEMO_ROWS  the window's size when detached (default 180x50;
#                      scripts/classroom/casts.py records at 120x36, for the site's player)
#
# Everything the lesson starts is stopped when the session ends — last step,
# `q` or Ctrl-C in the control pane, or the session killed: a watchdog process
# waits for the session to go, then stops what ran in its panes (found by
# session id, so also what survived the panes' SIGHUP), the private Redis, and
# removes the lesson's files (build/demo/chN.*). Exit: 0, 1 runtime, 2 usage
# (no tmux, no terminal, no such chapter).
set -u
prog=demo
root=$(cd "$(dirname "$0")/../.." && pwd)
caller_dir=$PWD # where a relative DEMO_STEPS is
cd "$root" || exit 1
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

PANES="server client client2 trace"

die() { echo "$prog: $*" >&2; exit "${2:-1}"; }

# ---------------------------------------------------------------------------
# Steps files

# read_steps FILE: fill the arrays step_pane, step_cmd, step_say and step_bg
# (1: the pane's name ended in &); on a bad line say which and fail
read_steps() {
    local file=$1 n=0 line pane cmd say rest bg
    step_pane=() step_cmd=() step_say=() step_bg=()
    [ -r "$file" ] || { echo "$file: cannot read it" >&2; return 1; }
    while IFS= read -r line || [ -n "$line" ]; do
        n=$((n + 1))
        case $line in '' | '#'*) continue ;; esac
        IFS=$'\t' read -r pane cmd say rest <<<"$line"
        bg=0
        case $pane in client\& | client2\&) pane=${pane%\&} bg=1 ;; esac
        if [ -n "$rest" ] || [ -z "$say" ] || [ -z "$cmd" ]; then
            echo "$file:$n: want 3 TAB-separated fields: pane, command, explanation" >&2
            return 1
        fi
        case " $PANES " in
            *" $pane "*) ;;
            *) echo "$file:$n: unknown pane '$pane' (panes: $PANES)" >&2; return 1 ;;
        esac
        step_pane+=("$pane") step_cmd+=("$cmd") step_say+=("$say") step_bg+=("$bg")
    done <"$file"
    [ ${#step_cmd[@]} -gt 0 ] || { echo "$file: no steps" >&2; return 1; }
}

# ---------------------------------------------------------------------------
# The launcher: state dir, private Redis, the tmux session, the watchdog

chapter_dir() { # N -> NN_name
    local d
    for d in "$(printf '%02d' "$1")"_*/ "$1"_*/; do
        [ -d "$d" ] && { echo "${d%/}"; return 0; }
    done
    return 1
}

tm() { tmux -L "$socket" "$@"; }

# make_layout: the window's panes; writes $state/panes: NAME PANE_ID PANE_PID
make_layout() {
    local shell="env -i HOME=$HOME PATH=$PATH TERM=screen-256color LANG=${LANG:-C.UTF-8}"
    local s c c2 t name
    # a plain bash, the same for everybody: a short prompt that names the pane
    s=$(tm new-session -d -P -F '#{pane_id}' -s "$session" -n "chapter$chapter" \
        -x "${DEMO_COLS:-180}" -y "${DEMO_ROWS:-50}" -c "$root" "$shell PS1='server\$ ' HISTFILE=/dev/null bash --norc --noprofile -i") || return 1
    c=$(tm split-window -h -P -F '#{pane_id}' -t "$s" -l 45% -c "$root" \
        "$shell PS1='client\$ ' HISTFILE=/dev/null bash --norc --noprofile -i") || return 1
    c2=$(tm split-window -v -P -F '#{pane_id}' -t "$c" -c "$root" \
        "$shell PS1='client2\$ ' HISTFILE=/dev/null bash --norc --noprofile -i") || return 1
    t=$(tm split-window -v -f -P -F '#{pane_id}' -t "$s" -l 30% -c "$root" \
        "$shell PS1='trace\$ ' HISTFILE=/dev/null bash --norc --noprofile -i") || return 1
    tm set-option -t "$session" pane-border-status top >/dev/null
    tm set-option -t "$session" pane-border-format ' #{pane_title} ' >/dev/null
    tm set-option -t "$session" status-left "[workbook: chapter $chapter] " >/dev/null
    tm set-option -t "$session" status-left-length 40 >/dev/null
    tm set-option -t "$session" mouse on >/dev/null
    tm select-pane -t "$s" -T "server" && tm select-pane -t "$c" -T "client"
    tm select-pane -t "$c2" -T "client 2" && tm select-pane -t "$t" -T "trace: the server's stderr"
    : >"$state/panes"
    for name in server:"$s" client:"$c" client2:"$c2" trace:"$t"; do
        echo "${name%%:*} ${name#*:} $(tm display-message -p -t "${name#*:}" '#{pane_pid}')" >>"$state/panes"
    done
    # the control pane, last: the lesson itself runs there
    c=$(tm split-window -v -f -P -F '#{pane_id}' -l 8 -c "$root" \
        "exec bash '$root/scripts/classroom/demo.sh' --lesson '$state'") || return 1
    tm select-pane -t "$c" -T "lesson: Enter = next step, q = end"
    echo "control $c $(tm display-message -p -t "$c" '#{pane_pid}')" >>"$state/panes"
}

launch() {
    chapter=$1
    local dir
    dir=$(chapter_dir "$chapter") || die "no chapter $chapter" 2
    local steps=$dir/demo.steps
    if [ -n "${DEMO_STEPS-}" ]; then
        steps=$DEMO_STEPS
        [ "${steps#/}" != "$steps" ] || steps=$caller_dir/$steps
    fi
    [ -f "$steps" ] || die "chapter $chapter has no lesson ($steps)" 2
    read_steps "$steps" || exit 1
    command -v tmux >/dev/null || die "tmux is not installed (Debian: apt-get install tmux)" 2
    if [ -z "${DEMO_DETACHED-}" ] && ! { [ -t 0 ] && [ -t 1 ]; }; then
        die "classroom mode needs a terminal (or DEMO_DETACHED=1 to start it in the background)" 2
    fi
    close_fds_above_2
    socket=${DEMO_SOCKET:-workbook-demo-$$}
    session=workbook-ch$chapter
    mkdir -p build/demo
    state=$(mktemp -d "build/demo/ch$chapter.XXXXXX") || exit 1
    state=$root/$state
    trap 'cleanup' EXIT
    : >"$state/trace.log"
    {
        printf 'chapter=%q\ndir=%q\nsteps=%q\nsocket=%q\nsession=%q\n' "$chapter" "$dir" "$steps" "$socket" "$session"
        printf 'auto=%q\ndelay=%q\nhold=%q\nsettle=%q\n' "${DEMO_AUTO-}" "${DEMO_DELAY:-2}" "${DEMO_HOLD-}" "${DEMO_SETTLE-}"
        printf 'trace_flag=%q\n' "${DEMO_TRACE---trace}"
        # {bin}: build/ for the checkout's own build, so commands read as in the
        # pages (build/01_listener/listener); another build's full path otherwise
        bin='build/'
        [ "${WORKBOOK_BIN:-$root/build}" = "$root/build" ] || bin=$WORKBOOK_BIN/
        printf 'bin=%q\n' "$bin"
    } >"$state/env"
    if grep -q '{redis_port}' "$steps"; then
        mkdir -p "$state/redis"
        start_private_redis "$state/redis" >/dev/null || exit 1
        echo "$REDIS_PID" >"$state/redis.pid"
        printf 'redis_port=%q\n' "$REDIS_PORT" >>"$state/env"
    fi
    grep -q '{conf}' "$steps" && cp 04_signals/greeting.conf "$state/greeting.conf"
    if tm has-session -t "$session" 2>/dev/null; then
        die "tmux (socket $socket) already has a session $session"
    fi
    created=1
    make_layout || die "could not lay out the tmux session"
    # the watchdog outlives this script: it stops everything when the session ends
    (
        trap '' HUP INT
        exec bash "$root/scripts/classroom/demo.sh" --watch "$state"
    ) </dev/null >/dev/null 2>&1 &
    watchdog=$!
    trap - EXIT
    if [ -n "${DEMO_DETACHED-}" ]; then
        echo "$prog: chapter $chapter's lesson runs in tmux -L $socket, session $session; files in $state"
        return 0
    fi
    # detaching (or closing the terminal) ends the lesson: nobody is left to watch it
    TMUX='' tm attach-session -t "$session" \; set-option destroy-unattached on >/dev/null 2>&1
    wait "$watchdog"
    echo "$prog: lesson over; everything it started is stopped"
}

# ---------------------------------------------------------------------------
# The lesson, in the control pane

load_state() {
    state=$1
    # the launcher wrote it: chapter, dir, steps, socket, session, auto, delay, hold, trace_flag, bin, redis_port
    # shellcheck source=/dev/null
    . "$state/env"
    delay=${delay:-2}
    hold=${hold:-$delay}
    redis_port=${redis_port-}
    port='' producer_port='' pid=''
}

pane_id() { awk -v n="$1" '$1 == n { print $2 }' "$state/panes"; }
pane_pid() { awk -v n="$1" '$1 == n { print $3 }' "$state/panes"; }

# fill TEXT: the placeholders replaced by this lesson's values
fill() {
    local s=$1
    if [ -z "$trace_flag" ]; then s=${s// \{trace\}/}; fi
    s=${s//\{trace\}/$trace_flag}
    s=${s//\{bin\}/$bin}
    s=${s//\{port\}/$port}
    s=${s//\{producer_port\}/$producer_port}
    s=${s//\{pid\}/$pid}
    s=${s//\{redis_port\}/$redis_port}
    s=${s//\{log\}/${state#"$root"/}/trace.log}
    s=${s//\{conf\}/${state#"$root"/}/greeting.conf}
    printf '%s\n' "$s"
}

# type_into PANE COMMAND: type it there, as a person would
type_into() {
    local target
    target=$(pane_id "$1")
    if [ "${2#keys:}" != "$2" ]; then
        # shellcheck disable=SC2086  # key names, split on purpose
        tm send-keys -t "$target" ${2#keys:}
    else
        tm send-keys -t "$target" -l "$2"
        tm send-keys -t "$target" Enter
    fi
}

# wait_listening_in PANE COUNT_BEFORE: wait (up to 20 s) for one more
# "listening on 127.0.0.1:PORT" line in the pane; set port, producer_port and
# pid (the process the pane's shell runs in the foreground)
wait_listening_in() {
    local target text n deadline=$((SECONDS + 20))
    target=$(pane_id "$1")
    while :; do
        text=$(tm capture-pane -p -J -S - -t "$target")
        n=$(grep -c 'listening on 127\.0\.0\.1:[0-9]' <<<"$text")
        [ "$n" -gt "$2" ] && break
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.1
    done
    port=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' <<<"$text" | tail -n 1 | sed 's/.*://')
    producer_port=$(grep -o 'producers connect to 127\.0\.0\.1:[0-9]*' <<<"$text" | tail -n 1 | sed 's/.*://')
    pid=$(ps -o pid= --ppid "$(pane_pid "$1")" | tail -n 1 | tr -d ' ')
    echo "$pid $port" >>"$state/servers"
}

# wait_idle PANE SECONDS: until the pane's shell runs nothing in the foreground
wait_idle() {
    local deadline=$((SECONDS + $2))
    while [ -n "$(ps -o pid= --ppid "$(pane_pid "$1")")" ] && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 0.2
    done
}

listening_lines() {
    tm capture-pane -p -J -S - -t "$(pane_id "$1")" | grep -c 'listening on 127\.0\.0\.1:[0-9]'
}

# settle_panes QUIET MAX: until the server's and clients' screens have not
# changed for QUIET seconds (a fraction allowed), at most MAX seconds. Not the
# trace pane: a server with a timer adds lines to it all the time.
settle_panes() {
    local quiet_us ids=() p now last='' since=${EPOCHREALTIME/./} deadline=$((SECONDS + $2))
    quiet_us=$(awk -v q="$1" 'BEGIN { printf "%d", q * 1000000 }')
    for p in server client client2; do ids+=("$(pane_id "$p")"); done
    while [ "$SECONDS" -lt "$deadline" ]; do
        now=$(for p in "${ids[@]}"; do tm capture-pane -p -J -t "$p"; done)
        if [ "$now" != "$last" ]; then
            last=$now since=${EPOCHREALTIME/./}
        elif [ $((${EPOCHREALTIME/./} - since)) -ge "$quiet_us" ]; then
            return 0
        fi
        sleep 0.1
    done
}

# pause: DEMO_AUTO sleeps (or waits for quiet panes: DEMO_SETTLE), otherwise
# Enter goes on and q ends the lesson
pause() {
    local answer
    if [ -n "$auto" ]; then
        if [ -n "$settle" ]; then settle_panes "$delay" 10; else sleep "$delay"; fi
        return 0
    fi
    read -r answer || return 1
    [ "$answer" != q ]
}

end_lesson() {
    trap - INT TERM HUP
    tm kill-session -t "$session" 2>/dev/null
    exit 0
}

lesson() {
    load_state "$1"
    local i n cmd say before width p running=() bold='' plain=''
    if [ -t 1 ]; then bold=$(tput bold 2>/dev/null) plain=$(tput sgr0 2>/dev/null); fi
    width=$(tm display-message -p -t "${TMUX_PANE-}" '#{pane_width}' 2>/dev/null) || width=100
    trap end_lesson INT TERM HUP
    read_steps "$steps" || { sleep 10; end_lesson; }
    n=${#step_cmd[@]}
    type_into trace "tail -n +1 -F $(fill '{log}')"
    for ((i = 0; i < n; i++)); do
        cmd=$(fill "${step_cmd[i]}")
        say=$(fill "${step_say[i]}")
        printf '\n%sStep %d/%d — %s pane:%s %s\n%s\n' "$bold" $((i + 1)) "$n" "${step_pane[i]}" "$plain" \
            "${cmd#keys:}" "$say" | fold -s -w "$width"
        if [ -n "$settle" ]; then printf '(next when the panes are quiet for %s s)' "$delay"
        elif [ -n "$auto" ]; then printf '(next in %s s)' "$delay"; else printf '[Enter] type it   [q] end the lesson '; fi
        if [ -n "$auto" ]; then
            # the earlier steps' commands that were not meant to run on (no &) end first
            for p in "${running[@]}"; do wait_idle "$p" 30; done
            running=()
        fi
        pause || end_lesson
        [ "${step_pane[i]}" = server ] || [ "${step_bg[i]}" = 1 ] || running+=("${step_pane[i]}")
        before=$(listening_lines "${step_pane[i]}")
        # a server is typed at a prompt: let the pane's previous program end first
        [[ $cmd == *"--port 0"* ]] && wait_idle "${step_pane[i]}" 60
        type_into "${step_pane[i]}" "$cmd"
        if [[ $cmd == *"--port 0"* ]] && ! wait_listening_in "${step_pane[i]}" "$before"; then
            printf '\n%s: no "listening on" line in the %s pane after 20 s; the lesson stops here\n' \
                "$prog" "${step_pane[i]}"
            auto=1 delay=10 pause
            end_lesson
        fi
    done
    printf '\n%sThat was the lesson.%s ' "$bold" "$plain"
    if [ -n "$auto" ]; then
        # let the last commands finish (a transfer, a drain) before it all goes
        wait_idle client 10
        wait_idle client2 10
        printf '(ending in %s s)' "$hold"
    else printf '[Enter] stop everything and end the session '; fi
    if [ -n "$auto" ]; then sleep "$hold"; else pause; fi
    end_lesson
}

# ---------------------------------------------------------------------------
# The watchdog: waits for the session to end, then stops everything

# kill_all SIGNAL PID...: send SIGNAL to those still running
kill_all() {
    local sig=$1
    shift
    for p in "$@"; do kill "-$sig" "$p" 2>/dev/null; done
}

# left_in_panes: pids of processes still running in the panes' sessions (by session id)
left_in_panes() {
    local sids
    sids=$(awk '{ printf "%s ", $3 }' "$state/panes")
    ps -eo pid=,sid= | awk -v sids=" $sids" -v me="$$" \
        '$2 != 0 && index(sids, " " $2 " ") && $1 != me { print $1 }'
}

watch() {
    load_state "$1"
    local deadline left redis=''
    [ -f "$state/redis.pid" ] && redis=$(cat "$state/redis.pid")
    while tm has-session -t "$session" 2>/dev/null; do sleep 0.3; done
    # shellcheck disable=SC2046  # lists of pids
    {
        kill_all TERM $(left_in_panes)
        deadline=$((SECONDS + 3))
        while left=$(left_in_panes) && [ -n "$left" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
        kill_all KILL $(left_in_panes)
    }
    if [ -n "$redis" ]; then
        kill "$redis" 2>/dev/null
        deadline=$((SECONDS + 5))
        while kill -0 "$redis" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
        kill -KILL "$redis" 2>/dev/null
    fi
    cleanup
}

# cleanup: the lesson's files (and build/demo/ when it is empty)
cleanup() {
    [ -n "${state-}" ] || return 0
    if [ -z "${watching-}" ]; then
        # the launcher failed half-way: undo what it did
        [ -n "${created-}" ] && tm kill-session -t "$session" 2>/dev/null
        [ -f "$state/redis.pid" ] && kill "$(cat "$state/redis.pid")" 2>/dev/null
    fi
    rm -rf "$state"
    rmdir "$root/build/demo" 2>/dev/null
    return 0
}

case ${1-} in
    --check)
        [ $# -eq 2 ] || die "usage: $0 --check FILE" 2
        read_steps "$2" || exit 1
        echo "${#step_cmd[@]} steps"
        ;;
    --lesson) lesson "$2" ;;
    --watch) watching=1 watch "$2" ;;
    [0-9]*) launch "$1" ;;
    *) die "usage: $0 N (chapter number) | --check FILE" 2 ;;
esac
