#!/usr/bin/env bats
# 06_redis_relay/relay.bats — chapter 6: the relay between Redis clients and a
# private, real redis-server: bytes, transparency (what a client sees is what
# it sees against Redis directly, checked side by side), failures, limits,
# signals, backpressure and load.

load ../tests/helpers

setup_file() {
    start_redis
}

setup() {
    RELAY=$(bin 06_redis_relay/relay)
}

# start_relay [ARGS...]: the relay in front of this file's Redis, on a free port
start_relay() {
    start_server relay bash -c 'ulimit -n 16384 2>/dev/null; exec "$@"' _ \
        "$RELAY" --port 0 --redis-port "$REDIS_PORT" "$@"
}

rcli() { redis-cli -p "$PORT" "$@"; }

stats() { signal_for_line USR1 'stats: '; }

# wait_stats REGEX [SECONDS=10]: ask for stats (SIGUSR1) until a line matches
wait_stats() {
    local line
    for _ in $(seq $((${2:-10} * 10))); do
        line=$(stats)
        [[ $line =~ $1 ]] && return 0
        sleep 0.1
    done
    fail "no stats line matched /$1/; the last: $line"
}

@test "redis-cli SET/GET through the relay, including a 1 MiB binary value" {
    start_relay
    run rcli SET t06:greeting "hello through the relay"
    assert_output "OK"
    run redis-cli -p "$REDIS_PORT" GET t06:greeting
    assert_output "hello through the relay"
    head -c 1048576 /dev/urandom >"$BATS_TEST_TMPDIR/blob"
    rcli -x SET t06:blob <"$BATS_TEST_TMPDIR/blob" >/dev/null
    want=$(sha256sum <"$BATS_TEST_TMPDIR/blob" | cut -d' ' -f1)
    # read back through the relay and directly; redis-cli --raw adds one newline
    assert_equal "$(rcli --raw GET t06:blob | head -c 1048576 | sha256sum | cut -d' ' -f1)" "$want"
    assert_equal "$(redis-cli -p "$REDIS_PORT" --raw GET t06:blob | head -c 1048576 | sha256sum | cut -d' ' -f1)" "$want"
}

@test "telnet (through expect): inline PING gets +PONG" {
    start_relay
    run telnet_expect "$PORT" '
send "PING\r"
want {\+PONG\r\n}
send "ECHO hello\r"
want {\$5\r\nhello\r\n}
'
    assert_success
}

@test "nc: inline commands, replies byte for byte, then a clean close" {
    start_relay
    redis-cli -p "$REDIS_PORT" DEL t06:n >/dev/null
    run nc -N 127.0.0.1 "$PORT" < <(printf 'SET t06:k v\r\nGET t06:k\r\nINCR t06:n\r\nNOPE\r\n')
    assert_success
    assert_equal "$output" "$(printf '+OK\r\n$1\r\nv\r\n:1\r\n-ERR unknown command '"'"'NOPE'"'"', with args beginning with: \r')"
}

@test "QUIT: the client gets +PONG, +OK and a close, nothing more (as directly)" {
    start_relay
    quit() { printf 'PING\r\nQUIT\r\n' | timeout 10 nc 127.0.0.1 "$1" | od -c; }
    want=$(quit "$REDIS_PORT")
    assert_equal "$want" "$(printf '+PONG\r\n+OK\r\n' | od -c)"
    assert_equal "$(quit "$PORT")" "$want"
}

@test "python3-redis: a connection Redis closed raises ConnectionError, as directly" {
    start_relay
    # QUIT, then PING on the same connection: directly, redis-py finds the
    # socket closed (ConnectionError); an added error line would be read as
    # PING's reply (ResponseError).
    quit_then_ping() {
        /usr/bin/python3 - "$1" <<'PY'
import sys, redis
from redis.backoff import NoBackoff
from redis.retry import Retry
# no retries: redis-py 5 and later (Debian 13) reconnect by default, which
# would hide the close this test is about
r = redis.Redis(port=int(sys.argv[1]), single_connection_client=True, retry=Retry(NoBackoff(), 0))
print("QUIT:", r.execute_command("QUIT"))
try:
    print("PING:", r.ping())
except redis.exceptions.ConnectionError as e:
    print("ConnectionError:", e)
except redis.exceptions.ResponseError as e:
    print("ResponseError:", e)
PY
    }
    # Which ConnectionError depends on timing, directly as through the relay:
    # a PING that reaches the socket after its close brings a reset ("Error
    # while reading from …: Connection reset by peer"); one that reaches it
    # before, a clean end ("Connection closed by server."). Either is the
    # close; an added line from the relay would be neither.
    ended='^ConnectionError: (Connection closed by server\.|Error while reading from .*Connection reset by peer.*)$'
    run quit_then_ping "$REDIS_PORT"
    assert_line --index 0 'QUIT: True'
    assert_line --index 1 --regexp "$ended"
    assert_equal "${#lines[@]}" 2
    # through the relay: the same
    run quit_then_ping "$PORT"
    assert_line --index 0 'QUIT: True'
    assert_line --index 1 --regexp "$ended"
    assert_equal "${#lines[@]}" 2
}

