#!/usr/bin/env bats
# exercises/11.2 — offload --max-jobs N: with N slow jobs out, the next slow
# request is answered "ERR busy" at once; cheap requests are still answered;
# once the pool has room again, a slow request is accepted.

load ../../tests/helpers

# ask FILE REQUEST: one request on its own connection, in the background; FILE
# gets the reply, then the milliseconds it took. ASKED holds the pids.
ASKED=()
ask() {
    (
        close_fds_above_2
        start=$(date +%s%N)
        printf '%s\n' "$2" | timeout 10 nc -N 127.0.0.1 "$PORT"
        echo "ms $((($(date +%s%N) - start) / 1000000))"
    ) >"$1" 2>&1 </dev/null &
    ASKED+=($!)
}

@test "11.2: three SLEEP 800 at once against --max-jobs 2: one ERR busy at once, two served" {
    start_server offload "$(bin 11_threads/offload)" --threads 1 --max-jobs 2 --port 0
    for i in 1 2 3; do ask "$BATS_TEST_TMPDIR/slow$i" 'SLEEP 800'; done
    wait "${ASKED[@]}"
    replies=$(cat "$BATS_TEST_TMPDIR"/slow? | grep -v '^ms ' | sort | paste -sd'|')
    assert_equal "$replies" "ERR busy|SLEPT 800|SLEPT 800"
    busy=$(grep -l '^ERR busy' "$BATS_TEST_TMPDIR"/slow?)
    ms=$(sed -n 's/^ms //p' "$busy")
    [ "$ms" -lt 600 ] || fail "ERR busy took $ms ms: it should not wait for the pool"
    # every job is back: the pool has room again
    run timeout 10 nc -N 127.0.0.1 "$PORT" < <(printf 'PING\nSLEEP 10\n')
    assert_output "PONG
SLEPT 10"
}

@test "11.2: while the pool is full, PING is still PONG" {
    start_server offload "$(bin 11_threads/offload)" --threads 1 --max-jobs 1 --port 0
    # Fill the pool with one SLEEP 1000, then probe with SLEEP 5 until the
    # probe is refused. A probe can win the race and take the only place
    # first (then the SLEEP 1000 is the one refused): wait, and fill again.
    for _ in $(seq 20); do
        ASKED=()
        ask "$BATS_TEST_TMPDIR/slow" 'SLEEP 1000'
        for _ in $(seq 50); do
            run timeout 5 nc -N 127.0.0.1 "$PORT" < <(printf 'SLEEP 5\n')
            [ "$output" = "ERR busy" ] && break 2
            grep -q '^ms ' "$BATS_TEST_TMPDIR/slow" && break # refused or done
            sleep 0.02
        done
        wait "${ASKED[@]}"
    done
    assert_output "ERR busy"
    run timeout 5 nc -N 127.0.0.1 "$PORT" < <(printf 'PING\n')
    assert_output PONG
    wait "${ASKED[@]}"
    assert_equal "$(head -n 1 "$BATS_TEST_TMPDIR/slow")" "SLEPT 1000"
}
