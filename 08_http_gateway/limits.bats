#!/usr/bin/env bats
# 08_http_gateway/limits.bats — chapter 8, the gateway under pressure, against a
# private, real Redis: a subscriber that never reads (the memory bound, the
# write timeout), Redis going away and coming back, --docs and its path
# escapes, the header/body/slowloris/connection limits, a client leaving while
# its request waits, --trace, bad flags. (gateway.bats has webdis as the
# reference; the two files run in parallel.)

load ../tests/helpers

setup_file() {
    start_redis
}

setup() {
    GATEWAY=$(bin 08_http_gateway/http_gateway)
}

rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

# publish_many CHANNEL BYTES COUNT PORT: COUNT messages of BYTES bytes, pipelined
publish_many() {
    local msg
    msg=$(head -c "$2" /dev/zero | tr '\0' m)
    for _ in $(seq "$3"); do
        printf '*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n' "${#1}" "$1" "$2" "$msg"
    done >"$BATS_TEST_TMPDIR/publish.resp"
    redis-cli -p "$4" --pipe <"$BATS_TEST_TMPDIR/publish.resp" >/dev/null
}

@test "a subscriber that never reads: the gateway pauses its Redis side, memory stays bounded" {
    start_server gw2 "$GATEWAY" --port 0 --redis-port "$REDIS_PORT" --sub-buffer 65536
    start_bg stalled python3 "$BATS_TEST_DIRNAME/clients.py" stalled "$PORT" /SUBSCRIBE/t08:flood 60
    for _ in $(seq 100); do
        [ "$(rcli pubsub numsub t08:flood | tail -n 1)" -ge 1 ] && break
        sleep 0.05
    done
    # 16 MiB of messages, 16 KiB each, for a client that reads nothing
    publish_many t08:flood 16384 1024 "$REDIS_PORT"
    # Redis has taken every PUBLISH; the gateway may still be reading them (an ASan
    # build is slower): wait for the pause, up to 10 s, rather than read one snapshot
    for _ in $(seq 100); do
        line=$(signal_for_line USR1 'stats: ')
        [[ $line =~ sub_paused=[1-9] ]] && break
        sleep 0.1
    done
    echo "# $line" >&3
    [[ $line =~ sub_paused=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge 1 ] || fail "never paused: $line"
    [[ $line =~ sub_max_buffered=([0-9]+) ]] || fail "$line"
    # at most --sub-buffer plus the one message that crossed it
    [ "${BASH_REMATCH[1]}" -le $((65536 + 16384 + 200)) ] || fail "buffered ${BASH_REMATCH[1]} bytes"
    assert_rss_below "$SERVER_PID" 30000
}

@test "a subscriber that never reads is cut by the write timeout; its stream and Redis connection go" {
    start_server gw3 "$GATEWAY" --port 0 --redis-port "$REDIS_PORT" --sub-buffer 16384 --idle-timeout 1
    start_bg stalled python3 "$BATS_TEST_DIRNAME/clients.py" stalled "$PORT" /SUBSCRIBE/t08:cut 60
    for _ in $(seq 100); do
        [ "$(rcli pubsub numsub t08:cut | tail -n 1)" -ge 1 ] && break
        sleep 0.05
    done
    publish_many t08:cut 262144 40 "$REDIS_PORT"
    for _ in $(seq 100); do
        line=$(signal_for_line USR1 'stats: ')
        [[ $line =~ streams_now=0 ]] && break
        sleep 0.1
    done
    [[ $line =~ streams_now=0 ]] || fail "the stream is still open: $line"
    [[ $line =~ sub_paused=[1-9] ]] || fail "it never paused: $line"
    for _ in $(seq 50); do
        [ "$(rcli pubsub numsub t08:cut | tail -n 1)" -eq 0 ] && break
        sleep 0.05
    done
    assert_equal "$(rcli pubsub numsub t08:cut | tail -n 1)" 0
}

@test "Redis down: 503 at once; back up: the gateway reconnects by itself" {
    start_redis
    local rport=$REDIS_PORT
    start_server gw4 "$GATEWAY" --port 0 --redis-port "$rport" --redis-links 1
    wait_for_line "$SERVER_OUT" 'redis link 0: connected'
    run curl -s "http://127.0.0.1:$PORT/PING"
    assert_output '{"PING":[true,"PONG"]}'
    kill "$REDIS_PID"
    wait_for_line "$SERVER_OUT" 'redis link 0: down'
    run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/PING"
    assert_output 503
    spawn_redis "$rport" "$(mktemp -d "$BATS_TEST_TMPDIR/r.XXXXXX")"
    echo "$REDIS_PID" >>"$BATS_TEST_TMPDIR/wb_pids"
    for _ in $(seq 100); do
        [ "$(count_lines "$SERVER_OUT" 'redis link 0: connected')" -ge 2 ] && break
        sleep 0.05
    done
    run curl -s "http://127.0.0.1:$PORT/PING"
    assert_output '{"PING":[true,"PONG"]}'
}

@test "--docs: files with Content-Type and Length, HEAD, 304, 404, no way out of DIR, no symlink followed" {
    docs=$BATS_TEST_TMPDIR/site
    mkdir -p "$docs/sub" "$BATS_TEST_TMPDIR/secret"
    head -c 1048576 /dev/urandom >"$docs/big.bin"
    echo '<h1>hi</h1>' >"$docs/sub/index.html"
    echo secret >"$BATS_TEST_TMPDIR/secret/s.txt"
    ln -s "$BATS_TEST_TMPDIR/secret" "$docs/out"
    ln -s big.bin "$docs/alias.bin" # inside DIR, but a symlink is never followed
    mkfifo "$docs/pipe.txt"          # opening a FIFO for reading would block the loop
    start_server gw5 "$GATEWAY" --port 0 --redis-port "$REDIS_PORT" --docs "$docs"
    u=http://127.0.0.1:$PORT
    curl -s -o "$BATS_TEST_TMPDIR/got" "$u/docs/big.bin"
    cmp "$docs/big.bin" "$BATS_TEST_TMPDIR/got"
    run curl -s -D - -o /dev/null "$u/docs/sub/"
    assert_output --partial "Content-Type: text/html; charset=utf-8"
    assert_output --partial "Content-Length: 12"
    run curl -s -I "$u/docs/big.bin"
    assert_output --partial "HTTP/1.1 200 OK"
    assert_output --partial "Content-Length: 1048576"
    lm=$(curl -s -I "$u/docs/big.bin" | tr -d '\r' | sed -n 's/^Last-Modified: //p')
    run curl -s -o /dev/null -w '%{http_code}' -H "If-Modified-Since: $lm" "$u/docs/big.bin"
    assert_output 304
    for bad in /docs/nope.html /docs/../gateway.bats /docs/%2e%2e/secret/s.txt \
        /docs/sub/%2E%2E/%2e%2e/secret/s.txt /docs/out/s.txt /docs/sub%2f..%2f..%2fsecret/s.txt \
        /docs/alias.bin /docs/pipe.txt; do
        run curl -s -m 5 --path-as-is -o /dev/null -w '%{http_code}' "$u$bad"
        assert_output 404
    done
    run curl -s --path-as-is "$u/docs/out/s.txt"
    refute_output --partial secret
}

@test "--docs: a small file is served from memory until it changes on disk" {
    docs=$BATS_TEST_TMPDIR/site
    mkdir -p "$docs/sub"
    echo one >"$docs/a.txt"
    echo '<h1>hi</h1>' >"$docs/sub/index.html"
    start_server gw11 "$GATEWAY" --port 0 --redis-port 0 --docs "$docs"
    u=http://127.0.0.1:$PORT
    for _ in 1 2 3; do
        run curl -s "$u/docs/a.txt"
        assert_output one
    done
    run signal_for_line USR1 'stats: '
    assert_output --partial "file_hits=2" # the first read it from disk
    echo two >"$docs/a.txt.new"
    mv "$docs/a.txt.new" "$docs/a.txt" # another file (inode) at the same path
    run curl -s "$u/docs/a.txt"
    assert_output two
    printf 'six!\n' >"$docs/a.txt" # the same inode, same size
    touch -d '2001-02-03 04:05:06 UTC' "$docs/a.txt"
    run curl -s -D - "$u/docs/a.txt"
    assert_output --partial 'Last-Modified: Sat, 03 Feb 2001 04:05:06 GMT'
    assert_output --partial 'six!'
    run curl -s -I "$u/docs/a.txt"
    assert_output --partial "Content-Length: 5"
    # a directory's index is not cached under the directory's name
    for _ in 1 2; do curl -s -o /dev/null "$u/docs/sub/"; done
    run signal_for_line USR1 'stats: '
    assert_output --partial "file_hits=3" # the HEAD
}

@test "--docs-prefix / --redis-port 0 (make serve-docs): the whole site at /, no Redis needed, a command gets 503" {
    docs=$BATS_TEST_TMPDIR/site
    mkdir -p "$docs/docs"
    echo '<h1>front</h1>' >"$docs/index.html"
    echo 'body { }' >"$docs/docs/a.css"
    start_server gw10 "$GATEWAY" --port 0 --redis-port 0 --docs "$docs" --docs-prefix /
    u=http://127.0.0.1:$PORT
    run curl -s -o "$BATS_TEST_TMPDIR/got" -w '%{http_code} %{content_type}' "$u/"
    assert_output '200 text/html; charset=utf-8'
    cmp "$docs/index.html" "$BATS_TEST_TMPDIR/got"
    run curl -s -o /dev/null -w '%{http_code} %{content_type}' "$u/docs/a.css"
    assert_output '200 text/css'
    run curl -s --path-as-is -o /dev/null -w '%{http_code}' "$u/%2e%2e/limits.bats"
    assert_output 404
    run curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary v "$u/SET/t08:nored"
    assert_output 503
    grep -q 'redis at 127.0.0.1:0, 0 shared links; docs from' "$SERVER_OUT"
    run "$GATEWAY" --docs "$docs" --docs-prefix docs
    assert_failure 2
    assert_output --partial "--docs-prefix 'docs': must start and end with '/'"
}

@test "limits: a body past --max-body-bytes gets 413, a head past --max-header-bytes 400" {
    start_server gw6 "$GATEWAY" --port 0 --redis-port "$REDIS_PORT" --max-body-bytes 1000 \
        --max-header-bytes 1024
    run curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary "$(head -c 2000 /dev/zero | tr '\0' a)" \
        "http://127.0.0.1:$PORT/SET/t08:big"
    assert_output 413
    run curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 2000 /dev/zero | tr '\0' a)" \
        "http://127.0.0.1:$PORT/PING"
    assert_output 400
    run curl -s -X PUT --data-binary small "http://127.0.0.1:$PORT/SET/t08:big"
    assert_output '{"SET":[true,"OK"]}'
}

