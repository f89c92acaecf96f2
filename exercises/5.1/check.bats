#!/usr/bin/env bats
# Exercise 5.1 — read_watermarks says when it pauses reading ("input N >= high
# H: libevent has stopped reading the socket; ..."), but not when it starts
# again. Make it log, exactly once each time reading resumes after a pause:
#   read: input N < high H: reading the socket again

load ../../tests/helpers

setup() { READ=$(bin 05_bufferevent_watermarks/read_watermarks); }

# consumed: how many bytes the server has consumed so far
consumed() { sed -n 's/.*read: consumed \([0-9]*\) bytes.*/\1/p' "$SERVER_OUT" | awk '{ s += $1 } END { print s + 0 }'; }

# wait_consumed N: until the server has consumed N bytes
wait_consumed() {
    local deadline=$((SECONDS + 30))
    until [ "$(consumed)" -ge "$1" ]; do
        [ "$SECONDS" -lt "$deadline" ] || fail "only $(consumed) of $1 bytes consumed"
        sleep 0.1
    done
}

# episodes: walk the pause and resume lines in order; print "PAUSES RESUMES",
# PAUSES counting each run of pause lines once. Fails on a resume without a
# pause before it, or a pause left without its resume.
episodes() {
    awk '/libevent has stopped reading the socket/ { if (!paused) pauses++; paused = 1; next }
         /reading the socket again/ { if (!paused) { print "resume without a pause: " $0; exit 1 }
                                      paused = 0; resumes++ }
         END { if (paused) { print "still paused at the end"; exit 1 }; print pauses + 0, resumes + 0 }' "$SERVER_OUT"
}

@test "5.1 each pause at the high watermark is followed by exactly one 'reading the socket again'" {
    start_server wm "$READ" --port 0 --high 64 --consume 16 --consume-delay 20
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    head -c 1000 /dev/zero >&5
    wait_consumed 1000
    exec 5>&-
    run episodes
    assert_success
    read -r pauses resumes <<<"$output"
    echo "# $pauses pauses, $resumes resumes" >&3
    [ "$pauses" -ge 3 ] || fail "only $pauses pauses: the scenario did not hit the high watermark"
    assert_equal "$resumes" "$pauses"
    # each resume reports an input below high, in the agreed words
    assert_equal "$(count_lines "$SERVER_OUT" 'read: input [0-9]+ < high 64: reading the socket again$')" "$resumes"
    over=$(sed -n 's/.*read: input \([0-9]*\) < high 64: reading.*/\1/p' "$SERVER_OUT" | awk '$1 >= 64' | wc -l)
    assert_equal "$over" 0
}

@test "5.1 without a high watermark reading never pauses, so it never resumes" {
    start_server wm "$READ" --port 0 --consume 16 --consume-delay 20
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    head -c 200 /dev/zero >&5
    wait_consumed 200
    exec 5>&-
    assert_equal "$(count_lines "$SERVER_OUT" 'reading the socket again')" 0
    assert_equal "$(count_lines "$SERVER_OUT" 'stopped reading the socket')" 0
}
