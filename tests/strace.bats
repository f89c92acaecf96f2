#!/usr/bin/env bats
# tests/strace.bats — make strace-chapter1 / strace-chapter6: the servers under
# strace, their system calls annotated with the loop's three steps.

load helpers

setup() {
    command -v strace >/dev/null || skip "strace is not installed (Debian: apt-get install strace)"
    strace -o /dev/null true 2>/dev/null || skip "strace cannot trace here (ptrace not permitted)"
    cd "$WORKBOOK_ROOT" || return 1
}

# line_of REGEX: the number of the first line of $output matching REGEX (fails if none)
line_of() {
    local n
    n=$(grep -nE -- "$1" <<<"$output" | head -n 1 | cut -d: -f1)
    [ -n "$n" ] || { echo "no line matches /$1/ in:" >&2; echo "$output" >&2; return 1; }
    echo "$n"
}

# normalize: a trace line without what differs from run to run: the ms
# column, ports, and what one epoll_wait reported (whether the client's bytes
# arrived in the same turn of the loop as the connection is a matter of timing)
normalize() {
    sed -E 's/^ +[0-9]+\.[0-9]  //; s/(127\.0\.0\.1:|port )[0-9]+/\1N/g; s/^(detect +epoll_wait).*/\1/'
}

# assert_doc_excerpt PAGE: the page's spoiler block (after "*Spoiler") is, line
# by line and in order, in $output — the page quotes a real run
assert_doc_excerpt() {
    local want got
    want=$(awk '/^\*Spoiler/ { s = 1; next } s && /^```/ { if (in_block) exit; in_block = 1; next }
                in_block' "docs/$1" | grep -v '^ *ms  step' | normalize)
    [ "$(wc -l <<<"$want")" -ge 10 ] || fail "no spoiler block in docs/$1"
    got=$(grep -E '^ +[0-9]+\.[0-9]  [a-z]' <<<"$output" | normalize)
    assert_in_order "$want" "$got" "docs/$1"
}

@test "strace-chapter1: for the accepted fd, register before detect before dispatch; accept4 is dispatch" {
    run make -s strace-chapter1 3>&-
    assert_success
    # nc really got the greeting and its echo
    assert_output --partial "nc got: hello from the chapter 1 listener"
    assert_output --partial "nc got: hi there"
    local accept fd reg det disp
    accept=$(line_of '^ +[0-9.]+  dispatch  accept4 listening socket -> client [0-9]+ ')
    fd=$(sed -n "${accept}p" <<<"$output" | sed 's/.*-> client \([0-9]*\) .*/\1/')
    reg=$(line_of "^ +[0-9.]+  register  epoll_ctl ADD client $fd:")
    det=$(line_of "^ +[0-9.]+  detect    epoll_wait .* ready: .*client $fd (readable|writable)")
    disp=$(line_of "^ +[0-9.]+  dispatch  (read|write) client $fd -> [1-9]")
    [ "$accept" -lt "$reg" ] && [ "$reg" -lt "$det" ] && [ "$det" -lt "$disp" ] ||
        fail "order: accept4 $accept, register $reg, detect $det, dispatch $disp"
    # the listening socket is registered before the first wait, and the echo is byte-exact
    [ "$(line_of 'register  epoll_ctl ADD listening socket')" -lt "$(line_of '  detect  ')" ]
    assert_output --regexp "dispatch  read client $fd -> 9 bytes \"hi there\\\\n\""
    assert_output --regexp "dispatch  write client $fd -> 9 bytes \"hi there\\\\n\""
    # nothing but the one server: no port, no process left (the raw trace is kept)
    [ -s build/strace-chapter1.txt ]
    assert_doc_excerpt 01-listener.md
    # strace 6.1 (Debian 12) prints an epoll event's data as {u32=N, u64=N}, newer ones
    # (Debian 13) as a number: the same trace written the other way reads the same
    if grep -q 'data={u32=' build/strace-chapter1.txt; then
        sed -E 's/data=\{u32=([0-9]+), u64=[0-9]+\}/data=\1/g'
    else
        sed -E 's/data=(0x[0-9a-f]+|[0-9]+)\}/data={u32=\1, u64=\1}}/g' | /usr/bin/python3 -c '
import re, sys
sys.stdout.write(re.sub(r"u(32|64)=0x([0-9a-f]+)", lambda m: "u%s=%d" % (m.group(1), int(m.group(2), 16)), sys.stdin.read()))'
    fi <build/strace-chapter1.txt >"$BATS_TEST_TMPDIR/other.txt"
    run cmp -s build/strace-chapter1.txt "$BATS_TEST_TMPDIR/other.txt"
    assert_failure # it was rewritten
    diff <(/usr/bin/python3 scripts/classroom/strace-annotate.py build/strace-chapter1.txt) \
        <(/usr/bin/python3 scripts/classroom/strace-annotate.py "$BATS_TEST_TMPDIR/other.txt")
}

@test "strace-chapter6: the relay's connection to Redis is named, and its private Redis is stopped" {
    run make -s strace-chapter6 3>&-
    assert_success
    assert_output --regexp "get workbook:strace +->  hello"
    local redis_port
    redis_port=$(sed -n 's/.*--redis-port \([0-9]*\) (a private Redis).*/\1/p' <<<"$output")
    [ -n "$redis_port" ]
    assert_output --regexp "dispatch  connect redis [0-9]+ to port $redis_port: in progress"
    assert_output --regexp "dispatch  write redis [0-9]+ -> [0-9]+ bytes \"\\*2"
    assert_output --regexp "dispatch  read redis [0-9]+ -> 11 bytes \"\\\$5"
    port_is_free "$redis_port" || fail "the private Redis on $redis_port still runs"
    assert_doc_excerpt 06-redis-relay.md
}

@test "strace-annotate.py: no epoll_create1 in the trace is an error, a missing file too" {
    printf '123 10:00:00.000001 read(3, "x", 1) = 1 <0.000010>\n' >"$BATS_TEST_TMPDIR/t.txt"
    run /usr/bin/python3 scripts/classroom/strace-annotate.py "$BATS_TEST_TMPDIR/t.txt"
    assert_failure 1
    assert_output --partial "no epoll_create1"
    run /usr/bin/python3 scripts/classroom/strace-annotate.py "$BATS_TEST_TMPDIR/none.txt"
    assert_failure 1
    assert_output --partial "cannot read"
    run /usr/bin/python3 scripts/classroom/strace-annotate.py
    assert_failure 2
}
