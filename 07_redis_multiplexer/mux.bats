#!/usr/bin/env bats
# 07_redis_multiplexer/mux.bats — chapter 7: the multiplexer between many
# Redis clients and a private, real redis-server: framing, order, pinning,
# isolation, failure, signals.

load ../tests/helpers

setup_file() {
    start_redis
}

setup() {
    MUX=$(bin 07_redis_multiplexer/mux)
    CLIENTS="$BATS_TEST_DIRNAME/clients.py"
}

# start_mux [ARGS...]: the multiplexer in front of this file's Redis, on a free port
start_mux() {
    start_server mux bash -c 'ulimit -n 16384 2>/dev/null; exec "$@"' _ \
        "$MUX" --port 0 --redis-port "$REDIS_PORT" "$@"
}

rcli() { redis-cli -p "$PORT" "$@"; }
py() { /usr/bin/python3 "$CLIENTS" "$PORT" "$@"; }
stats() { signal_for_line USR1 'stats: '; }

@test "redis-cli through one shared connection; stats count requests, replies, writes" {
    start_mux
    wait_for_line "$SERVER_OUT" '^upstream 1: connected to Redis$'
    assert_equal "$(rcli SET t07:greeting 'hello, multiplexed')" OK
    assert_equal "$(redis-cli -p "$REDIS_PORT" GET t07:greeting)" 'hello, multiplexed'
    assert_equal "$(rcli GET t07:greeting)" 'hello, multiplexed'
    run stats
    assert_output --regexp '^stats: clients=0 clients_total=2 pinned=0 pinned_total=0 upstreams_up=1/1 in_flight=0 requests=2 replies=2 upstream_writes=2 batching=1.00 '
    # Redis sees one client for the multiplexer, whatever the number of clients
    assert_equal "$(redis-cli -p "$REDIS_PORT" CLIENT LIST | grep -c "laddr=127.0.0.1:$REDIS_PORT")" 2 # ours + this redis-cli
}

@test "nc: inline requests re-encoded, replies byte for byte, quotes, QUIT answered in order" {
    start_mux
    redis-cli -p "$REDIS_PORT" DEL t07:n >/dev/null
    run nc -N 127.0.0.1 "$PORT" < <(printf 'SET t07:k v\r\nGET t07:k\r\nINCR t07:n\r\n\r\nECHO "two words"\r\nNOPE\r\nQUIT\r\nPING\r\n')
    assert_success
    assert_equal "$output" "$(printf '+OK\r\n$1\r\nv\r\n:1\r\n$9\r\ntwo words\r\n-ERR unknown command '"'"'NOPE'"'"', with args beginning with: \r\n+OK\r')"
}

@test "python3-redis: a pipeline of 10,000 commands, replies in order" {
    start_mux
    run py pipeline
    assert_success
    assert_output "pipeline: 10000 replies in order"
}

@test "pinning: MULTI/EXEC, WATCH abort, pub/sub, BLPOP woken by another client" {
    start_mux
    run py watch
    assert_output "watch: EXEC ran, then aborted by WATCH"
    run py pubsub
    assert_output "pubsub: 3 messages"
    run py blpop
    assert_output "blpop: woken by RPUSH"
    # what pins each of redis-py's connections depends on its version: the
    # scenario's own command with Debian 12's redis-py 4.3, already the CLIENT
    # SETINFO that redis-py 5 and later send on connecting (Debian 13's) — see
    # docs/07, pinning. Either way, each of the three scenarios was pinned.
    pinned_by=$(sed -n 's/.*: \([A-Z]*\) needs a connection of its own: pinned$/\1/p' "$SERVER_OUT")
    [ "$(wc -l <<<"$pinned_by")" -ge 3 ] || fail "pinned only by: $pinned_by"
    if ! grep -qx CLIENT <<<"$pinned_by"; then
        grep -qxE 'MULTI|WATCH' <<<"$pinned_by"
        grep -qx SUBSCRIBE <<<"$pinned_by"
        grep -qx BLPOP <<<"$pinned_by"
    fi
}

