#!/usr/bin/env bats
# tests/bad_input.bats — every server of the workbook against hostile or
# clumsy peers: garbage and bad command lines.
#
# The servers and how to probe each are listed once, in tests/servers.bash; the
# behaviours (case_* functions taking a server's name) are in tests/bad_input.bash.
# Each @test runs one behaviour against one server, so a failure names both.
# One file per kind of bad input (tests/bad_input*.bats: garbage and command
# lines here; connection churn, out of descriptors, silent clients, misused
# streams); the last test here checks that every listed server has, across
# those files, a test of every behaviour that applies to all.

load helpers
load bad_input

setup_file() {
    start_redis
}

@test "listener: 1 MiB of random bytes, then a normal request: still served" { case_garbage listener; }
@test "idle_server: 1 MiB of random bytes, then a normal request: still served" { case_garbage idle_server; }
@test "signals: 1 MiB of random bytes, then a normal request: still served" { case_garbage signals; }
@test "signals_raw: 1 MiB of random bytes, then a normal request: still served" { case_garbage signals_raw; }
@test "read_watermarks: 1 MiB of random bytes, then a normal request: still served" { case_garbage read_watermarks; }
@test "relay: 1 MiB of random bytes, then a normal request: still served" { case_garbage relay; }
@test "threaded_echo: 1 MiB of random bytes, then a normal request: still served" { case_garbage threaded_echo; }
@test "reuseport_echo: 1 MiB of random bytes, then a normal request: still served" { case_garbage reuseport_echo; }
@test "offload: 1 MiB of random bytes, then a normal request: still served" { case_garbage offload; }

@test "listener: bad command-line values: message, exit 2" { case_bad_args listener; }
@test "idle_server: bad command-line values: message, exit 2" { case_bad_args idle_server; }
@test "signals: bad command-line values: message, exit 2" { case_bad_args signals; }
@test "signals_raw: bad command-line values: message, exit 2" { case_bad_args signals_raw; }
@test "read_watermarks: bad command-line values: message, exit 2" { case_bad_args read_watermarks; }
@test "relay: bad command-line values: message, exit 2" { case_bad_args relay; }
@test "threaded_echo: bad command-line values: message, exit 2" { case_bad_args threaded_echo; }
@test "reuseport_echo: bad command-line values: message, exit 2" { case_bad_args reuseport_echo; }
@test "offload: bad command-line values: message, exit 2" { case_bad_args offload; }

@test "the other programs: bad values exit 2 with a message" {
    run "$(bin 04_signals/signals)" --config /no/such/file
    assert_failure 2
    assert_output --partial "signals: --config: /no/such/file: No such file or directory"
    run "$(bin 02_redis_client/redis_client)" --port 99999
    assert_failure 2
    run "$(bin 03_timers/timers)" --demo heartbeat --count -1
    assert_failure 2
}

# Every behaviour that applies to all servers, as its @test names say it.
ALL_SERVER_BEHAVIOURS=(
    "1 MiB of random bytes"
    "1,000 connect/close cycles"
    "clients that connect and never send"
    "out of descriptors"
    "bad command-line values"
)

@test "every server in tests/servers.bash has a test of each behaviour above" {
    names=$(server_names)
    [ "$(wc -l <<<"$names")" -ge 6 ] || fail "only $(wc -l <<<"$names") servers listed"
    missing=()
    for name in $names; do
        for behaviour in "${ALL_SERVER_BEHAVIOURS[@]}"; do
            cat "$BATS_TEST_DIRNAME"/bad_input*.bats | grep -qF "@test \"$name: $behaviour" ||
                missing+=("$name: $behaviour")
        done
    done
    assert_equal "${missing[*]-}" ""
}

