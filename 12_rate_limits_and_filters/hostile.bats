#!/usr/bin/env bats
# 12_rate_limits_and_filters/hostile.bats — chapter 12's servers against hostile
# or clumsy peers (the behaviours tests/bad_input*.bats asks of every server):
# garbage, a huge line, a client that sends but never reads, connect/close
# churn, running out of descriptors (EMFILE). Each ends with a normal client
# served as before.

load ../tests/helpers

setup() {
    SHAPER=$(bin 12_rate_limits_and_filters/shaper)
    FILTER=$(bin 12_rate_limits_and_filters/filter_demo)
}

# probe_filter / probe_shaper: a normal client gets its normal answer
probe_filter() {
    run timeout 5 bash -c "printf 'probe\n' | nc -N 127.0.0.1 $PORT"
    assert_output "$(printf '     1\tprobe')"
}
probe_shaper() {
    run timeout 5 bash -c "nc 127.0.0.1 $PORT | head -c 16"
    assert_output "0123456789abcdef"
}

# churn N: N connect/close cycles from this shell; the server's fds come back
churn() {
    local before i fd
    before=$(fd_count "$SERVER_PID")
    for ((i = 0; i < $1; i++)); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" || fail "connect $i failed"
        exec {fd}>&-
    done
    local deadline=$((SECONDS + 20))
    while [ "$(fd_count "$SERVER_PID")" -gt "$before" ] && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 0.1
    done
    assert_equal "$(fd_count "$SERVER_PID")" "$before"
}

@test "filter_demo: 1 MB of garbage and a 10 MB line without newline: numbered in 64 KiB pieces, memory bounded, still serving" {
    start_server filter "$FILTER" --port 0
    head -c 1048576 /dev/urandom | timeout 20 nc -N 127.0.0.1 "$PORT" >/dev/null
    head -c 10485760 /dev/zero | tr '\0' 'x' | timeout 20 nc -N 127.0.0.1 "$PORT" >"$BATS_TEST_TMPDIR/out"
    # 160 pieces of 65536 bytes, each numbered and ended with a newline
    assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/out")" 160
    assert_equal "$(head -c 7 "$BATS_TEST_TMPDIR/out")" "$(printf '     1\t')"
    assert_rss_below "$SERVER_PID" 40000
    probe_filter
}

@test "filter_demo: a client that sends 20 MB and never reads is paused (bounded memory); others are served meanwhile" {
    start_server filter "$FILTER" --port 0
    yes "$(printf 'y%.0s' $(seq 999))" | head -c 20971520 >"$BATS_TEST_TMPDIR/lines"
    start_bg hog python3 "$BATS_TEST_DIRNAME/never_reads.py" "$PORT" "$BATS_TEST_TMPDIR/lines"
    # the server stopped reading it: bytes wait in the kernel on the server's side
    local queued=0
    for _ in $(seq 200); do
        queued=$(ss -tnH state established "( sport = :$PORT )" | awk '{ print $1 }' | sort -n | tail -n 1)
        [ "${queued:-0}" -gt 0 ] && break
        sleep 0.1
    done
    [ "${queued:-0}" -gt 0 ] || fail "the server never stopped reading the client that does not read"
    assert_rss_below "$SERVER_PID" 40000
    probe_filter
}

@test "filter_demo and shaper: 300 connect/close cycles leak no descriptor" {
    start_server filter "$FILTER" --port 0
    probe_filter
    churn 300
    start_server shaper "$SHAPER" --port 0 --rate 65536
    probe_shaper
    churn 300
}

@test "shaper: ulimit -n 64 and 100 clients: EMFILE logged, no spin, serving again once they leave" {
    start_server shaper bash -c 'ulimit -n 64 && exec "$@"' _ "$SHAPER" --port 0 --rate 1024
    local hogs=() fd
    for _ in $(seq 100); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
        hogs+=("$fd")
    done
    wait_for_line "$SERVER_ERR" 'Too many open files' 10
    before=$(cpu_ticks "$SERVER_PID")
    sleep 1
    after=$(cpu_ticks "$SERVER_PID")
    for fd in "${hogs[@]}"; do exec {fd}<&-; done
    [ $((after - before)) -lt 30 ] || fail "shaper used $((after - before)) ticks in 1 s"
    local deadline=$((SECONDS + 20))
    until timeout 5 bash -c "nc 127.0.0.1 $PORT | head -c 16" 2>/dev/null | grep -qx 0123456789abcdef; do
        [ "$SECONDS" -lt "$deadline" ] || fail "not serving again"
        sleep 0.2
    done
}

@test "both servers: --trace shows register/detect/dispatch, --backend select serves, SIGUSR2 dumps, a bad --backend exits 2" {
    start_server shaper "$SHAPER" --port 0 --rate 65536 --trace --backend select
    assert_equal "$(head -n 1 "$SERVER_OUT")" "backend: select"
    probe_shaper
    wait_for_line "$SERVER_ERR" 'dispatch +fd [0-9]+ +accept -> on_accept'
    wait_for_line "$SERVER_ERR" 'dispatch +fd [0-9]+ +event -> on_event'
    kill -USR2 "$SERVER_PID"
    wait_for_line "$SERVER_ERR" '^  \[sig 12\] Signal Persist' 5
    start_server filter "$FILTER" --port 0 --backend select
    assert_equal "$(head -n 1 "$SERVER_OUT")" "backend: select"
    probe_filter
    for prog in "$SHAPER" "$FILTER"; do
        run "$prog" --port 0 --backend kqueue
        assert_failure 2
        assert_output --partial "--backend: 'kqueue' is not one of"
    done
}
