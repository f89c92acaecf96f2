#!/usr/bin/env bats
# tests/bad_input_silent.bats — every server with 50 clients that connect and
# never send: they do not slow down the others.
#
# The servers and how to probe each are listed once, in tests/servers.bash; the
# behaviours (case_* functions taking a server's name) are in tests/bad_input.bash.
# Each @test runs one behaviour against one server, so a failure names both.
# One file per kind of bad input (tests/bad_input*.bats); tests/bad_input.bats
# checks that no server misses a behaviour.

load helpers
load bad_input

setup_file() {
    start_redis
}

@test "listener: clients that connect and never send do not slow down the others" { case_silent_clients listener; }
@test "idle_server: clients that connect and never send do not slow down the others" { case_silent_clients idle_server; }
@test "signals: clients that connect and never send do not slow down the others" { case_silent_clients signals; }
@test "signals_raw: clients that connect and never send do not slow down the others" { case_silent_clients signals_raw; }
@test "read_watermarks: clients that connect and never send do not slow down the others" { case_silent_clients read_watermarks; }
@test "relay: clients that connect and never send do not slow down the others" { case_silent_clients relay; }
@test "threaded_echo: clients that connect and never send do not slow down the others" { case_silent_clients threaded_echo; }
@test "reuseport_echo: clients that connect and never send do not slow down the others" { case_silent_clients reuseport_echo; }
@test "offload: clients that connect and never send do not slow down the others" { case_silent_clients offload; }