@test "slowloris: a head sent a byte at a time is cut at --header-timeout" {
    start_server gw7 "$GATEWAY" --port 0 --redis-port "$REDIS_PORT" --header-timeout 500 \
        --idle-timeout 30
    run timeout 20 python3 "$BATS_TEST_DIRNAME/clients.py" slowloris "$PORT" 100
    assert_success
    [[ $output =~ closed\ after\ ([0-9]+)\ bytes ]] || fail "$output"
    [ "${BASH_REMATCH[1]}" -lt 400 ] || fail "the whole head went in: $output"
    run signal_for_line USR1 'stats: '
    assert_output --partial "slow_cut=1"
}

@test "--max-conns 2: a third connection waits in the backlog until one leaves" {
    start_server gw8 "$GATEWAY" --port 0 --redis-port "$REDIS_PORT" --max-conns 2
    exec 7<>"/dev/tcp/127.0.0.1/$PORT" 8<>"/dev/tcp/127.0.0.1/$PORT"
    for _ in $(seq 50); do
        [[ $(signal_for_line USR1 'stats: ') =~ conns_now=2 ]] && break
        sleep 0.05
    done
    run curl -s -m 0.5 "http://127.0.0.1:$PORT/PING"
    assert_failure 28 # timed out: connected (the backlog) but never served
    exec 7>&-
    run curl -s -m 5 "http://127.0.0.1:$PORT/PING"
    assert_output '{"PING":[true,"PONG"]}'
    exec 8>&-
}