@test "CLIENT KILL: the killed client sees its connection end, with nothing added" {
    start_relay
    for port in "$REDIS_PORT" "$PORT"; do
        exec 5<>"/dev/tcp/127.0.0.1/$port"
        printf 'CLIENT ID\r\n' >&5
        read -r -t 5 id <&5
        [[ $id =~ ^:([0-9]+)$'\r'$ ]] || fail "CLIENT ID answered '$id'"
        assert_equal "$(redis-cli -p "$REDIS_PORT" CLIENT KILL ID "${BASH_REMATCH[1]}")" 1
        run timeout 5 cat <&5 # returns at the close
        exec 5<&-
        assert_success
        assert_output ""
    done
}

@test "Redis's timeout config closes an idle client through the relay, with nothing added" {
    start_redis # this test's own Redis: its timeout is changed
    redis-cli -p "$REDIS_PORT" CONFIG SET timeout 1 >/dev/null
    start_relay
    for port in "$REDIS_PORT" "$PORT"; do
        exec 5<>"/dev/tcp/127.0.0.1/$port"
        printf 'PING\r\n' >&5
        read -r -t 5 reply <&5
        assert_equal "$reply" $'+PONG\r'
        run timeout 10 cat <&5 # Redis closes it after a second or two of silence
        exec 5<&-
        assert_success
        assert_output ""
    done
}

# close_then PORT SCENARIO: through PORT, a client blocks in BLPOP (SCENARIO
# blpop) or subscribes (subscribe), then closes; 100 ms later another client,
# connected straight to Redis, pushes to that list or publishes to that
# channel. Prints what the list holds, or how many received the message.
# (python3-redis: a client already connected acts on time, where starting
# redis-cli could take longer than the relay's old 200 ms linger.)
close_then() {
    /usr/bin/python3 - "$1" "$REDIS_PORT" "$2" <<'PY'
import socket, sys, time, redis
port, redis_port, scenario = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
direct = redis.Redis(port=redis_port, decode_responses=True)
direct.delete("t06:q")
def wait_for(cond):
    deadline = time.monotonic() + 10
    while not cond():
        if time.monotonic() > deadline:
            sys.exit("the client never got blocked or subscribed")
        time.sleep(0.01)
client = socket.create_connection(("127.0.0.1", port))
if scenario == "blpop":
    client.sendall(b"BLPOP t06:q 0\r\n")
    wait_for(lambda: direct.info("clients")["blocked_clients"] == 1)
else:
    client.sendall(b"SUBSCRIBE t06:ch\r\n")
    confirmation = b""  # read it, as a client library would: then close sends a FIN
    while not confirmation.endswith(b":1\r\n"):
        confirmation += client.recv(100)
    wait_for(lambda: direct.pubsub_numsub("t06:ch")[0][1] == 1)
client.close()
time.sleep(0.1)  # the scenario: the other client acts 100 ms after the close
if scenario == "blpop":
    direct.lpush("t06:q", "precious")
    print(direct.lrange("t06:q", 0, -1))
else:
    print(direct.publish("t06:ch", "hello"))
PY
}

@test "a client blocked in BLPOP closes: an element pushed 100 ms later stays in the list" {
    start_relay
    assert_equal "$(close_then "$REDIS_PORT" blpop)" "['precious']"
    for trial in 1 2 3; do
        assert_equal "trial $trial: $(close_then "$PORT" blpop)" "trial $trial: ['precious']"
    done
}

@test "a subscriber closes: a PUBLISH 100 ms later reaches 0 receivers" {
    start_relay
    assert_equal "$(close_then "$REDIS_PORT" subscribe)" 0
    for trial in 1 2 3; do
        assert_equal "trial $trial: $(close_then "$PORT" subscribe)" "trial $trial: 0"
    done
}

