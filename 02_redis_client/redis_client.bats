#!/usr/bin/env bats
# 02_redis_client/redis_client.bats — chapter 2 against a private, real redis-server.

load ../tests/helpers

setup_file() {
    start_redis
}

setup() {
    CLIENT=$(bin 02_redis_client/redis_client)
    ASYNC=$(bin 02_redis_client/redis_async)
}

rc() { "$CLIENT" --port "$REDIS_PORT" "$@"; }

@test "default run reproduces the notes: connect, PING, PONG, exit 0" {
    run "$CLIENT" --port "$REDIS_PORT"
    assert_success
    assert_equal "$output" "$(printf 'connect redis success\nrecv redis message PONG')"
}

@test "SET through the client, GET with redis-cli, and the other way round" {
    run rc SET t02:a "from the workbook"
    assert_success
    assert_output "OK"
    run redis-cli -p "$REDIS_PORT" --raw GET t02:a
    assert_output "from the workbook"
    redis-cli -p "$REDIS_PORT" SET t02:b "from redis-cli" >/dev/null
    run rc GET t02:b
    assert_success
    assert_output '"from redis-cli"'
}

@test "a value with spaces, CR/LF and quotes round-trips byte for byte" {
    value=$'two words\r\nand "quotes" and \'single\' \\ backslash'
    run rc SET t02:tricky "$value"
    assert_output "OK"
    assert_equal "$(redis-cli -p "$REDIS_PORT" --raw GET t02:tricky | od -c)" \
        "$(printf '%s\n' "$value" | od -c)"
    # printed escaped, exactly as redis-cli prints it
    run rc GET t02:tricky
    assert_output "$(redis-cli -p "$REDIS_PORT" --no-raw GET t02:tricky)"
}

@test "--pipe is binary-safe: \\x00, \\r\\n and quotes inside double quotes" {
    run rc --pipe < <(printf '%s\n' 'SET t02:bin "a\x00b\r\nc\"d"' 'STRLEN t02:bin')
    assert_success
    assert_equal "$output" "$(printf 'OK\n(integer) 8')"
    assert_equal "$(redis-cli -p "$REDIS_PORT" --raw GET t02:bin | od -An -tx1 | tr -s ' \n' ' ')" \
        " 61 00 62 0d 0a 63 22 64 0a "
}

@test "a 1 MiB value comes back intact (sha256), both directions" {
    head -c 786432 /dev/urandom | base64 -w0 >"$BATS_TEST_TMPDIR/value"
    [ "$(stat -c %s "$BATS_TEST_TMPDIR/value")" -eq 1048576 ]
    want=$(sha256sum <"$BATS_TEST_TMPDIR/value" | cut -d' ' -f1)
    # in through redis-cli, out through the client
    redis-cli -p "$REDIS_PORT" -x SET t02:big1 <"$BATS_TEST_TMPDIR/value" >/dev/null
    got=$(rc --raw GET t02:big1 | head -c 1048576 | sha256sum | cut -d' ' -f1)
    assert_equal "$got" "$want"
    # in through the client (one 1 MiB --pipe line), out through redis-cli
    { printf 'SET t02:big2 '; cat "$BATS_TEST_TMPDIR/value"; echo; } | rc --pipe >"$BATS_TEST_TMPDIR/out"
    assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" "OK"
    got=$(redis-cli -p "$REDIS_PORT" --raw GET t02:big2 | head -c 1048576 | sha256sum | cut -d' ' -f1)
    assert_equal "$got" "$want"
}

@test "integer, nil and error replies look like redis-cli's" {
    run rc INCR t02:counter
    assert_output "(integer) 1"
    run rc INCRBY t02:counter 41
    assert_output "(integer) 42"
    run rc GET t02:missing
    assert_output "(nil)"
    redis-cli -p "$REDIS_PORT" SET t02:word hello >/dev/null
    run rc INCR t02:word
    assert_success # an error reply is an answer, not a transport failure
    assert_output "(error) ERR value is not an integer or out of range"
}

