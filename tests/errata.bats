#!/usr/bin/env bats
# tests/errata.bats — docs/errata.md tells the truth: its compiler messages are
# the compiler's, its diffs are the real diffs, its line references point at
# the fixes; and the notes' two programs, minimally fixed, do what the note
# said they would.

load helpers

ERRATA="$WORKBOOK_ROOT/docs/errata.md"

setup_file() {
    # one run of `make errata` for the file: the compiler's real messages
    make -s -C "$WORKBOOK_ROOT" errata >"$BATS_FILE_TMPDIR/errata.out" 2>&1
}

setup() {
    LISTENFD=$(bin 01_listener/ev_listenfd)
    CONNECTFD=$(bin 02_redis_client/ev_connectfd)
}

# quoted_messages FILE: every compiler line quoted in FILE's plain ``` blocks
quoted_messages() {
    awk '/^```/ { if (inside) inside = 0; else { inside = 1; plain = ($0 == "```") }; next }
         inside && plain && /(error|warning): |undefined reference/' "$1"
}

@test "the originals in docs/notes/ are the note's programs, untouched" {
    # the sums of the two ```cpp blocks of the note (../shared/notes/libevent-notes.md)
    run sha256sum "$WORKBOOK_ROOT/docs/notes/ev_listenfd.orig.c" "$WORKBOOK_ROOT/docs/notes/ev_connectfd.orig.c"
    assert_line --partial "62ce9623ee8d2da65bc04406558f856580240597e217478fad7a2ea12bddac2e"
    assert_line --partial "8c7afe303495f25b7cdb4dc3c721eb8d2b3ff2f7055748858a6ede21f9472d9e"
}

@test "make errata: the originals fail to compile, the fixed programs compile" {
    out="$BATS_FILE_TMPDIR/errata.out"
    [ "$(grep -c '^-> failed' "$out")" -eq 6 ]
    [ "$(grep -c '^-> compiled' "$out")" -eq 2 ]
}

