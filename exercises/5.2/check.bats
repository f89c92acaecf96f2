#!/usr/bin/env bats
# Exercise 5.2 — predict, then observe. write_watermark sends each client
# --bytes in --chunk pieces and ends with "all N bytes sent, K write
# callbacks". Predict K for four runs, in exercises/5.2/answer.txt:
#   fast: K       --bytes 1000000 --chunk 65536 --write-low 16384, a reader that reads at once
#   slow: K       the same server, a reader that waits 1 s before reading
#   low0: K       --bytes 1000000 --chunk 65536 --write-low 0, a reader that reads at once
#   chunk100k: K  --bytes 1000000 --chunk 100000 --write-low 16384, a reader that reads at once
# The check runs the four and compares.

load ../../tests/helpers

ANSWER="$WORKBOOK_ROOT/exercises/5.2/answer.txt"
KEYS="fast slow low0 chunk100k"

answer() {
    sed -n "s/^[[:space:]]*$1[[:space:]]*[:=][[:space:]]*\([^[:space:]#]*\).*/\1/p" "$ANSWER" | tail -n 1
}

setup() {
    if [ ! -f "$ANSWER" ]; then
        fail "write your predictions first, into exercises/5.2/answer.txt, four lines:
fast: ?
slow: ?
low0: ?
chunk100k: ?"
    fi
    for key in $KEYS; do
        value=$(answer "$key")
        [ -n "$value" ] && [ "$value" != "?" ] || fail "answer.txt: no prediction for '$key' yet"
    done
    WRITE=$(bin 05_bufferevent_watermarks/write_watermark)
}

# run_one KEY NAP SERVER_ARGS...: one client that naps NAP seconds and then
# reads everything; checks the bytes, then compares K with the prediction
run_one() {
    local key=$1 nap=$2
    shift 2
    start_server "$key" "$WRITE" --port 0 "$@"
    nc -I 4096 127.0.0.1 "$PORT" </dev/null | { sleep "$nap"; cat; } >"$BATS_TEST_TMPDIR/$key.received"
    wait_for_line "$SERVER_OUT" 'write: 127\.0\.0\.1:[0-9]+: all 1000000 bytes sent'
    assert_equal "$(wc -c <"$BATS_TEST_TMPDIR/$key.received")" 1000000
    k=$(sed -n 's/.*all 1000000 bytes sent, \([0-9]*\) write callbacks$/\1/p' "$SERVER_OUT")
    echo "# $key: $k write callbacks" >&3
    [ "$(answer "$key")" = "$k" ] || fail "you predicted $key: $(answer "$key"); the run gave $key: $k"
    stop_pid "$SERVER_PID"
}

@test "5.2 fast reader, write-low 16384: K matches answer.txt" {
    run_one fast 0 --bytes 1000000 --chunk 65536 --write-low 16384
}
@test "5.2 reader that naps 1 s, write-low 16384: K matches answer.txt" {
    run_one slow 1 --bytes 1000000 --chunk 65536 --write-low 16384
}
@test "5.2 fast reader, write-low 0: K matches answer.txt" {
    run_one low0 0 --bytes 1000000 --chunk 65536 --write-low 0
}
@test "5.2 chunks of 100000: K matches answer.txt" {
    run_one chunk100k 0 --bytes 1000000 --chunk 100000 --write-low 16384
}