@test "bad flags: exit 2 with a message; SIGTERM: summary and exit 0" {
    run "$GATEWAY" --redis-links 0
    assert_failure 2
    assert_output --partial "--redis-links"
    run "$GATEWAY" --nope
    assert_failure 2
    run "$GATEWAY" --port 0 --backend nope
    assert_failure 2
    start_server gw9 "$GATEWAY" --port 0 --redis-port "$REDIS_PORT"
    curl -s "http://127.0.0.1:$PORT/PING" >/dev/null
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    assert_equal "$EXIT_STATUS" 0
    grep -q '^summary: requests=1 ' "$SERVER_OUT"
}

@test "a taken port: the reason on stderr and exit 1 (it used to crash closing the half-made gateway)" {
    run "$GATEWAY" --port "$REDIS_PORT" --redis-port "$REDIS_PORT"
    assert_failure 1
    assert_output "http_gateway: cannot listen on 127.0.0.1:$REDIS_PORT: Address already in use"
}

@test "a client that leaves while its request waits for Redis: the late reply is dropped, nothing breaks" {
    start_server gw10 "$GATEWAY" --port 0 --redis-port "$REDIS_PORT"
    wait_for_line "$SERVER_OUT" 'redis link 1: connected'
    rcli client pause 800 all >/dev/null # Redis answers nobody for 0.8 s
    run curl -s -m 0.2 "http://127.0.0.1:$PORT/PING"
    assert_failure 28 # gave up: its request is still in a link's FIFO
    rcli ping >/dev/null # returns when the pause is over; the late reply finds its request detached
    run curl -s "http://127.0.0.1:$PORT/PING"
    assert_output '{"PING":[true,"PONG"]}'
    for _ in $(seq 50); do
        [[ $(signal_for_line USR1 'stats: ') =~ requests=2\ .*conns_now=0 ]] && break
        sleep 0.1
    done
    run signal_for_line USR1 'stats: '
    assert_output --regexp '^stats: requests=2 denied=0 replies_503=0 conns_now=0 conns_total=2 '
}

@test "--trace: register, detect and dispatch lines on stderr; --backend poll is used" {
    start_server gw11 "$GATEWAY" --port 0 --redis-port "$REDIS_PORT" --trace --backend poll
    curl -s "http://127.0.0.1:$PORT/PING" >/dev/null
    grep -q '^backend: poll$' "$SERVER_OUT"
    wait_for_line "$SERVER_ERR" 'dispatch +fd [0-9]+ +read -> on_link_read'
    grep -qE 'register +fd [0-9]+' "$SERVER_ERR"
    grep -qE 'detect ' "$SERVER_ERR"
}
