#!/usr/bin/env bats
# tests/walkthrough.bats — the doc pages can't drift from the programs.
#
# Every "What you should see" block of docs/01-05 sits under a marker,
#   <!-- transcript: NAME -->          the block is a contiguous run of the real output
#   <!-- transcript: NAME excerpt -->  its lines appear in the real output, in order
# and each test here runs the page's sequence for real (through a terminal,
# with expect, where the page says "press Ctrl-C"), normalises what changes
# from run to run (ports, times, pids), and compares. The block is read from
# the page itself, so editing either the program or the page without the
# other fails a test. Also: the pictures match their graphviz sources, and
# Ctrl-C ends `make chapterN` quietly with exit status 0.

load helpers

DOCS="$WORKBOOK_ROOT/docs"

# make redis daemonizes its Redis: stop it even when a test failed half-way
teardown() {
    if [ -n "${WORKBOOK_REDIS_STATE-}" ] && [ -f "$WORKBOOK_REDIS_STATE/redis.pid" ]; then
        kill "$(cat "$WORKBOOK_REDIS_STATE/redis.pid")" 2>/dev/null || true
    fi
    stop_test_processes
}

# doc_block PAGE NAME: the fenced block under <!-- transcript: NAME ... -->
doc_block() {
    awk -v name="$2" '
        $0 ~ "^<!-- transcript: " name "( excerpt)? -->$" { found = 1; next }
        found && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }' "$DOCS/$1"
}

is_excerpt() { grep -qE "^<!-- transcript: $2 excerpt -->$" "$DOCS/$1"; }

# normalise: what legitimately differs between runs, made equal
normalise() {
    sed -E -e 's/\r//g' \
        -e 's/127\.0\.0\.1:[0-9]+/127.0.0.1:PORT/g' \
        -e 's/[0-9]+\.[0-9]+/T/g' \
        -e 's/\(pid [0-9]+/(pid N/g; s/kill -USR1 [0-9]+/kill -USR1 N/g; s/uptime_ms=[0-9]+/uptime_ms=N/g' \
        -e 's/[[:space:]]+/ /g; s/^ //; s/ $//' |
        grep -v '^$' || true
}

# assert_transcript PAGE NAME ACTUAL_FILE [TEST_PORT PAGE_PORT]: TEST_PORT (a
# free port the test used) is written PAGE_PORT (the page's default) first
assert_transcript() {
    local page=$1 name=$2 actual=$3 want got
    want=$(doc_block "$page" "$name" | normalise | grep -vx '…' || true)
    if [ -n "${4-}" ]; then
        got=$(sed -E "s/\b$4\b/$5/g" "$actual" | normalise)
    else
        got=$(normalise <"$actual")
    fi
    [ "$(printf '%s\n' "$want" | wc -l)" -ge 2 ] || fail "no transcript block '$name' in $page"
    if is_excerpt "$page" "$name"; then
        # every line of the block, in order, somewhere in the output
        awk 'NR == FNR { want[++n] = $0; next } i < n && $0 == want[i + 1] { i++ }
             END { if (i < n) { print "missing from the real output: " want[i + 1]; exit 1 } }' \
            <(printf '%s\n' "$want") <(printf '%s\n' "$got") ||
            fail "$page, transcript '$name' (excerpt) does not match; real output (normalised):
$got"
    else
        [[ $'\n'"$got"$'\n' == *$'\n'"$want"$'\n'* ]] ||
            fail "$page, transcript '$name' does not match; the page (normalised):
$want
real output (normalised):
$got"
    fi
}

# pty SCRIPT: run an expect script (a real terminal for make and the demo);
# its output lands in $PTY_OUT
pty() {
    PTY_OUT=$BATS_TEST_TMPDIR/pty.out
    expect -f "$1" >"$PTY_OUT" 2>&1
}