@test "pinning waits for the client's earlier shared replies; SELECT stays with its client" {
    start_mux
    redis-cli -p "$REDIS_PORT" DEL t07:o >/dev/null
    # shared, shared, then pinned from MULTI on: the replies in exactly this order
    run nc -N 127.0.0.1 "$PORT" < <(printf 'SET t07:o 1\r\nINCR t07:o\r\nMULTI\r\nINCR t07:o\r\nEXEC\r\nGET t07:o\r\n')
    assert_equal "$output" "$(printf '+OK\r\n:2\r\n+OK\r\n+QUEUED\r\n*1\r\n:3\r\n$1\r\n3\r')"
    # a SELECTing client changes only its own (pinned) connection's database
    run nc -N 127.0.0.1 "$PORT" < <(printf 'SELECT 1\r\nSET t07:db one\r\nGET t07:db\r\n')
    assert_equal "$output" "$(printf '+OK\r\n+OK\r\n$3\r\none\r')"
    assert_equal "$(rcli GET t07:db)" "" # database 0, for everyone else
    assert_equal "$(redis-cli -p "$REDIS_PORT" -n 1 GET t07:db)" one
}

@test "python3-redis: 5 MiB binary value, sha256 equal; 20 threads of INCR, exact total" {
    start_mux
    head -c 5242880 /dev/urandom >"$BATS_TEST_TMPDIR/blob"
    run py binary "$BATS_TEST_TMPDIR/blob"
    assert_success
    assert_output "$(sha256sum <"$BATS_TEST_TMPDIR/blob" | cut -d' ' -f1)"
    run py threads
    assert_output "threads: 20 x 500 INCR = 10000"
}

@test "1,000 concurrent clients x 10 INCR: exact total, and every client gets only its own values" {
    start_mux
    redis-cli -p "$REDIS_PORT" DEL t07:total >/dev/null
    run bash -c 'ulimit -n 4096 2>/dev/null; exec /usr/bin/python3 "$1" "$2" many 1000 10' _ "$CLIENTS" "$PORT"
    assert_success
    assert_output "many: 1000 clients x 10 INCR, own values all back"
    assert_equal "$(redis-cli -p "$REDIS_PORT" GET t07:total)" 10000
    run stats
    assert_output --regexp ' clients_total=1000 .* requests=12000 replies=12000 '
    batching=$(sed -n 's/.* batching=\([0-9.]*\) .*/\1/p' <<<"$output")
    echo "# batching factor: $batching requests per upstream write" >&3
}

@test "pinned: a half-close reaches Redis at once, even while Redis keeps talking" {
    start_mux
    wait_for_line "$SERVER_OUT" '^upstream 1: connected to Redis$'
    # a publisher keeps the channel busy (a message every 50 ms for 10 s), so
    # a relay that waited for Redis to go quiet before closing would wait forever
    start_bg publisher bash -c 'for i in $(seq 200); do echo "PUBLISH t07:busy m$i";
        read -r -t 0.05 <> <(:) || true; done | redis-cli -p "$1" >/dev/null' _ "$REDIS_PORT"
    # SUBSCRIBE pins the client; nc -N half-closes right after sending it.
    # Redis frees a client that sent EOF, so the connection ends, as directly.
    start_bg subscriber bash -c 'printf "SUBSCRIBE t07:busy\r\n" | nc -N 127.0.0.1 "$1"' _ "$PORT"
    wait_exit "$BG_PID" 5 # fails if the close never comes back
    head -c 200 "$BG_OUT" | grep -q 'subscribe' || fail "no subscribe confirmation: $(cat "$BG_OUT")"
    assert_equal "$(redis-cli -p "$REDIS_PORT" PUBSUB NUMSUB t07:busy | tail -n 1)" 0
    # the same against Redis directly, for comparison: it ends too
    run timeout 5 bash -c 'printf "SUBSCRIBE t07:busy\r\n" | nc -N 127.0.0.1 "$1" | head -c 9' _ "$REDIS_PORT"
    assert_success
}

@test "--upstreams 3: clients spread over three shared connections, each client's replies still its own" {
    start_mux --upstreams 3
    wait_for_line "$SERVER_OUT" '^upstream 3: connected to Redis$'
    redis-cli -p "$REDIS_PORT" DEL t07:total >/dev/null
    run py many 300 5
    assert_output "many: 300 clients x 5 INCR, own values all back"
    assert_equal "$(redis-cli -p "$REDIS_PORT" GET t07:total)" 1500
    assert_regex "$(stats)" ' upstreams_up=3/3 in_flight=0 requests=2100 replies=2100 '
}

