#!/usr/bin/python3
"""exercises/7.4/observe.py MUX_PORT REDIS_PORT — client A keeps Redis (or
its own connection) busy through the multiplexer; meanwhile client B sends
PING through the multiplexer. Prints, per scenario, whether B's +PONG came
"before" A's reply (by half a second or more) or "after" it."""
import select
import socket
import sys
import time

mux_port, redis_port = int(sys.argv[1]), int(sys.argv[2])
SCENARIOS = {
    "a": (b"DEBUG SLEEP 2\r\n", b"+OK\r\n"),
    "b": (b"SELECT 0\r\nDEBUG SLEEP 2\r\n", b"+OK\r\n+OK\r\n"),
    "c": (b"BLPOP t74:q 3\r\n", b"*-1\r\n"),
}


def redis_is_asleep():
    try:
        s = socket.create_connection(("127.0.0.1", redis_port), timeout=0.3)
        s.sendall(b"PING\r\n")
        s.recv(100)
        return False
    except socket.timeout:
        return True


def redis_has_blocked_client():
    s = socket.create_connection(("127.0.0.1", redis_port), timeout=5)
    s.sendall(b"INFO clients\r\n")
    return b"blocked_clients:1\r\n" in s.recv(4096)


def wait_until(condition, what):
    deadline = time.monotonic() + 10
    while not condition():
        if time.monotonic() > deadline:
            sys.exit("observe.py: gave up waiting for " + what)


def run(name):
    request, reply = SCENARIOS[name]
    a = socket.create_connection(("127.0.0.1", mux_port))
    b = socket.create_connection(("127.0.0.1", mux_port))
    a.sendall(request)
    if name == "c":
        wait_until(redis_has_blocked_client, "A to block")
    else:
        wait_until(redis_is_asleep, "Redis to sleep")
    b.sendall(b"PING\r\n")
    got = {a: b"", b: b""}
    want = {a: reply, b: b"+PONG\r\n"}
    when = {}
    deadline = time.monotonic() + 15
    while len(when) < 2 and time.monotonic() < deadline:
        readable, _, _ = select.select([s for s in (a, b) if s not in when], [], [], 1)
        for s in readable:
            got[s] += s.recv(100)
            if got[s] == want[s]:
                when[s] = time.monotonic()
    if len(when) < 2:
        sys.exit("observe.py: scenario %s: replies %r" % (name, list(got.values())))
    a.close()
    b.close()
    return "before" if when[b] < when[a] - 0.5 else "after"


for name in ("a", "b", "c"):
    print("%s: %s" % (name, run(name)))