@test "chapter 1: telnet and server transcripts; Ctrl-C ends make chapter1 PORT=N quietly with 0" {
    port=$(free_port)
    dir=$BATS_TEST_TMPDIR
    cat >"$dir/telnet.exp" <<EOF
set timeout 10
spawn -noecho telnet 127.0.0.1 $port
expect "type a line and it comes back"
send "hi there\r"
expect -re "hi there\r\n.*hi there\r\n"
send "\035"
expect "telnet>"
send "quit\r"
expect eof
EOF
    cat >"$dir/make.exp" <<EOF
set timeout 20
spawn -noecho make -s --no-print-directory -C $WORKBOOK_ROOT chapter1 PORT=$port
expect "listening on"
exec expect -f $dir/telnet.exp > $dir/telnet.out
expect "closed"
send "\003"
expect eof
set r [wait]
puts "\nEXIT [lindex \$r 3]"
EOF
    pty "$dir/make.exp" || { cat "$PTY_OUT"; fail "expect failed"; }
    assert_transcript 01-listener.md chapter1-telnet "$dir/telnet.out"
    assert_transcript 01-listener.md chapter1-server "$PTY_OUT" "$port" 8080
    grep -q '^EXIT 0' "$PTY_OUT" || fail "make chapter1 did not exit 0 on Ctrl-C: $(cat "$PTY_OUT")"
    ! grep -qE 'Error|Interrupt' "$PTY_OUT" || fail "make complained: $(cat "$PTY_OUT")"
}

@test "Ctrl-C ends make chapter3, chapter4, chapter5 quietly with exit 0 too" {
    for n in 4 5; do
        port=$(free_port)
        cat >"$BATS_TEST_TMPDIR/c$n.exp" <<EOF
set timeout 20
spawn -noecho make -s --no-print-directory -C $WORKBOOK_ROOT chapter$n PORT=$port CH4_CONFIG=$BATS_TEST_TMPDIR/greeting.conf
expect "listening on 127.0.0.1:$port"
send "\003"
expect eof
set r [wait]
puts "\nEXIT [lindex \$r 3]"
EOF
        pty "$BATS_TEST_TMPDIR/c$n.exp" || { cat "$PTY_OUT"; fail "chapter$n: expect failed"; }
        grep -q '^EXIT 0' "$PTY_OUT" || fail "chapter$n: not exit 0: $(cat "$PTY_OUT")"
        ! grep -qE 'Error|Interrupt' "$PTY_OUT" || fail "chapter$n: make complained: $(cat "$PTY_OUT")"
    done
    cat >"$BATS_TEST_TMPDIR/c3.exp" <<EOF
set timeout 20
spawn -noecho make -s --no-print-directory -C $WORKBOOK_ROOT chapter3
expect "heartbeat: tick 1"
send "\003"
expect eof
set r [wait]
puts "\nEXIT [lindex \$r 3]"
EOF
    pty "$BATS_TEST_TMPDIR/c3.exp" || { cat "$PTY_OUT"; fail "chapter3: expect failed"; }
    grep -q '^EXIT 0' "$PTY_OUT" || fail "chapter3: not exit 0: $(cat "$PTY_OUT")"
}

