#!/usr/bin/env bats
# 10_dns/dns.bats — chapter 10: our DNS server against dig (the reference
# client), hostile packets from python3, drops and delays; the resolver
# against it and against dnsmasq (a real server); connecting to a private
# Redis by name.

load ../tests/helpers

ZONE=$BATS_TEST_DIRNAME/workbook.zone

setup_file() {
    start_redis
}

setup() {
    SERVER=$(bin 10_dns/dns_server)
    RESOLVE=$(bin 10_dns/resolve)
    CONNECT=$(bin 10_dns/connect_name)
}

# start_dns [ARGS...]: dns_server on a free UDP port with the shipped zone
start_dns() { start_server dns "$SERVER" --port 0 --zone "$ZONE" "$@"; }

# q ARGS...: dig at our server, one try, one second
q() { dig @127.0.0.1 -p "$PORT" +tries=1 +time=1 "$@"; }

stats() { signal_for_line USR1 'stats: '; }

# unused_port: a port nothing uses now, below Linux's ephemeral range (free_port),
# so that no --port 0 server of a test running beside this one can take it
unused_port() { free_port; }

# start_dnsmasq ARGS...: dnsmasq on an unused port (DNSMASQ_PORT), as our own
# process, answering the ARGS' records; waits until dig gets an answer from it
start_dnsmasq() {
    for _ in 1 2 3; do
        DNSMASQ_PORT=$(unused_port)
        start_bg dnsmasq dnsmasq --no-daemon --no-resolv --no-hosts --port "$DNSMASQ_PORT" \
            --listen-address 127.0.0.1 --bind-interfaces --pid-file= --user="$(id -un)" "$@"
        for _ in $(seq 50); do
            kill -0 "$BG_PID" 2>/dev/null || break # it could not bind: try another port
            if grep -q '^dnsmasq: started' "$BG_ERR" &&
                dig @127.0.0.1 -p "$DNSMASQ_PORT" +tries=1 +time=1 +short redis.workbook.test 2>/dev/null | grep -q .; then
                return 0
            fi
            sleep 0.1
        done
    done
    fail "dnsmasq did not start; its stderr: $(cat "$BG_ERR")"
}

@test "dig: A, several A, AAAA and a CNAME chain, exactly the zone's records (any case)" {
    start_dns
    assert_equal "$(q +short redis.workbook.test)" "127.0.0.1"
    assert_equal "$(q +short web.workbook.test)" $'127.0.0.2\n127.0.0.3'
    assert_equal "$(q +short AAAA v6.workbook.test)" "::1"
    assert_equal "$(q +short REDIS.WorkBook.TEST)" "127.0.0.1"
    # the whole answer section, TTLs and the chain www -> web -> two addresses
    run q +noall +answer www.workbook.test
    assert_output "$(printf '%s\n' \
        $'www.workbook.test.\t60\tIN\tCNAME\tweb.workbook.test.' \
        $'web.workbook.test.\t60\tIN\tA\t127.0.0.2' \
        $'web.workbook.test.\t60\tIN\tA\t127.0.0.3')"
    # a name with only an A record: AAAA is NOERROR with no answer (not NXDOMAIN)
    run q AAAA redis.workbook.test
    assert_output --partial 'status: NOERROR'
    assert_output --partial 'ANSWER: 0,'
    run q redis.workbook.test
    assert_output --regexp 'flags: qr aa rd; QUERY: 1, ANSWER: 1,'
}

@test "on the wire: the query and reply bytes are exactly those of the page's picture (docs/img/10-dns-query.dot)" {
    start_dns
    run python3 - "$PORT" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
q = bytes.fromhex("abcd 0100 0001 0000 0000 0000") + b"\x05redis\x08workbook\x04test\x00" + bytes.fromhex("0001 0001")
s.sendto(q, ("127.0.0.1", int(sys.argv[1])))
r = s.recv(600)
print(len(q), len(r))
print(r.hex(" "))
PY
    assert_success
    assert_line --index 0 "37 53"
    assert_line --index 1 "ab cd 85 00 00 01 00 01 00 00 00 00 05 72 65 64 69 73 08 77 6f 72 6b 62 6f 6f 6b 04 74 65 73 74 00 00 01 00 01 c0 0c 00 01 00 01 00 00 00 3c 00 04 7f 00 00 01"
    # the picture says so too
    dot=$BATS_TEST_DIRNAME/../docs/img/10-dns-query.dot
    grep -q 'query: 37 bytes' "$dot" && grep -q 'reply: 53 bytes' "$dot" && grep -q 'c0 0c' "$dot"
}

