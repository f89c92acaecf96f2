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
# Ctrl-C ends `make chapterN` quietly with exit status 0. Chapter 2's page and
# `make redis` are in tests/walkthrough_redis.bats (files run in parallel);
# the shared helpers are in tests/walkthrough.bash.

load helpers
load walkthrough

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

@test "every transcript marker in docs/01-05 is checked by a test in tests/walkthrough*.bats" {
    n=0
    while read -r name; do
        n=$((n + 1))
        cat "$BATS_TEST_DIRNAME"/walkthrough*.bats |
            grep -qE "(assert_transcript|doc_block) [0-9a-z-]+\.md $name\b" ||
            fail "transcript '$name' has no test"
    done < <(sed -nE 's/^<!-- transcript: ([a-z0-9-]+)( excerpt)? -->$/\1/p' "$DOCS"/0[1-5]-*.md)
    [ "$n" -ge 6 ]
}

# svg_shape FILE: the SVG without graphviz's version comment and with every number
# replaced by N
svg_shape() { grep -v '^<!-- Generated by' "$1" | sed -E 's/-?[0-9]+(\.[0-9]+)?/N/g'; }

@test "the pictures: every docs/img/*.svg drawn from a .dot is what make pictures draws now" {
    command -v dot >/dev/null || skip "graphviz (dot) is not installed"
    n=0
    for src in "$DOCS"/img/*.dot; do
        n=$((n + 1))
        svg=${src%.dot}.svg
        [ -f "$svg" ] || fail "$svg is missing: run make pictures"
        dot -Tsvg -o "$BATS_TEST_TMPDIR/new.svg" "$src"
        # the version comment differs between graphviz versions, and the coordinates
        # between machines (a Chinese font or none moves "检测" by a few points):
        # compare what is drawn — shapes, labels, order — not where
        diff <(svg_shape "$svg") <(svg_shape "$BATS_TEST_TMPDIR/new.svg") >/dev/null ||
            fail "$svg is stale: run make pictures and commit it"
    done
    [ "$n" -ge 5 ]
}

@test "each picture is shown by a page" {
    for svg in "$DOCS"/img/*.svg; do
        # a lesson's timeline is put on its chapter page by the site (tests/casts.bats checks it)
        [[ $svg == *-timeline.svg ]] && continue
        grep -qF "(img/$(basename "$svg"))" "$DOCS"/*.md || fail "$(basename "$svg") is not shown by any page"
    done
}
