#!/usr/bin/env bats
# exercises/0.3/check.bats — a client sends echo_libevent 10,000 bytes with no
# newline. How many bytes come back before the client closes its sending side,
# and how many in all? The check measures both and compares with answer.txt.

load ../../tests/helpers
load ../helpers

@test "answer.txt matches the bytes echo_libevent really sends back" {
    before=$(answer before-close)
    after=$(answer after-close)
    start_server echo_libevent "$(bin 00_why_event_loop/echo_libevent)" --port 0
    run /usr/bin/python3 "$BATS_TEST_DIRNAME/long_line.py" "$PORT" 10000
    assert_success
    echo "# really: ${lines[*]}" >&3
    assert_line --index 0 --regexp '^before-close: [0-9]+$'
    [ "before-close: $before" = "${lines[0]}" ] ||
        fail "you predicted before-close: $before; really: ${lines[0]}"
    [ "after-close: $after" = "${lines[1]}" ] ||
        fail "you predicted after-close: $after; really: ${lines[1]}"
}