@test "dig: NXDOMAIN for unknown names, REFUSED for other types and classes, SERVFAIL where the zone says" {
    start_dns
    run q nope.workbook.test
    assert_output --partial 'status: NXDOMAIN'
    run q MX redis.workbook.test
    assert_output --partial 'status: REFUSED'
    run q -c CH -t TXT version.bind
    assert_output --partial 'status: REFUSED'
    run q broken.workbook.test
    assert_output --partial 'status: SERVFAIL'
    assert_equal "$(stats)" "stats: queries=4 answered=0 nxdomain=1 servfail=1 refused=2 dropped=0 malformed=0 delayed_now=0 send_errors=0"
}

@test "malformed packets: never answered, each counted; the server still answers a good query" {
    start_dns
    run python3 - "$PORT" <<'PY'
import socket, struct, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.3)
head = lambda flags=0x0100, qd=1: struct.pack(">HHHHHH", 0x1234, flags, qd, 0, 0, 0)
q = b"\x05redis\x08workbook\x04test\x00" + struct.pack(">HH", 1, 1)
bad = [
    b"",                                   # empty
    b"\x12\x34\x01",                       # shorter than a header
    head(),                                # a header, no question
    head() + b"\x05redis\x08work",         # a name cut short
    head() + b"\x05redis\x00",             # a name, no type and class
    head() + b"\xc0\x0c" + b"\x00\x01\x00\x01",          # a pointer to itself
    head() + b"\xc0\x0e\xc0\x0c" + b"\x00\x01\x00\x01",  # two pointers in a loop
    head() + b"\xc0\xff" + b"\x00\x01\x00\x01",          # a pointer past the end
    head() + b"\x40abc\x00\x00\x01\x00\x01",             # a reserved label type
    head() + b"\x3f" + b"a" * 63 + (b"\x3f" + b"b" * 63) * 4 + b"\x00\x00\x01\x00\x01",  # name > 253
    head(flags=0x8100) + q,                # a response, not a query
    head(qd=2) + q + q,                    # two questions
    head() + q + b"x" * 600,               # longer than a UDP DNS message
]
for b in bad:
    s.sendto(b, ("127.0.0.1", port))
try:
    print("answered:", s.recvfrom(600))
except socket.timeout:
    print("no reply to", len(bad), "malformed packets")
s.sendto(head() + q, ("127.0.0.1", port))
reply, _ = s.recvfrom(600)
print("good query: rcode", reply[3] & 15, "answers", struct.unpack(">H", reply[6:8])[0], "address", ".".join(str(b) for b in reply[-4:]))
PY
    assert_success
    assert_line --index 0 "no reply to 13 malformed packets"
    assert_line --index 1 "good query: rcode 0 answers 1 address 127.0.0.1"
    assert_equal "$(stats)" "stats: queries=1 answered=1 nxdomain=0 servfail=0 refused=0 dropped=0 malformed=13 delayed_now=0 send_errors=0"
    kill -0 "$SERVER_PID"
}

@test "--drop 100: dig gets no answer, the query is counted as dropped" {
    start_dns --drop 100
    run q redis.workbook.test
    assert_failure
    assert_output --partial 'timed out'
    assert_equal "$(stats)" "stats: queries=1 answered=0 nxdomain=0 servfail=0 refused=0 dropped=1 malformed=0 delayed_now=0 send_errors=0"
}

