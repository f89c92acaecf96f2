#!/usr/bin/env bats
# tests/bad_input_streams.bats — the servers against peers that misuse a stream:
# a 10 MiB line, a half-close, a reset in the middle of a large reply.
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

@test "signals: a 10 MiB line: capped, closed, memory bounded, still serving" { case_huge_line signals; }
@test "signals_raw: a 10 MiB line: capped, closed, memory bounded, still serving" { case_huge_line signals_raw; }
@test "relay: a 10 MiB line: refused by Redis, memory bounded, still serving" { case_huge_line relay; }

@test "listener: half-close: every reply still arrives" { case_half_close listener; }
@test "idle_server: half-close: every reply still arrives" { case_half_close idle_server; }
@test "signals: half-close: every reply still arrives" { case_half_close signals; }
@test "signals_raw: half-close: every reply still arrives" { case_half_close signals_raw; }
@test "relay: half-close: every reply still arrives" { case_half_close relay; }

@test "listener: a client reset in the middle of a large reply does not hurt the server" { case_reset listener; }
@test "signals: a client reset in the middle of a large reply does not hurt the server" { case_reset signals; }
@test "signals_raw: a client reset in the middle of a large reply does not hurt the server" { case_reset signals_raw; }
@test "relay: a client reset in the middle of a large reply does not hurt the server" { case_reset relay; }