@test "half-close after a slow command: DEBUG SLEEP 0.5 and PING both answered (as directly)" {
    # this test's own Redis, which takes DEBUG from local clients
    debug_port=$(free_port)
    start_bg debug-redis redis-server --port "$debug_port" --bind 127.0.0.1 --save '' \
        --appendonly no --dir "$BATS_TEST_TMPDIR" --enable-debug-command local
    wait_for_line "$BG_OUT" 'Ready to accept connections'
    start_server relay "$RELAY" --port 0 --redis-port "$debug_port"
    slow() { printf 'DEBUG SLEEP 0.5\r\nPING\r\n' | timeout 10 nc -N 127.0.0.1 "$1" | od -c; }
    want=$(slow "$debug_port")
    assert_equal "$want" "$(printf '+OK\r\n+PONG\r\n' | od -c)"
    assert_equal "$(slow "$PORT")" "$want"
}

@test "Redis down at connect: the client gets a reset (a connection error), the cause goes to stderr" {
    down=$(free_port)
    start_server relay "$RELAY" --port 0 --redis-port "$down"
    ping() {
        /usr/bin/python3 - "$1" <<'PY'
import sys, redis
try:
    print(redis.Redis(port=int(sys.argv[1])).ping())
except redis.exceptions.ConnectionError as e:
    print("ConnectionError")
except redis.exceptions.ResponseError as e:
    print("ResponseError:", e)
PY
    }
    run ping "$down" # directly
    assert_output ConnectionError
    run ping "$PORT"
    assert_output ConnectionError
    run bash -c "printf 'PING\r\n' | timeout 10 nc -N 127.0.0.1 $PORT"
    assert_output "" # nothing but the reset
    wait_for_line "$SERVER_ERR" "^relay: cannot reach Redis at 127\.0\.0\.1:$down: Connection refused$"
    assert_regex "$(stats)" 'clients_now=0 clients_total=[0-9]+ .* upstream_errors=[1-9]'
    kill -0 "$SERVER_PID"
}

@test "Redis killed mid-session: the client's connection ends, relay alive, works again once Redis is back" {
    start_redis # this test's own Redis, to kill
    start_relay
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'PING\r\n' >&5
    read -r -t 5 reply <&5
    assert_equal "$reply" $'+PONG\r'
    kill -KILL "$REDIS_PID"
    run timeout 5 cat <&5 # the close reaches the client, and nothing else
    exec 5<&-
    assert_success
    assert_output ""
    kill -0 "$SERVER_PID"
    # a new client while Redis is down: a reset, the cause on stderr
    run bash -c "printf 'PING\r\n' | timeout 10 nc -N 127.0.0.1 $PORT"
    assert_output ""
    wait_for_line "$SERVER_ERR" "cannot reach Redis at 127\.0\.0\.1:$REDIS_PORT: Connection refused"
    # Redis back on the same port: served again
    start_bg redis-again redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
        --appendonly no --dir "$BATS_TEST_TMPDIR" --daemonize no
    wait_for_line "$BG_OUT" 'Ready to accept connections'
    run rcli PING
    assert_output "PONG"
}

@test "Redis answers and hangs up while the relay is still writing: the client gets that answer, then a close" {
    # Real Redis does this to an inline request over 64 KiB. Here a fake Redis
    # stops reading (the relay's writes back up), then, while the relay is
    # stopped, answers and resets: the relay wakes to a readable reply and a
    # failing write at once, and must deliver the reply.
    fake_port=$(free_port)
    go="$BATS_TEST_TMPDIR/go"
    start_bg fake perl "$BATS_TEST_DIRNAME/fake-redis-hangup.pl" "$fake_port" "$go"
    fake_out=$BG_OUT
    wait_listening "$fake_port"
    start_server relay "$RELAY" --port 0 --redis-port "$fake_port"
    relay_pid=$SERVER_PID
    start_bg client bash -c "head -c 10485760 /dev/zero | tr '\\0' x | timeout 30 nc 127.0.0.1 $PORT"
    client_pid=$BG_PID
    client_out=$BG_OUT
    wait_for_line "$fake_out" '^accepted$'
    # wait until the fake's receive queue has stopped growing: the relay is blocked
    last=-1
    for _ in $(seq 100); do
        queued=$(ss -tnH state established "sport = :$fake_port" | awk '{ print $1; exit }')
        [ "${queued:-0}" -gt 0 ] && [ "$queued" = "$last" ] && break
        last=${queued:-0}
        sleep 0.1
    done
    [ "${queued:-0}" -gt 0 ] || fail "the relay never sent anything to the fake Redis"
    kill -STOP "$relay_pid"
    touch "$go"
    wait_for_line "$fake_out" '^hung up$'
    kill -CONT "$relay_pid"
    wait_exit "$client_pid" 20
    run cat "$client_out"
    assert_output $'-ERR fake: answered, then hung up\r'
    kill -0 "$relay_pid"
}