@test "--delay 300: five queries at once are all answered about 300 ms later (timers, not sleeps)" {
    start_dns --delay 300
    run python3 - "$PORT" <<'PY'
import socket, struct, sys, time
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
q = b"\x05redis\x08workbook\x04test\x00" + struct.pack(">HH", 1, 1)
start = time.monotonic()
for i in range(5):
    s.sendto(struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + q, ("127.0.0.1", port))
ids = sorted(struct.unpack(">H", s.recvfrom(600)[0][:2])[0] for _ in range(5))
print("ids", ids, "elapsed_ms", int((time.monotonic() - start) * 1000))
PY
    assert_success
    [[ $output =~ ^ids\ \[0,\ 1,\ 2,\ 3,\ 4\]\ elapsed_ms\ ([0-9]+)$ ]] || fail "$output"
    ms=${BASH_REMATCH[1]}
    # one delay, not five in a row (5 x 300 = 1500)
    [ "$ms" -ge 290 ] && [ "$ms" -lt 1200 ] || fail "all five took $ms ms"
}

@test "resolve: every answer as it arrives, NXDOMAIN, and the summary; exit 0" {
    start_dns
    run "$RESOLVE" --server "127.0.0.1:$PORT" redis.workbook.test www.workbook.test \
        both.workbook.test v6.workbook.test nope.workbook.test
    assert_success
    sorted=$(sed -E 's/^ *[0-9.]+ ms  //' <<<"$output" | grep -v -e '^summary' -e '^heartbeat: ' | sort)
    assert_equal "$sorted" "$(printf '%s\n' 'both.workbook.test: 127.0.0.4 ::1' \
        'nope.workbook.test: NXDOMAIN (no such name)' 'redis.workbook.test: 127.0.0.1' \
        'v6.workbook.test: ::1' 'www.workbook.test: 127.0.0.2 127.0.0.3')"
    assert_line --regexp '^summary: mode=concurrent names=5 answers=4 nxdomain=1 failed=0 timeouts=0 wall_ms=[0-9.]+ heartbeat_worst_late_ms=[0-9.]+$'
}

@test "resolve: SERVFAIL is retried like a timeout (libevent #1790): --attempts 2 asks twice per type" {
    start_dns
    run "$RESOLVE" --server "127.0.0.1:$PORT" --attempts 2 --timeout 1 broken.workbook.test
    assert_failure 1
    assert_line --regexp 'broken.workbook.test: failed: non-recoverable failure in name resolution'
    assert_line --regexp 'failed=1 timeouts=0'
    # A and AAAA, two attempts each: four SERVFAILs sent
    assert_equal "$(stats)" "stats: queries=4 answered=0 nxdomain=0 servfail=4 refused=0 dropped=0 malformed=0 delayed_now=0 send_errors=0"
}

@test "resolve: no server there: every lookup times out, a clear error, exit 1" {
    port=$(unused_port)
    SECONDS=0
    run "$RESOLVE" --server "127.0.0.1:$port" --timeout 0.2 --attempts 2 redis.workbook.test web.workbook.test
    assert_failure 1
    [ "$SECONDS" -lt 5 ] || fail "took $SECONDS s"
    assert_line --regexp 'redis.workbook.test: no answer \(timed out after 2 attempts\)'
    assert_line --regexp 'answers=0 nxdomain=0 failed=0 timeouts=2 '
    assert_line "resolve: no answer from 127.0.0.1:$port: every lookup timed out (0.2 s x 2 attempts): is a DNS server running there?"
    # the blocking lookup sees the closed port at once (ICMP)
    run "$RESOLVE" --server "127.0.0.1:$port" --timeout 0.2 --blocking redis.workbook.test
    assert_failure 1
    assert_line --regexp 'redis.workbook.test: no answer \(port unreachable: nothing listens there\)'
}

@test "resolve: --drop 30 with 10 attempts: every one of 200 names still answered, some queries dropped" {
    start_dns --drop 30
    yes redis.workbook.test | head -n 200 >"$BATS_TEST_TMPDIR/names"
    run "$RESOLVE" --server "127.0.0.1:$PORT" --names "$BATS_TEST_TMPDIR/names" --quiet \
        --timeout 0.1 --attempts 10 --max-inflight 400
    assert_success
    assert_line --regexp '^summary: mode=concurrent names=200 answers=200 nxdomain=0 failed=0 timeouts=0 '
    [[ $(stats) =~ \ dropped=([0-9]+)\  ]] && [ "${BASH_REMATCH[1]}" -gt 20 ] || fail "$(stats)"
}

# summary_field OUTPUT NAME: the number after NAME= in the summary line
summary_field() { sed -nE "s/^summary: .* $2=([0-9]+)(\.[0-9])?( .*)?$/\1/p" <<<"$1"; }

