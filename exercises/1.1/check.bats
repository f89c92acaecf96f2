#!/usr/bin/env bats
# exercises/1.1/check.bats — the listener prints "N connections open" after
# every connect and every close.

load ../../tests/helpers
load ../helpers

@test "after every connect and close: 'N connection(s) open', exact" {
    start_server listener "$(bin 01_listener/listener)" --port 0
    exec {a}<>"/dev/tcp/127.0.0.1/$PORT"
    wait_count "$SERVER_OUT" 'connections? open$' 1
    exec {b}<>"/dev/tcp/127.0.0.1/$PORT"
    wait_count "$SERVER_OUT" 'connections? open$' 2
    exec {a}<&-
    wait_count "$SERVER_OUT" 'connections? open$' 3
    exec {b}<&-
    wait_count "$SERVER_OUT" 'connections? open$' 4
    assert_equal "$(grep -E 'connections? open$' "$SERVER_OUT")" \
        "$(printf '1 connection open\n2 connections open\n1 connection open\n0 connections open')"
}