@test "chapter 2: make redis, make chapter2 and the page's commands, as the transcript shows" {
    export WORKBOOK_REDIS_STATE=$BATS_TEST_TMPDIR/redis
    port=$(free_port)
    export WORKBOOK_REDIS_DEFAULT_PORT=$port # stands in for 6379 on a shared machine
    out=$BATS_TEST_TMPDIR/transcript
    n=0
    # run each "$ command" line of the block, the way the page writes it
    while IFS= read -r line; do
        cmd=${line#\$ }
        [ "$cmd" != "$line" ] || continue
        n=$((n + 1))
        echo "$line" >>"$out"
        real=$cmd
        case $cmd in
            make\ *) real="make -s --no-print-directory -C $WORKBOOK_ROOT ${cmd#make }" ;;
            *02_redis_client/*--port\ 6390*) ;;
            *02_redis_client/*) real=$(sed -E "s#(02_redis_client/[a-z_]+)#$WORKBOOK_BIN/\\1 --port $port#" <<<"$cmd") ;;
        esac
        (cd "$WORKBOOK_ROOT" && eval "$real") >>"$out" 2>&1 || true
    done < <(doc_block 02-redis-client.md chapter2)
    make -s -C "$WORKBOOK_ROOT" redis-stop >/dev/null 2>&1
    [ "$n" -ge 6 ]
    sed -i -E "s/\\b$port\\b/6379/g; s#$WORKBOOK_BIN/##g; s#$WORKBOOK_REDIS_STATE/#build/redis/#g" "$out"
    assert_transcript 02-redis-client.md chapter2 "$out"
}

@test "chapter 3: make chapter3's output contains the page's heartbeat excerpt" {
    run make -s --no-print-directory -C "$WORKBOOK_ROOT" chapter3 </dev/null
    assert_success
    printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out"
    assert_transcript 03-timers.md chapter3 "$BATS_TEST_TMPDIR/out"
}

@test "chapter 4: USR1, reload of the copied config, a second client, INT: the page's transcript" {
    port=$(free_port)
    dir=$BATS_TEST_TMPDIR
    conf=$dir/greeting.conf
    # client 1 stays connected until $dir/end exists; client 2 says one line and leaves
    cat >"$dir/client1.sh" <<EOF
{ printf 'one\r\ntwo\r\n'; while [ ! -e $dir/end ]; do sleep 0.05; done; } | nc 127.0.0.1 $port >$dir/c1.out
EOF
    cat >"$dir/waitfor.sh" <<'EOF'
for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && exit 0; sleep 0.05; done; exit 1
EOF
    cat >"$dir/make.exp" <<EOF
set timeout 20
spawn -noecho make -s --no-print-directory -C $WORKBOOK_ROOT chapter4 PORT=$port CH4_CONFIG=$conf
expect -re {try: kill -USR1 ([0-9]+)}
set pid \$expect_out(1,string)
exec bash $dir/client1.sh &
exec bash $dir/waitfor.sh $dir/c1.out two
exec kill -USR1 \$pid
expect "stats:"
exec sed -i {s/^greeting = .*/greeting = bonjour/} $conf
exec kill -HUP \$pid
expect "reload:"
exec sh -c "printf 'three\\\\r\\\\n' | nc -N 127.0.0.1 $port > $dir/c2.out"
exec kill -INT \$pid
expect "summary:"
exec touch $dir/end
expect eof
set r [wait]
puts "\nEXIT [lindex \$r 3]"
EOF
    pty "$dir/make.exp" || { cat "$PTY_OUT"; fail "expect failed"; }
    grep -q '^EXIT 0' "$PTY_OUT" || fail "not exit 0: $(cat "$PTY_OUT")"
    assert_transcript 04-signals.md chapter4 "$PTY_OUT" "$port" 8084
    grep -q bonjour "$dir/c2.out" || fail "client 2 did not get the new greeting: $(cat "$dir/c2.out")"
    grep -q 'server shutting down' "$dir/c1.out" || fail "client 1 got no goodbye: $(cat "$dir/c1.out")"
    # the tracked config was not touched
    run git -C "$WORKBOOK_ROOT" diff --quiet -- 04_signals/greeting.conf
    assert_success
}

