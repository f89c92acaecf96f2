#!/usr/bin/env bats
# exercises/3.2/check.bats — an EV_PERSIST heartbeat every 100 ms whose every
# tick works for 150 ms: how far apart do the ticks really start? The check
# runs it, takes the median gap, rounds it to the nearest of the three
# candidates (150, 200, 250 ms; a loaded machine only adds delay) and compares
# with answer.txt.

load ../../tests/helpers
load ../helpers

@test "answer.txt matches the gap between ticks of an overworked persistent timer" {
    predicted=$(answer gap-ms)
    run "$(bin 03_timers/timers)" --demo heartbeat --interval 100 --count 7 --work 150
    assert_success
    # "... heartbeat: tick N scheduled S ms actual A ms drift D ms": the A's
    actual=$(sed -nE 's/.*heartbeat: tick [0-9]+ scheduled +[0-9.]+ ms actual +([0-9.]+) ms.*/\1/p' <<<"$output")
    assert_equal "$(wc -l <<<"$actual")" 7
    median=$(awk 'NR > 1 { print $1 - prev } { prev = $1 }' <<<"$actual" | sort -n | awk '{ g[NR] = $1 } END { print g[int((NR + 1) / 2)] }')
    nearest=$(awk -v m="$median" 'BEGIN { best = 150; for (c = 150; c <= 250; c += 50) if ((m - c) ^ 2 < (m - best) ^ 2) best = c; print best }')
    echo "# really: median gap $median ms, nearest candidate gap-ms: $nearest" >&3
    [ "$predicted" = "$nearest" ] || fail "you predicted gap-ms: $predicted; really about $nearest (median $median ms)"
}
