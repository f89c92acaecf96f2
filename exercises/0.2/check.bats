#!/usr/bin/env bats
# exercises/0.2/check.bats — echo_libevent prints, when a client leaves,
# "client echoed N line(s), M in total": its own lines and every client's.

load ../../tests/helpers
load ../helpers

@test "each client that leaves: 'client echoed N line(s), M in total', exact" {
    start_server echo_libevent "$(bin 00_why_event_loop/echo_libevent)" --port 0
    run nc -N 127.0.0.1 "$PORT" < <(printf 'one\ntwo\n')
    assert_success
    wait_count "$SERVER_OUT" '^client echoed' 1
    run nc -N 127.0.0.1 "$PORT" < <(printf 'a\nb\nc\n')
    assert_success
    wait_count "$SERVER_OUT" '^client echoed' 2
    # one line in two writes, then an unterminated tail: still one line
    exec {c}<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'spl' >&"$c"
    printf 'it\ntail' >&"$c"
    read -r -t 5 -u "$c" line || fail "no echo of the split line"
    assert_equal "$line" "split"
    exec {c}<&-
    wait_count "$SERVER_OUT" '^client echoed' 3
    assert_equal "$(grep '^client echoed' "$SERVER_OUT")" "$(printf '%s\n' \
        'client echoed 2 lines, 2 in total' \
        'client echoed 3 lines, 5 in total' \
        'client echoed 1 line, 6 in total')"
}

@test "two clients at once: the total counts both" {
    start_server echo_libevent "$(bin 00_why_event_loop/echo_libevent)" --port 0
    exec {a}<>"/dev/tcp/127.0.0.1/$PORT"
    exec {b}<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'a1\n' >&"$a"
    printf 'b1\nb2\n' >&"$b"
    printf 'a2\n' >&"$a"
    for fd in "$a" "$a" "$b" "$b"; do read -r -t 5 -u "$fd" _ || fail "an echo is missing"; done
    exec {b}<&-
    wait_count "$SERVER_OUT" '^client echoed' 1
    exec {a}<&-
    wait_count "$SERVER_OUT" '^client echoed' 2
    assert_equal "$(grep '^client echoed' "$SERVER_OUT")" "$(printf '%s\n' \
        'client echoed 2 lines, 4 in total' \
        'client echoed 2 lines, 4 in total')"
}