@test "chapter 5: the read demo's transcript (abc twice, a consume, a close, Ctrl-C)" {
    port=$(free_port)
    dir=$BATS_TEST_TMPDIR
    cat >"$dir/client.sh" <<EOF
{ printf 'abc\r\nabc\r\n'; while [ ! -e $dir/end ]; do sleep 0.05; done; } | nc -N 127.0.0.1 $port >/dev/null
EOF
    cat >"$dir/make.exp" <<EOF
set timeout 20
spawn -noecho make -s --no-print-directory -C $WORKBOOK_ROOT chapter5 PORT=$port
expect "listening on"
exec bash $dir/client.sh &
expect "consumed"
exec touch $dir/end
expect "closed after"
send "\003"
expect eof
set r [wait]
puts "\nEXIT [lindex \$r 3]"
EOF
    pty "$dir/make.exp" || { cat "$PTY_OUT"; fail "expect failed"; }
    grep -q '^EXIT 0' "$PTY_OUT" || fail "not exit 0: $(cat "$PTY_OUT")"
    assert_transcript 05-watermarks.md chapter5 "$PTY_OUT" "$port" 8085
}

@test "every transcript marker in docs/01-05 is checked by a test in this file" {
    n=0
    while read -r name; do
        n=$((n + 1))
        grep -qE "(assert_transcript|doc_block) [0-9a-z-]+\.md $name\b" "$BATS_TEST_FILENAME" ||
            fail "transcript '$name' has no test"
    done < <(sed -nE 's/^<!-- transcript: ([a-z0-9-]+)( excerpt)? -->$/\1/p' "$DOCS"/0[1-5]-*.md)
    [ "$n" -ge 6 ]
}

@test "the pictures: every docs/img/*.svg drawn from a .dot is what make pictures draws now" {
    command -v dot >/dev/null || skip "graphviz (dot) is not installed"
    n=0
    for src in "$DOCS"/img/*.dot; do
        n=$((n + 1))
        svg=${src%.dot}.svg
        [ -f "$svg" ] || fail "$svg is missing: run make pictures"
        dot -Tsvg -o "$BATS_TEST_TMPDIR/new.svg" "$src"
        # the version comment differs between graphviz versions, not the picture
        diff <(grep -v '^<!-- Generated by' "$svg") <(grep -v '^<!-- Generated by' "$BATS_TEST_TMPDIR/new.svg") >/dev/null ||
            fail "$svg is stale: run make pictures and commit it"
    done
    [ "$n" -ge 5 ]
}

@test "each picture is shown by a page" {
    for svg in "$DOCS"/img/*.svg; do
        grep -qF "(img/$(basename "$svg"))" "$DOCS"/*.md || fail "$(basename "$svg") is not shown by any page"
    done
}

@test "make redis leaves someone else's Redis alone, starts ours on another port and says how to use it" {
    start_redis # "someone else's" Redis, on the port the test makes the default
    export WORKBOOK_REDIS_STATE=$BATS_TEST_TMPDIR/state WORKBOOK_REDIS_DEFAULT_PORT=$REDIS_PORT
    foreign=$REDIS_PORT
    unset REDIS_PORT
    run make -s --no-print-directory -C "$WORKBOOK_ROOT" redis
    assert_success
    assert_output --partial "another Redis (not ours) answers on $foreign: the demos will not write into it"
    ours=$(cat "$WORKBOOK_REDIS_STATE/port")
    [ "$ours" != "$foreign" ]
    assert_output --partial "REDIS_PORT=$ours"
    assert_output --partial "add --port $ours"
    # make chapter2 without REDIS_PORT uses ours, not the foreign one
    run make -s --no-print-directory -C "$WORKBOOK_ROOT" chapter2
    assert_success
    assert_line "== the notes' program, bugs fixed: 02_redis_client/ev_connectfd $ours"
    assert_equal "$(redis-cli -p "$foreign" dbsize)" 0
    # a second make redis finds ours running; make redis-stop stops it
    run make -s --no-print-directory -C "$WORKBOOK_ROOT" redis
    assert_output --partial "our private Redis is running on 127.0.0.1:$ours"
    pid=$(cat "$WORKBOOK_REDIS_STATE/redis.pid")
    run make -s --no-print-directory -C "$WORKBOOK_ROOT" redis-stop
    assert_success
    ! kill -0 "$pid" 2>/dev/null
    [ "$(redis-cli -p "$foreign" ping)" = PONG ]
}
