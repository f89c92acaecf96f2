#!/usr/bin/env bats
# tests/bad_input_emfile2.bats — the other three servers of
# tests/bad_input_emfile.bats run out of descriptors: logged, no spin, serving again.
#
# The servers and how to probe each are listed once, in tests/servers.bash; the
# behaviours (case_* functions taking a server's name) are in tests/bad_input.bash.
# Each @test runs one behaviour against one server, so a failure names both.
# The behaviours are split over tests/bad_input*.bats only so that the files
# run in parallel; tests/bad_input.bats checks that none is missing.

load helpers
load bad_input

setup_file() {
    start_redis
}

@test "signals_raw: out of descriptors: logged, no spin, serving again later" { case_emfile signals_raw; }
@test "read_watermarks: out of descriptors: logged, no spin, serving again later" { case_emfile read_watermarks; }
@test "relay: out of descriptors: logged, no spin, serving again later" { case_emfile relay; }
@test "threaded_echo: out of descriptors: logged, no spin, serving again later" { case_emfile threaded_echo; }
@test "reuseport_echo: out of descriptors: logged, no spin, serving again later" { case_emfile reuseport_echo; }
@test "offload: out of descriptors: logged, no spin, serving again later" { case_emfile offload; }
