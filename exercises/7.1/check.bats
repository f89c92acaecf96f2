#!/usr/bin/env bats
# exercises/7.1 — CLIENT SETINFO (what redis-py 5 and later send on every new
# connection) gets what Redis itself answers, in order, and leaves the client
# on the shared connection; the other CLIENT subcommands still pin.

load ../../tests/helpers

setup_file() {
    start_redis
}

stats() { signal_for_line USR1 'stats: '; }

# resp WORD...: the words as one RESP array, the way client libraries send it
resp() {
    printf '*%d\r\n' $#
    local word
    for word in "$@"; do printf '$%d\r\n%s\r\n' "${#word}" "$word"; done
}

# setinfo_session PORT: what redis-py 5 sends on connecting, between shared
# requests, on a connection left open (fd 5); prints the 7 reply lines
setinfo_session() {
    exec 5<>"/dev/tcp/127.0.0.1/$1"
    { resp SET t71:k v; resp CLIENT SETINFO LIB-NAME workbook; resp CLIENT SETINFO LIB-VER 1.0
        resp GET t71:k; printf 'client setinfo lib-name inline\r\n'; resp PING; } >&5
    local reply
    for _ in 1 2 3 4 5 6 7; do
        read -r -t 5 reply <&5 || reply="(nothing within 5 s)"
        printf '%s\n' "$reply"
    done
}

@test "7.1: CLIENT SETINFO gets Redis's own answer, in order, and does not pin; CLIENT SETNAME still does" {
    start_server mux "$(bin 07_redis_multiplexer/mux)" --port 0 --redis-port "$REDIS_PORT"
    wait_for_line "$SERVER_OUT" '^upstream 1: connected to Redis$'
    direct=$(setinfo_session "$REDIS_PORT")
    exec 5<&-
    echo "# Redis's own replies:" >&3
    sed 's/^/#   /' <<<"$direct" >&3
    setinfo_session "$PORT" >"$BATS_TEST_TMPDIR/through-mux"
    assert_equal "$(cat "$BATS_TEST_TMPDIR/through-mux")" "$direct"
    # still connected and never pinned: Redis sees one connection from the
    # multiplexer (and the redis-cli asking)
    run stats
    assert_output --regexp ' pinned=0 pinned_total=0 '
    ! grep -q 'pinned$' "$SERVER_OUT" || fail "pinned: $(grep 'pinned$' "$SERVER_OUT")"
    assert_equal "$(redis-cli -p "$REDIS_PORT" CLIENT LIST | grep -c "laddr=127.0.0.1:$REDIS_PORT")" 2
    exec 5<&-
    # the subcommands that do belong to a connection still get one of their own
    run nc -N 127.0.0.1 "$PORT" < <(resp CLIENT SETNAME t71-name; resp CLIENT GETNAME)
    assert_output "$(printf '+OK\r\n$8\r\nt71-name\r')"
    wait_for_line "$SERVER_OUT" ': CLIENT needs a connection of its own: pinned$'
    assert_regex "$(stats)" ' pinned_total=1 '
}