@test "arrays and nested arrays (LRANGE, MULTI/EXEC) print exactly like redis-cli" {
    redis-cli -p "$REDIS_PORT" RPUSH t02:list one two three four five six seven eight nine ten >/dev/null
    run rc LRANGE t02:list 0 -1
    assert_output "$(redis-cli -p "$REDIS_PORT" --no-raw LRANGE t02:list 0 -1)"
    assert_line --index 9 '10) "ten"'
    assert_line --index 0 ' 1) "one"'
    run rc LRANGE t02:nothing 0 -1
    assert_output "(empty array)"
    commands=$'MULTI\nLRANGE t02:list 0 2\nINCR t02:multi\nHGETALL t02:nohash\nGET t02:missing\nEXEC\nNOSUCHCOMMAND x'
    run rc --pipe <<<"$commands"
    assert_success
    ours=$output
    redis-cli -p "$REDIS_PORT" DEL t02:multi >/dev/null
    theirs=$(redis-cli -p "$REDIS_PORT" --no-raw <<<"$commands")
    assert_equal "$ours" "$theirs"
    assert_line '1) 1) "one"'
    assert_line '   2) "two"'
    assert_line '3) (empty array)'
}

@test "--pipe: 10,000 commands, 10,000 replies, in order" {
    redis-cli -p "$REDIS_PORT" DEL t02:seq >/dev/null
    start=$(date +%s%N)
    run rc --pipe < <(yes 'INCR t02:seq' | head -n 10000)
    elapsed_ms=$((($(date +%s%N) - start) / 1000000))
    assert_success
    assert_equal "${#lines[@]}" 10000
    assert_equal "$output" "$(seq 10000 | sed 's/^/(integer) /')"
    [ "$elapsed_ms" -lt 10000 ] || fail "10,000 pipelined commands took ${elapsed_ms} ms"
}

@test "--pipe with unbalanced quotes: message and exit 2, nothing sent" {
    run rc --pipe <<<'SET t02:q "open'
    assert_failure 2
    assert_output "redis_client: stdin line 1: unbalanced quotes"
}

@test "Redis not running: the cause, exit 1, at once (no retries)" {
    port=$(free_port)
    start=$(date +%s%N)
    run "$CLIENT" --port "$port"
    elapsed_ms=$((($(date +%s%N) - start) / 1000000))
    assert_failure 1
    assert_output "redis_client: cannot connect to 127.0.0.1:$port: Connection refused"
    [ "$elapsed_ms" -lt 3000 ] || fail "took $elapsed_ms ms"
}

@test "a server that accepts but never answers: --timeout gives up with exit 1" {
    port=$(free_port)
    start_bg silent nc -l 127.0.0.1 "$port"
    wait_listening "$port"
    start=$(date +%s%N)
    run "$CLIENT" --port "$port" --timeout 300 PING
    elapsed_ms=$((($(date +%s%N) - start) / 1000000))
    assert_failure 1
    assert_output "redis_client: timed out after 300 ms waiting for 127.0.0.1:$port to reply"
    [ "$elapsed_ms" -ge 300 ] && [ "$elapsed_ms" -lt 5000 ]
}

@test "Redis killed while replies stream in: message, exit 1, no crash" {
    start_redis # a second, private one just for this test
    victim_port=$REDIS_PORT
    victim_pid=$REDIS_PID
    start_bg bench "$CLIENT" --port "$victim_port" --bench 1000000000 --pipeline 16
    client_pid=$BG_PID
    # wait until replies are streaming: Redis has answered a thousand commands
    deadline=$((SECONDS + 20))
    until [ "$(redis-cli -p "$victim_port" INFO stats |
        sed -n 's/^total_commands_processed:\([0-9]*\).*/\1/p')" -ge 1000 ]; do
        [ "$SECONDS" -lt "$deadline" ] || fail "the client's commands never reached Redis"
        sleep 0.05
    done
    kill -0 "$client_pid" # still busy
    kill -KILL "$victim_pid"
    wait_exit "$client_pid" 5
    assert_equal "$EXIT_STATUS" 1
    run cat "$BG_ERR"
    assert_output --regexp "^redis_client: (127\.0\.0\.1:$victim_port closed the connection|connection to 127\.0\.0\.1:$victim_port failed) after [0-9]+ of 1000000000 replies"
}

@test "a peer that dies in the middle of one reply: exit 1, says how far it got" {
    port=$(free_port)
    # a fake server: half a bulk string, then it hangs up
    start_bg half bash -c "{ printf '\$1000\r\nonly part of it'; sleep 0.5; } | nc -N -l 127.0.0.1 $port"
    wait_listening "$port"
    run "$CLIENT" --port "$port" --timeout 5000 GET key
    assert_failure 1
    assert_output "redis_client: 127.0.0.1:$port closed the connection after 0 of 1 replies"
}

