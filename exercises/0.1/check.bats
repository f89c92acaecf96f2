#!/usr/bin/env bats
# exercises/0.1/check.bats — client A is connected to echo_iterative and stays;
# client B connects and sends a line. Does B get its echo while A stays? After
# A leaves? The check watches it happen and compares with answer.txt.

load ../../tests/helpers
load ../helpers

@test "answer.txt matches what echo_iterative really does with a second client" {
    while_a=$(answer b-echoed-while-a-connected)
    after_a=$(answer b-echoed-after-a-leaves)
    start_server echo_iterative "$(bin 00_why_event_loop/echo_iterative)" --port 0
    exec {a}<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'from A\n' >&"$a"
    read -r -t 5 -u "$a" line || fail "client A got no echo"
    assert_equal "$line" "from A"
    exec {b}<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'from B\n' >&"$b"
    # "no echo" can only be seen by waiting: 2 s is ages for a local echo
    seen_while=no
    read -r -t 2 -u "$b" line && seen_while=yes
    exec {a}<&-
    seen_after=$seen_while
    [ "$seen_while" = no ] && read -r -t 5 -u "$b" line && seen_after=yes
    exec {b}<&-
    echo "# really: b-echoed-while-a-connected: $seen_while, b-echoed-after-a-leaves: $seen_after" >&3
    [ "$while_a" = "$seen_while" ] ||
        fail "b-echoed-while-a-connected: you predicted '$while_a'; really: $seen_while"
    [ "$after_a" = "$seen_after" ] ||
        fail "b-echoed-after-a-leaves: you predicted '$after_a'; really: $seen_after"
}