@test "--max-clients 2: the third client gets Redis's own max-clients line, then a close" {
    start_relay --max-clients 2
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    exec 6<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'PING\r\n' >&5 && read -r -t 5 _ <&5
    printf 'PING\r\n' >&6 && read -r -t 5 _ <&6
    run nc -N 127.0.0.1 "$PORT" < <(printf 'PING\r\n')
    assert_output $'-ERR max number of clients reached\r'
    exec 5<&-
    wait_stats 'clients_now=1 ' # the relay saw the close
    run nc -N 127.0.0.1 "$PORT" < <(printf 'PING\r\n')
    assert_output $'+PONG\r'
    exec 6<&-
    assert_regex "$(stats)" 'rejected=1 '
}

@test "SIGINT while a 10 MiB reply is in flight: the client gets all of it, then exit 0" {
    head -c 10485760 /dev/urandom | base64 -w0 | head -c 10485760 >"$BATS_TEST_TMPDIR/value"
    redis-cli -p "$REDIS_PORT" -x SET t06:huge <"$BATS_TEST_TMPDIR/value" >/dev/null
    start_relay --drain-ms 60000
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'GET t06:huge\r\n' >&5
    read -r -t 5 header <&5 # the reply has begun; most of it is still to come
    kill -INT "$SERVER_PID"
    wait_for_line "$SERVER_OUT" '^shutdown: caught SIGINT; draining 1 client \(up to 60000 ms\)$'
    { printf '%s\n' "$header"; timeout 20 head -c $((10485760 + 2)) <&5; } >"$BATS_TEST_TMPDIR/reply"
    exec 5<&- # the client leaves: the last one, so the relay exits, long before the deadline
    wait_exit "$SERVER_PID" 10
    assert_equal "$EXIT_STATUS" 0
    assert_equal "$(head -c 11 "$BATS_TEST_TMPDIR/reply")" $'$10485760\r' # $() drops the \n
    assert_equal "$(stat -c %s "$BATS_TEST_TMPDIR/reply")" $((11 + 10485760 + 2))
    assert_equal "$(tail -c +12 "$BATS_TEST_TMPDIR/reply" | head -c 10485760 | sha256sum)" \
        "$(sha256sum <"$BATS_TEST_TMPDIR/value")"
    grep -q '^summary: clients_now=0 clients_total=1 ' "$SERVER_OUT"
}

@test "SIGINT with an idle client: it may stay until --drain-ms, then it is closed and the relay exits 0" {
    start_relay --drain-ms 500
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'PING\r\n' >&5
    read -r -t 5 reply <&5
    assert_equal "$reply" $'+PONG\r'
    kill -INT "$SERVER_PID"
    wait_exit "$SERVER_PID" 10
    assert_equal "$EXIT_STATUS" 0
    run timeout 5 cat <&5 # the relay closed it on the way out
    exec 5<&-
    assert_success
    assert_output ""
    grep -q '^shutdown: drain time is up; closing 1 client$' "$SERVER_OUT"
}

@test "SIGUSR1 stats count clients and bytes each way" {
    start_relay
    run nc -N 127.0.0.1 "$PORT" < <(printf 'PING\r\n') # 6 bytes in, 7 out
    run nc -N 127.0.0.1 "$PORT" < <(printf 'ECHO abc\r\n') # 10 in, 9 out
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'PING\r\n' >&5
    read -r -t 5 _ <&5
    assert_equal "$(stats)" "stats: clients_now=1 clients_total=3 rejected=0 bytes_to_redis=22 bytes_to_clients=23 upstream_errors=0"
    exec 5<&-
}

@test "a client flooding 50 MiB of commands without reading: relay RSS stays < 64 MiB, then every reply arrives" {
    start_relay
    payload=$(head -c 1000 /dev/zero | tr '\0' 'p')
    commands=52000 # 52,000 x 1,011 bytes: just over 50 MiB
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    yes "ECHO $payload"$'\r' | head -n "$commands" >"$BATS_TEST_TMPDIR/commands"
    start_bg_to 5 writer cat "$BATS_TEST_TMPDIR/commands"
    writer=$BG_PID
    # the relay now has to hold back both directions: wait until it does (our
    # side's send queue backs up, up to 30 s), then look at its memory
    local q=0
    for _ in $(seq 300); do
        q=$(ss -tnH state established "( dport = :$PORT )" | awk '{ print $2; exit }')
        [ "${q:-0}" -ge 65536 ] && break
        sleep 0.1
    done
    [ "${q:-0}" -ge 65536 ] || fail "the relay never held back the flood (send queue $q bytes)"
    assert_rss_below "$SERVER_PID" 65536
    # each reply: "$1000\r\n" + 1000 bytes + "\r\n" = 1,009 bytes
    got=$(timeout 60 head -c $((commands * 1009)) <&5 | grep -c "^$payload")
    wait_exit "$writer" 60
    assert_equal "$EXIT_STATUS" 0
    exec 5<&-
    assert_equal "$got" "$commands"
}