@test "concurrent vs --serial vs --blocking, 3 names at --delay 300: wall time and the heartbeat" {
    # bounds far apart, so that a busy machine (a process not scheduled for
    # 100 ms) cannot blur them: one delay is 300 ms
    start_dns --delay 300
    names=(--server "127.0.0.1:$PORT" --quiet redis.workbook.test www.workbook.test nope.workbook.test)
    run "$RESOLVE" "${names[@]}"
    assert_success
    concurrent=$output
    run "$RESOLVE" "${names[@]}" --serial
    assert_success
    serial=$output
    run "$RESOLVE" "${names[@]}" --blocking
    assert_success
    blocking=$output
    echo "# $concurrent" "$serial" "$blocking" >&3
    # all at once: about one delay (not three); the loop stays free
    [ "$(summary_field "$concurrent" wall_ms)" -lt 800 ] || fail "$concurrent"
    [ "$(summary_field "$concurrent" heartbeat_worst_late_ms)" -lt 200 ] || fail "$concurrent"
    # one after another: three delays, but the loop still stays free
    [ "$(summary_field "$serial" wall_ms)" -ge 900 ] || fail "$serial"
    [ "$(summary_field "$serial" heartbeat_worst_late_ms)" -lt 200 ] || fail "$serial"
    # blocking in a callback: three delays, and the heartbeat waits a whole delay
    [ "$(summary_field "$blocking" wall_ms)" -ge 900 ] || fail "$blocking"
    [ "$(summary_field "$blocking" heartbeat_worst_late_ms)" -ge 270 ] || fail "$blocking"
    assert_line --regexp '^ *[0-9.]+ ms  heartbeat: [0-9.]+ ms late \(the loop was busy elsewhere\)$'
}

@test "dnsmasq as the server: resolve gets its answers (and its NXDOMAIN with --local)" {
    start_dnsmasq --local=/workbook.test/ --host-record=redis.workbook.test,127.0.0.1 \
        --host-record=v6.workbook.test,::1 --address=/web.workbook.test/127.0.0.2
    port=$DNSMASQ_PORT
    run "$RESOLVE" --server "127.0.0.1:$port" --timeout 1 redis.workbook.test v6.workbook.test \
        web.workbook.test nope.workbook.test
    assert_success
    sorted=$(sed -E 's/^ *[0-9.]+ ms  //' <<<"$output" | grep -v -e '^summary' -e '^heartbeat: ' | sort)
    assert_equal "$sorted" "$(printf '%s\n' 'nope.workbook.test: NXDOMAIN (no such name)' \
        'redis.workbook.test: 127.0.0.1' 'v6.workbook.test: ::1' 'web.workbook.test: 127.0.0.2')"
    # the same names from our server and from dnsmasq: the same addresses
    start_dns
    for name in redis.workbook.test v6.workbook.test; do
        assert_equal "$(q +short A "$name"; q +short AAAA "$name")" \
            "$(dig @127.0.0.1 -p "$port" +short A "$name"; dig @127.0.0.1 -p "$port" +short AAAA "$name")"
    done
}

@test "connect_name: PING -> PONG with a private Redis reached as redis.workbook.test" {
    start_dns --delay 300
    run "$CONNECT" --server "127.0.0.1:$PORT" --redis-port "$REDIS_PORT"
    assert_success
    assert_line --index 0 "resolving redis.workbook.test through 127.0.0.1:$PORT; the loop keeps running"
    assert_line --index 1 --regexp "^connected to redis.workbook.test at 127.0.0.1:$REDIS_PORT after [0-9.]+ ms; the loop ran [0-9]+ heartbeats meanwhile$"
    assert_line --index 2 "PING -> +PONG"
    # 300 ms of resolving: the 10 ms heartbeat kept running (about 30 times;
    # at least 5 even on a machine too busy to run us for a while)
    [[ ${lines[1]} =~ ran\ ([0-9]+)\ heartbeats ]] && [ "${BASH_REMATCH[1]}" -ge 5 ] || fail "${lines[1]}"
}

