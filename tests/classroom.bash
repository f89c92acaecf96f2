# shellcheck shell=bash disable=SC2034,SC2154  # loaded by bats: reads its $status/$output, sets variables for the tests
# tests/classroom.bash — what the classroom tests share: a lesson played in a
# detached tmux session on a tmux server of the test's own (tmux -L), its panes
# read with capture-pane, and the check that it left nothing behind.

setup() {
    command -v tmux >/dev/null || skip "tmux is not installed (Debian: apt-get install tmux)"
    cd "$WORKBOOK_ROOT" || return 1
    SOCK=wbtest-classroom-$$-$BATS_TEST_NUMBER
}

teardown() {
    # a failed test: end its session; the lesson's watchdog then stops the rest
    tmux -L "$SOCK" kill-server 2>/dev/null || true
    [ -z "${STATE-}" ] || wait_gone_dir "$STATE" 15 || true
    stop_test_processes
}

# start_lesson N [PACE [HOLD]]: make demoN, detached, playing by itself, the
# last screen staying HOLD seconds. PACE "quiet" (the default): each step as
# soon as no pane has changed for 0.3 s (DEMO_SETTLE) — as fast as the
# commands go, never overtaking one; a number: that many seconds a step, for a
# lesson whose point is a clock (demo3's idle timeout). Sets STATE (the
# lesson's files, named on make's output).
start_lesson() {
    local pace=(DEMO_SETTLE=1 DEMO_DELAY=0.3)
    [ "${2:-quiet}" = quiet ] || pace=(DEMO_DELAY="$2")
    run make -s "demo$1" DEMO_DETACHED=1 DEMO_AUTO=1 "${pace[@]}" DEMO_HOLD="${3:-}" \
        DEMO_SOCKET="$SOCK" 3>&-
    assert_success
    assert_output --partial "runs in tmux -L $SOCK"
    STATE=$(sed -n 's/.*; files in //p' <<<"$output")
    LESSON=$1
    [ -d "$STATE" ]
}

# pane_text NAME: what the pane shows, history included
pane_text() {
    local id
    id=$(awk -v n="$1" '$1 == n { print $2 }' "$STATE/panes")
    tmux -L "$SOCK" capture-pane -p -J -S - -t "$id"
}

# wait_pane NAME REGEX [SECONDS=40]: until the pane shows a line matching REGEX
wait_pane() { wait_pane_lines "$1" "$2" 1 "${3:-40}"; }

# wait_pane_lines NAME REGEX COUNT [SECONDS=40]: until the pane shows at least
# COUNT lines matching REGEX; fails at once if the lesson has ended
wait_pane_lines() {
    local deadline=$((SECONDS + ${4:-40})) text
    while :; do
        text=$(pane_text "$1" 2>/dev/null) ||
            fail "the lesson ended before pane $1 showed $3 line(s) matching /$2/"
        [ "$(grep -cE -- "$2" <<<"$text")" -lt "$3" ] || return 0
        [ "$SECONDS" -lt "$deadline" ] ||
            fail "$(printf 'pane %s never showed %s line(s) matching /%s/; it shows:\n%s' "$1" "$3" "$2" "$text")"
        sleep 0.1
    done
}

# played_to_the_end: every step has been typed (the control pane says so, and
# the lesson holds its last screen: start_lesson N DELAY HOLD), then the session
# is ended as an instructor would, which stops everything the lesson started
played_to_the_end() {
    wait_pane control '^That was the lesson\.' 120
    tmux -L "$SOCK" kill-session -t "workbook-ch$LESSON"
}

# lesson_servers COUNT: the "pid port" lines of the servers the lesson started
# (servers with --port 0), checked to be COUNT, and the pid of its private
# Redis if it has one; call it before the lesson ends (its files go then)
lesson_servers() {
    SERVERS='' LESSON_REDIS_PID=''
    [ ! -f "$STATE/redis.pid" ] || LESSON_REDIS_PID=$(cat "$STATE/redis.pid")
    [ "$1" -gt 0 ] || return 0
    local deadline=$((SECONDS + 40))
    until [ "$(grep -cE '^[0-9]+ [0-9]+$' "$STATE/servers" 2>/dev/null)" -ge "$1" ]; do
        [ "$SECONDS" -lt "$deadline" ] || fail "the lesson did not start $1 servers in 40 s"
        sleep 0.1
    done
    SERVERS=$(grep -E '^[0-9]+ [0-9]+$' "$STATE/servers")
    [ "$(wc -l <<<"$SERVERS")" -eq "$1" ] || fail "expected $1 servers, the lesson started: $SERVERS"
}

# assert_all_cleaned_up: after the lesson, every server of lesson_servers, its
# port, its Redis, the lesson's files and its tmux server are gone
assert_all_cleaned_up() {
    local pid port
    wait_gone_dir "$STATE" 20 || fail "the lesson's files are still in $STATE"
    while read -r pid port; do
        [ -n "$pid" ] || continue # a lesson without servers of its own
        ! kill -0 "$pid" 2>/dev/null || fail "server pid $pid still runs"
        port_is_free "$port" || fail "port $port still accepts connections"
    done <<<"$SERVERS"
    [ -z "$LESSON_REDIS_PID" ] || wait_gone_pid "$LESSON_REDIS_PID" 5 ||
        fail "the private Redis (pid $LESSON_REDIS_PID) still runs"
    run tmux -L "$SOCK" list-sessions
    assert_failure
}