@test "--host takes a name; an unknown name fails clearly" {
    run "$CLIENT" --host localhost --port "$REDIS_PORT" PING
    assert_success
    assert_output "PONG"
    run timeout 30 "$CLIENT" --host no-such-host.invalid --port "$REDIS_PORT" PING
    assert_failure 1
    assert_output --partial "redis_client: cannot connect to no-such-host.invalid:$REDIS_PORT: "
}

# with_hosts_file FILE CMD...: run CMD in a private mount namespace where FILE
# is /etc/hosts. The machine's /etc/hosts is untouched, the resolver is the
# real one (glibc's getaddrinfo reads the bind-mounted file). The test calls
# needs_private_mounts first (a skip inside `run` would not skip the test).
needs_private_mounts() {
    # not allowed in a chroot (check-fresh) or a locked-down container
    unshare --mount --map-root-user true 2>/dev/null ||
        skip "needs a private mount namespace (unshare --mount --map-root-user)"
}
with_hosts_file() {
    local hosts=$1
    shift
    unshare --mount --map-root-user sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$hosts" "$@"
}

@test "--host NAME tries each address in turn: ::1 refuses, 127.0.0.1 answers" {
    needs_private_mounts
    hosts="$BATS_TEST_TMPDIR/hosts"
    printf '::1 wb-dual\n127.0.0.1 wb-dual\n' >"$hosts"
    # the premise: the name resolves to ::1 first, then 127.0.0.1 ...
    run with_hosts_file "$hosts" getent ahosts wb-dual
    assert_success
    assert_equal "$(awk '$2 == "STREAM" { print $1 }' <<<"$output" | tr '\n' ' ')" "::1 127.0.0.1 "
    # ... and nothing listens on [::1]:REDIS_PORT (the private Redis binds 127.0.0.1)
    run "$CLIENT" --host ::1 --port "$REDIS_PORT" PING
    assert_failure 1
    assert_output "redis_client: cannot connect to ::1:$REDIS_PORT: Connection refused"
    # the first address refuses; the client goes on to the second, as redis-cli does
    run with_hosts_file "$hosts" "$CLIENT" --host wb-dual --port "$REDIS_PORT" SET wb:dual yes
    assert_success
    assert_output "OK"
    assert_equal "$(redis-cli -p "$REDIS_PORT" GET wb:dual)" "yes"
    # and when every address refuses, the message says how many were tried
    port=$(free_port)
    run with_hosts_file "$hosts" "$CLIENT" --host wb-dual --port "$port" PING
    assert_failure 1
    assert_output "redis_client: cannot connect to wb-dual:$port (2 addresses tried): Connection refused"
}

@test "bad command lines exit 2" {
    run "$CLIENT" --port abc
    assert_failure 2
    assert_line --index 0 "redis_client: --port: 'abc' is not a number"
    run "$CLIENT" --timeout -5 PING
    assert_failure 2
    run "$CLIENT" --bench 10 --pipeline 0
    assert_failure 2
    run "$CLIENT" --pipe GET x
    assert_failure 2
    assert_line --index 0 "redis_client: give only one of: a command, --pipe, --bench"
    run "$CLIENT" --nope
    assert_failure 2
    run "$CLIENT" --help
    assert_success
}

@test "--bench sends exactly N PINGs and reports a rate" {
    before=$(redis-cli -p "$REDIS_PORT" INFO commandstats | sed -n 's/^cmdstat_ping:calls=\([0-9]*\),.*/\1/p')
    run rc --bench 5000 --pipeline 16
    assert_success
    assert_output --regexp '^PING: [0-9]+ requests per second \(5000 requests, [0-9.]+ s\)$'
    after=$(redis-cli -p "$REDIS_PORT" INFO commandstats | sed -n 's/^cmdstat_ping:calls=\([0-9]*\),.*/\1/p')
    assert_equal "$((after - ${before:-0}))" 5000
}

@test "redis_async: PING, SET and GET through hiredis's libevent adapter" {
    run "$ASYNC" --port "$REDIS_PORT"
    assert_success
    assert_equal "$output" "$(printf '%s\n' 'connect redis success' 'PING -> PONG' \
        'SET workbook:async -> OK' 'GET workbook:async -> "hello from redis_async"')"
    run redis-cli -p "$REDIS_PORT" --raw GET workbook:async
    assert_output "hello from redis_async"
}

@test "redis_async: Redis not running → message and exit 1" {
    port=$(free_port)
    run "$ASYNC" --port "$port"
    assert_failure 1
    assert_output "redis_async: cannot connect to 127.0.0.1:$port: Connection refused"
}
