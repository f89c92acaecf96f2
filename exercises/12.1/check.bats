#!/usr/bin/env bats
# exercises/12.1 — each connection's stats line ends with ", tokens N": the
# bytes its bucket would let it write now. A client that reads spends them as
# they come; one that stopped reading lets the bucket fill up to --burst.

load ../../tests/helpers

@test "12.1: tokens stay low for a reading client and reach the burst for one that stopped reading" {
    start_server shaper "$(bin 12_rate_limits_and_filters/shaper)" --port 0 --rate 4194304 --burst 4194304
    # a reader: meter, for 3 s, in the background
    start_bg meter "$(bin 12_rate_limits_and_filters/meter)" --port "$PORT" --seconds 3
    wait_for_line "$BG_OUT" '^second,c1,total$'
    line=$(signal_for_line USR1 'stats: conn 1 ')
    [[ $line =~ ,\ tokens\ ([0-9]+)$ ]] || fail "no ', tokens N' at the end of: $line"
    echo "# reading:    $line" >&3
    [ "${BASH_REMATCH[1]}" -lt 1048576 ] || fail "a reading client's bucket holds ${BASH_REMATCH[1]} tokens: it should spend them as they come"
    # a client that never reads: once the kernel's buffers are full, its bucket fills
    start_bg never python3 "$WORKBOOK_ROOT/12_rate_limits_and_filters/never_reads.py" "$PORT"
    wait_for_line "$BG_OUT" '^connected$'
    for _ in $(seq 100); do
        line=$(signal_for_line USR1 'stats: conn 2 ')
        [[ $line == *", tokens 4194304" ]] && break
        sleep 0.1
    done
    echo "# not reading: $line" >&3
    [[ $line == *", tokens 4194304" ]] || fail "the bucket of a client that stopped reading should fill to --burst (4194304): $line"
}
