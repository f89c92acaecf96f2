#!/usr/bin/env bats
# tests/walkthrough_relay.bats — chapter 6's page, checked like docs/01-05 in
# walkthrough.bats: the relay's terminal, the other terminal's commands and
# what they print, and the stats line, each compared with the page's
# transcript blocks (ports normalised). Its own file so it runs in parallel.

load helpers
load walkthrough

@test "chapter 6: the relay's and the client's transcripts, and the stats line after them" {
    start_redis
    start_server relay "$(bin 06_redis_relay/relay)" --port 0 --redis-port "$REDIS_PORT"
    # the other terminal, as the page shows it: each command after "$ "
    {
        echo '$ redis-cli -p 6380 ping'
        redis-cli -p "$PORT" ping
        echo '$ redis-cli -p 6380 set workbook:greeting "hello through the relay"'
        redis-cli -p "$PORT" set workbook:greeting "hello through the relay"
        echo "\$ printf 'GET workbook:greeting\\r\\nQUIT\\r\\n' | nc 127.0.0.1 6380"
        printf 'GET workbook:greeting\r\nQUIT\r\n' | timeout 10 nc 127.0.0.1 "$PORT"
        echo '$'
    } >"$BATS_TEST_TMPDIR/client.out"
    assert_transcript 06-redis-relay.md chapter6-client "$BATS_TEST_TMPDIR/client.out" "$PORT" 6380

    # the relay's terminal once the three clients are gone and kill -USR1 asked
    # for the stats line (its counts are exact for exactly this sequence)
    for _ in $(seq 50); do
        line=$(signal_for_line USR1 'stats: ')
        [[ $line == *"clients_now=0 "* ]] && break
        sleep 0.1
    done
    { grep -v '^stats: ' "$SERVER_OUT"; echo "$line"; } |
        sed "s/\b$REDIS_PORT\b/6379/" >"$BATS_TEST_TMPDIR/relay-terminal.out"
    assert_transcript 06-redis-relay.md chapter6-relay "$BATS_TEST_TMPDIR/relay-terminal.out" "$PORT" 6380
}

@test "chapter 6: Ctrl-C with a telnet still connected (the shutdown transcript), then Redis stopped" {
    start_redis
    start_server relay "$(bin 06_redis_relay/relay)" --port 0 --redis-port "$REDIS_PORT"
    # the page's sequence: the three commands, then a telnet that sends PING and stays
    redis-cli -p "$PORT" ping >/dev/null
    redis-cli -p "$PORT" set workbook:greeting "hello through the relay" >/dev/null
    printf 'GET workbook:greeting\r\nQUIT\r\n' | timeout 10 nc 127.0.0.1 "$PORT" >/dev/null
    start_bg telnet bash -c "{ printf 'PING\r\n'; sleep 60; } | nc 127.0.0.1 $PORT"
    for _ in $(seq 100); do grep -q PONG "$BG_OUT" && break; sleep 0.05; done
    grep -q PONG "$BG_OUT" || fail "the held client got no +PONG"
    kill -INT "$SERVER_PID"
    wait_exit "$SERVER_PID" 20
    cat "$SERVER_OUT" "$SERVER_ERR" >"$BATS_TEST_TMPDIR/relay-terminal.out"
    assert_transcript 06-redis-relay.md chapter6-shutdown "$BATS_TEST_TMPDIR/relay-terminal.out"

    # Redis stopped: redis-cli through the relay prints one of the two lines the page explains
    start_server relay2 "$(bin 06_redis_relay/relay)" --port 0 --redis-port "$REDIS_PORT"
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    for _ in $(seq 100); do port_is_free "$REDIS_PORT" && break; sleep 0.05; done
    run redis-cli -p "$PORT" ping
    assert_failure
    line=$(printf '%s\n' "$output" | sed "s/\b$PORT\b/6380/")
    grep -qxF -- "$line" <(doc_block 06-redis-relay.md chapter6-unreachable) ||
        fail "redis-cli printed '$output', which the page does not explain"
    for _ in $(seq 100); do grep -q 'cannot reach Redis' "$SERVER_ERR" && break; sleep 0.05; done
    grep -qx "relay: cannot reach Redis at 127.0.0.1:$REDIS_PORT: Connection refused" "$SERVER_ERR" ||
        fail "relay's stderr: $(cat "$SERVER_ERR")"
}
