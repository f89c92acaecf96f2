#!/usr/bin/env bats
# Exercise 5.4 — predict, then observe. The server:
#   read_watermarks --low 10 --consume 4
# (read low watermark 10; each read callback consumes 4 bytes of the input).
# One client sends, one piece at a time, each piece read by the server
# before the next is sent:
#   "abcdefg" (7 bytes), "hijklmn" (7), "o" (1), "p" (1), "qr" (2)
# Predict, in exercises/5.4/answer.txt:
#   callbacks: N           how many read callbacks run
#   inputs: A B C ...      the input length each one reports, in order
# The check runs it and compares.

load ../../tests/helpers

ANSWER="$WORKBOOK_ROOT/exercises/5.4/answer.txt"

# answer KEY: everything after "KEY:" on its line, commas read as spaces
answer() {
    sed -n "s/^[[:space:]]*$1[[:space:]]*[:=]\([^#]*\).*/\1/p" "$ANSWER" | tail -n 1 | tr ',' ' ' | xargs
}

setup() {
    if [ ! -f "$ANSWER" ]; then
        fail "write your predictions first, into exercises/5.4/answer.txt, two lines:
callbacks: ?
inputs: ? ? ..."
    fi
    for key in callbacks inputs; do
        value=$(answer "$key")
        [ -n "$value" ] && [[ "$value" != *"?"* ]] || fail "answer.txt: no prediction for '$key' yet"
    done
}

# delivered: every byte sent has left our socket (acknowledged: Send-Q 0) and
# the server has read it from its own (Recv-Q 0): it is in libevent's input
delivered() {
    local deadline=$((SECONDS + 10)) ours theirs
    while :; do
        ours=$(ss -tnH state established "( dport = :$PORT )" | awk '{ print $2 }' | head -n 1)
        theirs=$(ss -tnH state established "( sport = :$PORT )" | awk '{ print $1 }' | head -n 1)
        [ "$ours" = 0 ] && [ "$theirs" = 0 ] && return 0
        [ "$SECONDS" -lt "$deadline" ] || fail "sent bytes not read by the server (Send-Q $ours, Recv-Q $theirs)"
        sleep 0.05
    done
}

@test "5.4 read low 10, consume 4: the callbacks match answer.txt" {
    start_server wm "$(bin 05_bufferevent_watermarks/read_watermarks)" --port 0 --low 10 --consume 4
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    wait_for_line "$SERVER_OUT" 'read: 127\.0\.0\.1:[0-9]+ connected'
    for piece in abcdefg hijklmn o p qr; do
        printf '%s' "$piece" >&5
        delivered
    done
    exec 5>&-
    # the close comes after every piece: once it is logged, so is every callback
    wait_for_line "$SERVER_OUT" 'read: 127\.0\.0\.1:[0-9]+ closed after [0-9]+ read callbacks'
    callbacks=$(count_lines "$SERVER_OUT" 'read: callback [0-9]+: input')
    inputs=$(sed -n 's/.*read: callback [0-9]*: input \([0-9]*\) bytes$/\1/p' "$SERVER_OUT" | xargs)
    echo "# the server logged:" >&3
    grep -E 'read: (callback|consumed)' "$SERVER_OUT" | sed 's/^/#   /' >&3
    [ "$(answer callbacks)" = "$callbacks" ] ||
        fail "you predicted callbacks: $(answer callbacks); the run gave callbacks: $callbacks"
    [ "$(answer inputs)" = "$inputs" ] ||
        fail "you predicted inputs: $(answer inputs); the run gave inputs: $inputs"
}