@test "connect_name: NXDOMAIN, SERVFAIL and a refused port each get a clear error, exit 1" {
    start_dns
    run "$CONNECT" --server "127.0.0.1:$PORT" --redis-port "$REDIS_PORT" --name nope.workbook.test
    assert_failure 1
    assert_line "connect_name: cannot resolve nope.workbook.test: nodename nor servname provided, or not known"
    run "$CONNECT" --server "127.0.0.1:$PORT" --redis-port "$REDIS_PORT" --name broken.workbook.test
    assert_failure 1
    assert_line "connect_name: cannot resolve broken.workbook.test: non-recoverable failure in name resolution (SERVFAIL, or no answer from the server)"
    closed=$(free_port)
    run "$CONNECT" --server "127.0.0.1:$PORT" --redis-port "$closed"
    assert_failure 1
    assert_line "connect_name: cannot connect to redis.workbook.test port $closed: Connection refused"
}

@test "bad command lines and zone files: prog: what: why, exit 2 (usage) or 1 (runtime)" {
    run "$SERVER" --nope
    assert_failure 2
    run "$SERVER" --drop 101
    assert_failure 2
    assert_output --partial 'dns_server: --drop:'
    run "$SERVER" --backend kqueue
    assert_failure 2
    assert_line --index 0 --partial "--backend: 'kqueue' is not one of epoll, poll, select"
    run "$SERVER" --port 0 --zone /nonexistent.zone
    assert_failure 1
    assert_output --regexp '^dns_server: cannot read the zone file /nonexistent.zone: No such file'
    printf 'ok.test A 10.0.0.1\nbad.test A 300.1.1.1\n' >"$BATS_TEST_TMPDIR/bad.zone"
    run "$SERVER" --port 0 --zone "$BATS_TEST_TMPDIR/bad.zone"
    assert_failure 1
    assert_output "dns_server: $BATS_TEST_TMPDIR/bad.zone:2: not an IPv4 address"
    printf 'a..test A 10.0.0.1\n' >"$BATS_TEST_TMPDIR/bad.zone"
    run "$SERVER" --port 0 --zone "$BATS_TEST_TMPDIR/bad.zone"
    assert_output "dns_server: $BATS_TEST_TMPDIR/bad.zone:1: not a valid DNS name"
    start_dns
    run "$SERVER" --port "$PORT" --zone "$ZONE"
    assert_failure 1
    assert_output --regexp "^dns_server: cannot listen on UDP 127.0.0.1:$PORT: Address already in use"
    run "$RESOLVE" redis.workbook.test
    assert_failure 2
    assert_output --partial 'resolve: --server ADDR:PORT is required'
    run "$RESOLVE" --server 127.0.0.1 redis.workbook.test
    assert_failure 2
    run "$RESOLVE" --server "127.0.0.1:$PORT" --timeout 0
    assert_failure 2
    run "$RESOLVE" --server "127.0.0.1:$PORT"
    assert_failure 2
    assert_output --partial 'no names to resolve'
    run "$CONNECT" --server nowhere
    assert_failure 2
}

@test "SIGTERM: a summary line and exit 0, with replies still waiting for --delay" {
    start_dns --delay 5000
    # one query, sent without waiting for its reply
    python3 -c 'import socket, sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(bytes.fromhex("abcd01000001000000000000") + b"\x05redis\x08workbook\x04test\x00\x00\x01\x00\x01", ("127.0.0.1", int(sys.argv[1])))' "$PORT"
    for _ in $(seq 50); do [[ $(stats) == *' delayed_now=1 '* ]] && break; sleep 0.1; done
    assert_regex "$(stats)" ' delayed_now=1 '
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    assert_equal "$EXIT_STATUS" 0
    run grep '^summary: ' "$SERVER_OUT"
    assert_output --regexp '^summary: queries=1 answered=1 .* delayed_now=1 '
}

@test "--trace shows the read event registered and dispatched; --backend poll works" {
    start_dns --trace --backend poll
    assert_equal "$(head -n 1 "$SERVER_OUT")" "backend: poll"
    assert_equal "$(q +short redis.workbook.test)" "127.0.0.1"
    wait_for_line "$SERVER_ERR" 'dispatch  fd [0-9]+  read -> on_readable'
    run grep -E 'register  fd [0-9]+  EV_READ' "$SERVER_ERR"
    assert_success
}
