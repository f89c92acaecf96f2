#!/usr/bin/env bats
# tests/bad_input_emfile.bats — every server runs out of descriptors (ulimit -n
# 64, 100 clients): each logs it, does not spin, and serves again later.
#
# The servers and how to probe each are listed once, in tests/servers.bash; the
# behaviours (case_* functions taking a server's name) are in tests/bad_input.bash.
# Each @test runs one behaviour against one server, so a failure names both.
# One file per kind of bad input (tests/bad_input*.bats); tests/bad_input.bats
# checks that no server misses a behaviour.

load helpers
load bad_input

setup_file() {
    start_redis # for the relay
}

@test "listener: out of descriptors: logged, no spin, serving again later" { case_emfile listener; }
@test "idle_server: out of descriptors: logged, no spin, serving again later" { case_emfile idle_server; }
@test "signals: out of descriptors: logged, no spin, serving again later" { case_emfile signals; }
@test "signals_raw: out of descriptors: logged, no spin, serving again later" { case_emfile signals_raw; }
@test "read_watermarks: out of descriptors: logged, no spin, serving again later" { case_emfile read_watermarks; }
@test "relay: out of descriptors: logged, no spin, serving again later" { case_emfile relay; }
@test "threaded_echo: out of descriptors: logged, no spin, serving again later" { case_emfile threaded_echo; }
@test "reuseport_echo: out of descriptors: logged, no spin, serving again later" { case_emfile reuseport_echo; }
@test "offload: out of descriptors: logged, no spin, serving again later" { case_emfile offload; }