@test "a client that never reads is cut off at --client-output-limit; the others are not slowed" {
    start_mux --client-output-limit 1048576
    head -c 100000 /dev/zero | tr '\0' b | redis-cli -p "$REDIS_PORT" -x SET t07:big >/dev/null
    # 500 GETs of 100 kB = 50 MB of replies, never read
    for _ in $(seq 500); do printf 'GET t07:big\r\n'; done >"$BATS_TEST_TMPDIR/gets"
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    cat "$BATS_TEST_TMPDIR/gets" >&5
    wait_for_line "$SERVER_OUT" '^client 127\.0\.0\.1:[0-9]+: [0-9]+ bytes of replies unread, over --client-output-limit 1048576: disconnecting$' 20
    # meanwhile and after, the shared connection serves everyone else
    start=$(date +%s%N)
    run py pipeline
    assert_output "pipeline: 10000 replies in order"
    elapsed_ms=$((($(date +%s%N) - start) / 1000000))
    [ "$elapsed_ms" -lt 20000 ] || fail "others slowed down: $elapsed_ms ms"
    # the cut-off client sees its connection end (after what was already sent)
    run timeout 10 cat <&5
    exec 5<&-
    assert_regex "$(stats)" ' output_limit_closes=1 '
    assert_rss_below "$SERVER_PID" 65536
}

@test "bad input gets a clear -ERR after the replies owed, and never desynchronises the others" {
    start_mux --max-request 1048576
    # a well-behaved client pipelining 2,000 SET/GET pairs alongside
    for i in $(seq 2000); do printf 'SET t07:g%d %d\r\nGET t07:g%d\r\n' "$i" "$i" "$i"; done >"$BATS_TEST_TMPDIR/good"
    for i in $(seq 2000); do printf '+OK\r\n$%d\r\n%d\r\n' "${#i}" "$i"; done >"$BATS_TEST_TMPDIR/want"
    start_bg good bash -c 'exec nc -N 127.0.0.1 "$1" <"$2" >"$3"' _ "$PORT" "$BATS_TEST_TMPDIR/good" "$BATS_TEST_TMPDIR/got"
    good=$BG_PID
    run nc -N 127.0.0.1 "$PORT" < <(printf 'PING\r\n*abc\r\nPING\r\n')
    assert_equal "$output" "$(printf '+PONG\r\n-ERR Protocol error: invalid multibulk length\r')"
    # as Redis: the two bytes after a bulk string are skipped unread, "NG" is the next request
    run nc -N 127.0.0.1 "$PORT" < <(printf '*1\r\n$4\r\nPINGPONG\r\n')
    assert_equal "$output" "$(printf '+PONG\r\n-ERR unknown command '"'"'NG'"'"', with args beginning with: \r')"
    run nc -N 127.0.0.1 "$PORT" < <(printf '*2\r\n$3\r\nGET\r\n$9999999\r\n')
    assert_output $'-ERR request larger than --max-request (1048576 bytes)\r'
    # as Redis: half a request at EOF is dropped without a word
    run nc -N 127.0.0.1 "$PORT" < <(printf 'PING\r\n*2\r\n$4\r\nECHO\r\n$10\r\nhalf')
    assert_output $'+PONG\r'
    run nc -N 127.0.0.1 "$PORT" < <(head -c 70000 /dev/zero | tr '\0' x)
    assert_output $'-ERR Protocol error: too big inline request\r'
    wait_exit "$good" 60
    assert_equal "$EXIT_STATUS" 0
    cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
    assert_equal "$(rcli PING)" PONG
    assert_regex "$(stats)" ' bad_requests=3$'
}