@test "nothing lost: 100,000 INCR from 50 connections, and ordered pipelined replies" {
    start_relay
    redis-cli -p "$REDIS_PORT" DEL counter:__rand_int__ >/dev/null
    redis-benchmark -p "$PORT" -c 50 -n 100000 -t incr -q >/dev/null 2>&1
    assert_equal "$(redis-cli -p "$REDIS_PORT" GET counter:__rand_int__)" 100000
    # one client pipelines SET t06:k{i} i, GET t06:k{i} for 10,000 i
    for i in $(seq 10000); do printf 'SET t06:k%d %d\r\nGET t06:k%d\r\n' "$i" "$i" "$i"; done >"$BATS_TEST_TMPDIR/pipeline"
    for i in $(seq 10000); do printf '+OK\r\n$%d\r\n%d\r\n' "${#i}" "$i"; done >"$BATS_TEST_TMPDIR/expected"
    nc -N 127.0.0.1 "$PORT" <"$BATS_TEST_TMPDIR/pipeline" >"$BATS_TEST_TMPDIR/got"
    cmp "$BATS_TEST_TMPDIR/expected" "$BATS_TEST_TMPDIR/got"
}

@test "1,000 concurrent clients, each doing SET and GET" {
    start_relay
    # One plain bash holds all 1,000 connections open at once (a process per
    # client would take minutes to start on a busy machine). It sends SIGUSR1
    # with all of them open, then prints a line per wrong reply.
    cat >"$BATS_TEST_TMPDIR/clients.sh" <<'SH'
fds=()
for i in $(seq 1000); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$1"
    printf 'SET t06:c%d v%d\r\nGET t06:c%d\r\n' "$i" "$i" "$i" >&"$fd"
    fds+=("$fd")
done
kill -USR1 "$2"
for i in $(seq 1000); do
    fd=${fds[i - 1]}
    read -r -t 20 ok <&"$fd"
    read -r -t 20 len <&"$fd"
    read -r -t 20 value <&"$fd"
    got="$ok $len $value"
    [ "$got" = "$(printf '+OK\r $%d\r v%d\r' $((${#i} + 1)) "$i")" ] || echo "client $i: $got"
done
SH
    run bash "$BATS_TEST_TMPDIR/clients.sh" "$PORT" "$SERVER_PID"
    assert_success
    assert_output ""
    wait_for_line "$SERVER_OUT" '^stats: clients_now=1000 clients_total=1000 '
    wait_stats 'clients_now=0 clients_total=1000 ' # every pair ended with its client
}

@test "a burst of 5,000 connections is accepted at once (listen backlog, no SYN retries)" {
    start_relay
    # a plain bash runs the loop: bats's own tracing would slow it down enough
    # to hide the problem
    run bash -c 'fds=(); start=$(date +%s%N)
        for _ in $(seq 5000); do exec {fd}<>"/dev/tcp/127.0.0.1/$1"; fds+=("$fd"); done
        echo $((($(date +%s%N) - start) / 1000000))' _ "$PORT"
    assert_success
    # A backlog too small for the burst drops SYNs, and a dropped SYN is retried
    # only after a second: then this takes several seconds. 3 s leaves room for
    # a busy machine.
    [ "$output" -lt 3000 ] || fail "5,000 connects took $output ms"
}

@test "bad command lines exit 2" {
    run "$RELAY" --redis-host redis.example
    assert_failure 2
    assert_line --index 0 "relay: --redis-host: 'redis.example' is not an IPv4 address"
    run "$RELAY" --high 10
    assert_failure 2
    run "$RELAY" --redis-port 0
    assert_failure 2
    run "$RELAY" --drain-ms soon
    assert_failure 2
    run "$RELAY" --idle-timeout 5 # gone: Redis's own timeout reaches clients now
    assert_failure 2
    run "$RELAY" --help
    assert_success
}
