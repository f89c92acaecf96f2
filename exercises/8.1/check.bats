#!/usr/bin/env bats
# exercises/8.1 — ?jsonp=NAME / ?callback=NAME wraps the JSON reply as webdis
# does; the same requests go to webdis itself and must come back the same.

load ../../tests/helpers

setup_file() {
    start_redis
    WEBDIS_PORT=$(free_port)
    cat >"$BATS_FILE_TMPDIR/webdis.json" <<JSON
{"redis_host": "127.0.0.1", "redis_port": $REDIS_PORT, "http_host": "127.0.0.1",
 "http_port": $WEBDIS_PORT, "threads": 1, "pool_size": 1, "daemonize": false,
 "database": 0, "verbosity": 0, "logfile": "$BATS_FILE_TMPDIR/webdis.log"}
JSON
    start_bg webdis webdis "$BATS_FILE_TMPDIR/webdis.json"
    wait_listening "$WEBDIS_PORT"
    export WEBDIS_PORT
}

# both PATH: "status content-type etag body" from webdis and from the gateway, equal
both() {
    local w g
    w=$(curl -s -D - "http://127.0.0.1:$WEBDIS_PORT$1" | tr -d '\r' | grep -E '^(HTTP|Content-Type|ETag)|^[^A-Z]')
    g=$(curl -s -D - "http://127.0.0.1:$PORT$1" | tr -d '\r' | grep -E '^(HTTP|Content-Type|ETag)|^[^A-Z]')
    [ "$w" = "$g" ] || fail "$1: webdis says
$w
the gateway says
$g"
}

@test "8.1: ?jsonp= and ?callback= wrap JSON replies as webdis does" {
    start_server gateway "$(bin 08_http_gateway/http_gateway)" --port 0 --redis-port "$REDIS_PORT"
    wait_for_line "$SERVER_OUT" 'redis link 1: connected'
    redis-cli -p "$REDIS_PORT" set t81:k 'v"w' >/dev/null
    both '/GET/t81:k?jsonp=show'
    both '/GET/t81:k?callback=cb'
    both '/GET/t81:none?x=1&jsonp=f'
    both '/INCR/t81:k?jsonp=f'
    both '/GET/t81:k.txt?jsonp=f'
    both '/GET/t81:k'
    run curl -s "http://127.0.0.1:$PORT/GET/t81:k?jsonp=show"
    assert_output 'show({"GET":"v\"w"});'
}