@test "Redis killed mid-load: requests in flight get -ERR in order, service resumes by itself" {
    rport=$(free_port)
    start_bg redis-a redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$BATS_TEST_TMPDIR" --daemonize no --enable-debug-command yes
    rpid=$BG_PID
    for _ in $(seq 100); do [ "$(redis-cli -p "$rport" ping 2>/dev/null)" = PONG ] && break; sleep 0.05; done
    start_server mux "$MUX" --port 0 --redis-port "$rport"
    wait_for_line "$SERVER_OUT" '^upstream 1: connected to Redis$'
    start_bg load /usr/bin/python3 "$CLIENTS" "$PORT" load "$BATS_TEST_TMPDIR/stop"
    load_pid=$BG_PID
    load_out=$BG_OUT
    for _ in $(seq 200); do [ "$(redis-cli -p "$rport" GET t07:load)" -gt 10 ] 2>/dev/null && break; sleep 0.05; done
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    # three requests in flight: Redis sleeps on the first when it is killed
    printf 'DEBUG SLEEP 5\r\nINCR t07:x\r\nPING\r\n' >&5
    until ! timeout 0.3 redis-cli -p "$rport" ping >/dev/null 2>&1; do sleep 0.05; done
    kill -KILL "$rpid"
    for _ in 1 2 3; do
        read -r -t 5 reply <&5
        assert_equal "$reply" $'-ERR upstream unavailable\r'
    done
    printf 'PING\r\n' >&5 # while Redis is down: answered at once
    read -r -t 5 reply <&5
    assert_equal "$reply" $'-ERR upstream unavailable\r'
    grep -qE '^mux: upstream 1: (connection closed by Redis|Connection reset by peer); [0-9]+ requests? in flight answered with -ERR upstream unavailable; reconnecting in 100 ms$' "$SERVER_ERR"
    start_bg redis-b redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$BATS_TEST_TMPDIR" --daemonize no
    wait_for_line "$SERVER_OUT" '^upstream 1: connected to Redis$' 15
    for _ in $(seq 100); do
        printf 'PING\r\n' >&5
        read -r -t 5 reply <&5
        [ "$reply" = $'+PONG\r' ] && break
        sleep 0.1
    done
    assert_equal "$reply" $'+PONG\r'
    exec 5<&-
    # the background load saw errors, then successes again, and nothing else
    for _ in $(seq 100); do [ "$(redis-cli -p "$rport" GET t07:load)" -gt 10 ] 2>/dev/null && break; sleep 0.1; done
    touch "$BATS_TEST_TMPDIR/stop"
    wait_exit "$load_pid" 10
    assert_equal "$EXIT_STATUS" 0
    run cat "$load_out"
    assert_output --regexp '^load: ok=[1-9][0-9]* errors=[1-9][0-9]* ok_after_errors=[1-9][0-9]*$'
}

@test "SIGINT while a 10 MiB reply is in flight: the client gets all of it, then exit 0" {
    head -c 10485760 /dev/urandom | base64 -w0 | head -c 10485760 >"$BATS_TEST_TMPDIR/value"
    redis-cli -p "$REDIS_PORT" -x SET t07:huge <"$BATS_TEST_TMPDIR/value" >/dev/null
    start_mux --client-output-limit 33554432
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'GET t07:huge\r\n' >&5
    kill -INT "$SERVER_PID"
    wait_for_line "$SERVER_OUT" '^shutdown: caught SIGINT; draining 1 client'
    timeout 20 cat <&5 >"$BATS_TEST_TMPDIR/reply"
    exec 5<&-
    wait_exit "$SERVER_PID" 10
    assert_equal "$EXIT_STATUS" 0
    assert_equal "$(stat -c %s "$BATS_TEST_TMPDIR/reply")" $((11 + 10485760 + 2))
    assert_equal "$(tail -c +12 "$BATS_TEST_TMPDIR/reply" | head -c 10485760 | sha256sum)" \
        "$(sha256sum <"$BATS_TEST_TMPDIR/value")"
    grep -q '^summary: clients=0 clients_total=1 ' "$SERVER_OUT"
}

@test "bad command lines exit 2" {
    run "$MUX" --redis-host redis.example
    assert_failure 2
    assert_line --index 0 "mux: --redis-host: 'redis.example' is not an IPv4 address"
    run "$MUX" --upstreams 0
    assert_failure 2
    run "$MUX" --client-output-limit 10
    assert_failure 2
    run "$MUX" --max-request lots
    assert_failure 2
    run "$MUX" --help
    assert_success
}