@test "every compiler message quoted in errata.md and chapters 1-2 appears in make errata's output" {
    # the pages quote GCC 12 (Debian 12); GCC 14 words some of them differently
    [ "$(cc -dumpversion | cut -d. -f1)" = 12 ] || skip "the quotes are GCC 12's; this is $(cc --version | head -n 1)"
    out="$BATS_FILE_TMPDIR/errata.out"
    n=0
    for doc in "$ERRATA" "$WORKBOOK_ROOT/docs/01-listener.md" "$WORKBOOK_ROOT/docs/02-redis-client.md"; do
        while IFS= read -r line; do
            n=$((n + 1))
            # the linker's object file name is a temp name: compare from the function on
            want=${line#*.o: }
            grep -qF -- "$want" "$out" || fail "$(basename "$doc") quotes a message make errata does not print: $line"
        done < <(quoted_messages "$doc")
    done
    echo "# $n quoted messages checked" >&3
    [ "$n" -ge 12 ]
}

@test "the diffs shown in errata.md are the real diffs (scripts/docs/errata.sh diff)" {
    for name in ev_listenfd ev_connectfd; do
        shown=$(awk -v m="<!-- diff: $name -->" '$0 == m { on = 1; next }
            on && /^```diff$/ { inside = 1; next } inside && /^```$/ { exit } inside' "$ERRATA")
        [ -n "$shown" ] || fail "no diff block for $name in errata.md"
        real=$(cd "$WORKBOOK_ROOT" && scripts/docs/errata.sh diff | awk -v f="$name.orig.c" '
            /^--- / { on = index($0, f) > 0 } on')
        [ "$shown" = "$real" ] || fail "errata.md's diff for $name is stale: run make errata-diff UPDATE=1"
    done
}

@test "errata.md's line references (ev_*.c:N) point at a fix: comment" {
    n=0
    while read -r ref; do
        n=$((n + 1))
        file=${ref%%:*} line=${ref##*:}
        case $file in
            ev_listenfd.c) path=01_listener/$file ;;
            ev_connectfd.c) path=02_redis_client/$file ;;
        esac
        text=$(sed -n "${line}p" "$WORKBOOK_ROOT/$path")
        [[ $text == *"fix:"* ]] || fail "$ref is not a fix: line: $text"
    done < <(grep -oE '`ev_(listen|connect)fd\.c:[0-9]+`' "$ERRATA" | tr -d '`' | sort -u)
    [ "$n" -ge 15 ]
}

# LINE_BUFFERED CMD...: CMD with its stdout line-buffered (the notes' program
# printf()s to a file, which would hold its lines back). stdbuf preloads a
# library, which AddressSanitizer refuses to run behind unless told.
LINE_BUFFERED=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" stdbuf -oL)

@test "ev_listenfd: prints 'recv a connection' and closes each connection; no fd leak" {
    port=$(free_port)
    start_bg listenfd "${LINE_BUFFERED[@]}" "$LISTENFD" "$port"
    wait_listening "$port"
    run nc -N 127.0.0.1 "$port" </dev/null
    assert_success
    wait_for_line "$BG_OUT" '^recv a connection$'
    before=$(fd_count "$BG_PID")
    # 200 more, from this shell (no process per connection): each connects, and
    # reading gives end-of-stream (read's status 1; a timeout would be > 128):
    # the server closed it
    for i in $(seq 200); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$port" || fail "connect $i failed"
        rc=0
        read -r -t 10 -u "$fd" _ || rc=$?
        exec {fd}>&-
        [ "$rc" -eq 1 ] || fail "connection $i: not closed by the server (read status $rc)"
    done
    deadline=$((SECONDS + 30))
    while [ "$(count_lines "$BG_OUT" '^recv a connection$')" -lt 201 ] && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 0.05
    done
    [ "$(count_lines "$BG_OUT" '^recv a connection$')" -eq 201 ]
    [ "$(fd_count "$BG_PID")" -le "$before" ]
}

@test "ev_listenfd: telnet connects, the server prints the notes' line and hangs up" {
    port=$(free_port)
    start_bg listenfd "${LINE_BUFFERED[@]}" "$LISTENFD" "$port"
    wait_listening "$port"
    run run_tagged expect -c "set timeout 5
        spawn telnet 127.0.0.1 $port
        expect {
            {Connection closed by foreign host} { exit 0 }
            timeout { exit 1 }
        }"
    assert_success
    wait_for_line "$BG_OUT" '^recv a connection$'
}

@test "ev_listenfd: a taken port is reported and exits 1; Ctrl-C (SIGINT) ends it with 0" {
    port=$(free_port)
    start_bg listenfd "$LISTENFD" "$port"
    pid=$BG_PID
    wait_listening "$port"
    run "$LISTENFD" "$port"
    assert_failure 1
    assert_output "ev_listenfd: cannot listen on 127.0.0.1:$port: Address already in use"
    kill -INT "$pid"
    wait_exit "$pid" 5
    [ "$EXIT_STATUS" -eq 0 ]
}

@test "ev_connectfd: PING against a private Redis prints the notes' lines and exits 0" {
    start_redis
    run "$CONNECTFD" "$REDIS_PORT"
    assert_success
    assert_output "$(printf 'connect redis success\nrecv redis message +PONG')"
}

@test "ev_connectfd: a refused connection is reported with its cause, exit 1" {
    port=$(free_port)
    run "$CONNECTFD" "$port"
    assert_failure 1
    assert_output "ev_connectfd: connection error: Connection refused"
}

@test "ev_connectfd: a server that hangs up is reported as closed, not as a connect error" {
    port=$(free_port)
    # a stand-in for a Redis that closes the connection: it reads the PING, then closes
    start_bg hangup perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0],
                                      Listen => 1, ReuseAddr => 1) or die "listen: $!";
        my $c = $s->accept; my $got = "";
        while (length($got) < 14 && sysread($c, my $b, 14)) { $got .= $b }
        close $c;' "$port"
    wait_listening "$port"
    run "$CONNECTFD" "$port"
    assert_failure 1
    assert_line "connect redis success"
    assert_line "ev_connectfd: redis closed the connection"
}
