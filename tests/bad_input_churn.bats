#!/usr/bin/env bats
# tests/bad_input_churn.bats — every server against connection churn: 1,000
# connect/close cycles leak no descriptor.
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

@test "listener: 1,000 connect/close cycles leak no descriptor" { case_churn listener; }
@test "idle_server: 1,000 connect/close cycles leak no descriptor" { case_churn idle_server; }
@test "signals: 1,000 connect/close cycles leak no descriptor" { case_churn signals; }
@test "signals_raw: 1,000 connect/close cycles leak no descriptor" { case_churn signals_raw; }
@test "read_watermarks: 1,000 connect/close cycles leak no descriptor" { case_churn read_watermarks; }
@test "relay: 1,000 connect/close cycles leak no descriptor" { case_churn relay; }
@test "threaded_echo: 1,000 connect/close cycles leak no descriptor" { case_churn threaded_echo; }
@test "reuseport_echo: 1,000 connect/close cycles leak no descriptor" { case_churn reuseport_echo; }
@test "offload: 1,000 connect/close cycles leak no descriptor" { case_churn offload; }
