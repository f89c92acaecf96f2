#!/usr/bin/env bats
# tests/bad_input_emfile.bats — three servers run out of descriptors (ulimit -n
# 64, 100 clients): each logs it, does not spin, and serves again later. The
# other three are in tests/bad_input_emfile2.bats (two files run in parallel).
#
# The servers and how to probe each are listed once, in tests/servers.bash; the
# behaviours (case_* functions taking a server's name) are in tests/bad_input.bash.
# Each @test runs one behaviour against one server, so a failure names both.
# The behaviours are split over tests/bad_input*.bats only so that the files
# run in parallel; tests/bad_input.bats checks that none is missing.

load helpers
load bad_input

# (none of these three needs Redis: no setup_file)

@test "listener: out of descriptors: logged, no spin, serving again later" { case_emfile listener; }
@test "idle_server: out of descriptors: logged, no spin, serving again later" { case_emfile idle_server; }
@test "signals: out of descriptors: logged, no spin, serving again later" { case_emfile signals; }
