#!/usr/bin/env bats
# exercises/10.2 — dns_server --max-delayed N: with N replies already waiting
# for --delay, a new query is answered at once with REFUSED.

load ../../tests/helpers

ZONE=$BATS_TEST_DIRNAME/../../10_dns/workbook.zone

@test "10.2: --delay 1000 --max-delayed 2: the third query is REFUSED at once, the first two answered a second later" {
    start_server dns "$(bin 10_dns/dns_server)" --port 0 --zone "$ZONE" --delay 1000 --max-delayed 2
    run python3 - "$PORT" <<'PY'
import socket, struct, sys, time
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
q = b"\x05redis\x08workbook\x04test\x00" + struct.pack(">HH", 1, 1)
start = time.monotonic()
for i in (1, 2, 3):
    s.sendto(struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + q, ("127.0.0.1", port))
    time.sleep(0.05)  # in this order
for _ in range(3):
    r = s.recv(600)
    ms = int((time.monotonic() - start) * 1000)
    print("id", struct.unpack(">H", r[:2])[0], "rcode", r[3] & 15,
          "answers", struct.unpack(">H", r[6:8])[0], "early" if ms < 500 else "late")
PY
    assert_success
    assert_line --index 0 "id 3 rcode 5 answers 0 early"
    assert_line --index 1 "id 1 rcode 0 answers 1 late"
    assert_line --index 2 "id 2 rcode 0 answers 1 late"
    run signal_for_line USR1 'stats: '
    assert_output --regexp '^stats: queries=3 answered=2 nxdomain=0 servfail=0 refused=1 dropped=0 malformed=0 delayed_now=0 '
}

@test "10.2: without --max-delayed, nothing is refused; a bad value is a usage error" {
    start_server dns "$(bin 10_dns/dns_server)" --port 0 --zone "$ZONE" --delay 200
    digs=()
    for _ in 1 2 3 4; do
        dig @127.0.0.1 -p "$PORT" +tries=1 +time=2 +short redis.workbook.test >/dev/null &
        digs+=($!)
    done
    wait "${digs[@]}"
    run signal_for_line USR1 'stats: '
    assert_output --regexp '^stats: queries=4 answered=4 .* refused=0 '
    run "$(bin 10_dns/dns_server)" --port 0 --zone "$ZONE" --max-delayed 0
    assert_failure 2
    assert_output --partial 'dns_server: --max-delayed'
}
