#!/usr/bin/env bats
# 07_redis_multiplexer/differential.bats — chapter 7 against Redis itself: a
# corpus of requests (differential.corpus) replayed straight to a private
# Redis and through the multiplexer, every reply compared byte for byte and
# the connection's fate too; a reply nested deeper than hiredis 0.14.1 reads
# beside another client's pipelined PINGs; and an interactive redis-cli
# (which sends COMMAND DOCS when it starts) doing docs/07's MULTI/INCR/EXEC.

load ../tests/helpers

setup_file() {
    start_redis
}

setup() {
    MUX=$(bin 07_redis_multiplexer/mux)
    DIFF="$BATS_TEST_DIRNAME/differential.py"
    start_server mux "$MUX" --port 0 --redis-port "$REDIS_PORT"
    wait_for_line "$SERVER_OUT" '^upstream 1: connected to Redis$'
}

# no_upstream_trouble: the shared connection never failed (its log would say
# "upstream 1: <why>; N requests in flight answered with -ERR upstream unavailable")
no_upstream_trouble() {
    if grep -E '^(mux: )?upstream [0-9]+: .*(unavailable|bad reply)' "$SERVER_OUT" "$SERVER_ERR"; then
        fail "the shared connection failed"
    fi
}

@test "differential: the corpus straight to Redis and through the multiplexer, reply for reply, byte for byte" {
    run /usr/bin/python3 "$DIFF" "$REDIS_PORT" "$PORT" "$BATS_TEST_DIRNAME/differential.corpus"
    echo "$output"
    assert_success
    assert_output --regexp '^differential: [0-9]+ cases \([0-9]+ in the corpus\), [0-9]+ replies from Redis, [0-9]+ bystander ECHOs: all identical$'
    no_upstream_trouble
}

@test "COMMAND DOCS (8 deep) beside 2,000 pipelined PINGs: both clients get exactly Redis's replies" {
    run /usr/bin/python3 "$DIFF" "$REDIS_PORT" "$PORT" --deep-beside-pings 10
    assert_success
    assert_output --regexp '^deep beside pings: 10 rounds, COMMAND DOCS \([0-9]+ bytes\) identical, 2000 PONGs each$'
    no_upstream_trouble
}

# docs_calls: how often this file's Redis has run COMMAND DOCS
docs_calls() {
    redis-cli -p "$REDIS_PORT" INFO commandstats | sed -n 's/^cmdstat_command|docs:calls=\([0-9]*\),.*/\1/p'
}

@test "interactive redis-cli through the multiplexer: MULTI, INCR, EXEC as in docs/07; no upstream error" {
    redis-cli -p "$REDIS_PORT" DEL t07d:n >/dev/null
    before=$(docs_calls)
    # TERM=dumb: redis-cli's line editor then asks the terminal nothing (no
    # cursor-position query for expect to answer); it still sends COMMAND DOCS
    TERM=dumb run timeout 60 expect -c "
        set timeout 20
        spawn redis-cli -p $PORT
        expect -re {> $}
        send \"MULTI\r\"
        expect \"OK\"
        send \"INCR t07d:n\r\"
        expect \"QUEUED\"
        send \"EXEC\r\"
        expect -re {1\\) \\(integer\\) 1}
        send \"GET t07d:n\r\"
        expect -re {\"1\"}
        send \"quit\r\"
        expect eof
        catch wait result
        exit [lindex \$result 3]"
    echo "$output"
    assert_success
    assert_output --partial 'QUEUED'
    # redis-cli asked for COMMAND DOCS on starting (its hints), through us
    [ "${before:-0}" -lt "$(docs_calls)" ] || fail "redis-cli did not send COMMAND DOCS"
    grep -q 'MULTI needs a connection of its own: pinned' "$SERVER_OUT"
    no_upstream_trouble
}
