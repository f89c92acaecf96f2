#!/usr/bin/env bats
# exercises/2.1/check.bats — three commands through redis_client --pipe, under
# strace: how many write system calls (write, writev, sendmsg, sendto) go to
# the socket? The check counts them and compares with answer.txt.

load ../../tests/helpers
load ../helpers

setup_file() { start_redis; }

@test "answer.txt matches the writes strace sees on the socket" {
    predicted=$(answer writes)
    trace="$BATS_TEST_TMPDIR/strace.txt"
    run strace -f -e trace=write,writev,sendmsg,sendto -o "$trace" \
        "$(bin 02_redis_client/redis_client)" --port "$REDIS_PORT" --pipe \
        < <(printf 'SET ex21:a 1\nSET ex21:b 2\nGET ex21:a\n')
    assert_success
    assert_output "$(printf 'OK\nOK\n"1"')"
    # fds 1 and 2 are the terminal; anything higher here is the socket
    really=$(grep -cE '^([0-9]+ +)?(write|writev|sendmsg|sendto)\(([3-9]|[1-9][0-9]+),' "$trace" || true)
    echo "# really: writes: $really" >&3
    [ "$really" -ge 1 ] || fail "strace saw no write on the socket: $(cat "$trace")"
    [ "$predicted" = "$really" ] || fail "you predicted writes: $predicted; strace saw $really"
}
