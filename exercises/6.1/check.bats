#!/usr/bin/env bats
# exercises/6.1 — the relay's stats line counts the connections that Redis
# ended (QUIT, CLIENT KILL) and not those the client ended (its FIN or reset).

load ../../tests/helpers

setup_file() {
    start_redis
}

stats() { signal_for_line USR1 'stats: '; }

# ask_and_wait_for_close REQUEST: send REQUEST through the relay on a connection that never
# half-closes, and read until the relay closes it (QUIT: Redis closes first)
ask_and_wait_for_close() {
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    printf '%s' "$1" >&5
    timeout 10 cat <&5
    local status=$?
    exec 5<&-
    return "$status"
}

@test "6.1: closed_by_redis counts QUIT and CLIENT KILL, not the clients' own closes" {
    start_server relay "$(bin 06_redis_relay/relay)" --port 0 --redis-port "$REDIS_PORT"
    run stats
    assert_output --regexp ' closed_by_redis=0( |$)'

    # the client ends it: a FIN after PING (nc -N), then a plain close after PING
    run nc -N 127.0.0.1 "$PORT" < <(printf 'PING\r\n')
    assert_output $'+PONG\r'
    exec 6<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'PING\r\n' >&6
    read -r -t 5 reply <&6
    assert_equal "$reply" $'+PONG\r'
    exec 6<&-
    # Redis ends it: QUIT, read to the end without half-closing first
    run ask_and_wait_for_close $'PING\r\nQUIT\r\n'
    assert_success
    assert_output $'+PONG\r\n+OK\r'
    # Redis ends it: CLIENT KILL from another connection
    exec 7<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'CLIENT ID\r\n' >&7
    read -r -t 5 id <&7
    [[ $id =~ ^:([0-9]+)$'\r'$ ]] || fail "CLIENT ID answered '$id'"
    assert_equal "$(redis-cli -p "$REDIS_PORT" CLIENT KILL ID "${BASH_REMATCH[1]}")" 1
    run timeout 5 cat <&7
    exec 7<&-
    assert_success

    # every pair is gone (the relay saw each end); two were Redis's doing
    for _ in $(seq 100); do
        line=$(stats)
        [[ $line == *' clients_now=0 '* ]] && break
        sleep 0.1
    done
    assert_regex "$line" '^stats: clients_now=0 clients_total=4 '
    assert_regex "$line" ' closed_by_redis=2( |$)'
}
