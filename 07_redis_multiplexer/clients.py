#!/usr/bin/python3
"""07_redis_multiplexer/clients.py — real Redis clients for mux.bats.

Run with Debian's /usr/bin/python3 (python3-redis). Each subcommand drives
the multiplexer on PORT, checks what came back, prints one summary line and
exits 0, or prints what went wrong and exits 1.

  clients.py PORT pipeline       10,000 SET/GET in one redis-py pipeline
  clients.py PORT watch          MULTI/EXEC, and a WATCH abort
  clients.py PORT pubsub         SUBSCRIBE, PUBLISH from another client
  clients.py PORT blpop          BLPOP woken by another client's RPUSH
  clients.py PORT binary FILE    SET/GET of FILE's bytes: prints their sha256
  clients.py PORT threads        20 threads x 500 INCR: exact total
  clients.py PORT many N K       N raw connections at once, K INCR + own SET/GET each
  clients.py PORT load STOPFILE  request/response INCR until STOPFILE exists
"""
import hashlib
import os
import socket
import sys
import threading
import time

import redis


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def pipeline(r):
    p = r.pipeline(transaction=False)
    for i in range(5000):
        p.set("t07:p%d" % i, "v%d" % i)
        p.get("t07:p%d" % i)
    got = p.execute()
    want = []
    for i in range(5000):
        want += [True, ("v%d" % i).encode()]
    if got != want:
        fail("pipeline replies differ")
    print("pipeline: %d replies in order" % len(got))


def watch(r, port):
    r.set("t07:w", 1)
    with r.pipeline() as p:  # MULTI ... EXEC
        p.incr("t07:w").incr("t07:w")
        if p.execute() != [2, 3]:
            fail("MULTI/EXEC")
    other = redis.Redis(port=port)
    with r.pipeline() as p:
        p.watch("t07:w")
        p.multi()
        p.incr("t07:w")
        other.set("t07:w", 100)  # touches the watched key: EXEC must abort
        try:
            p.execute()
            fail("EXEC was not aborted")
        except redis.WatchError:
            pass
    if r.get("t07:w") != b"100":
        fail("value after the aborted EXEC: %r" % r.get("t07:w"))
    print("watch: EXEC ran, then aborted by WATCH")


def pubsub(r, port):
    ps = r.pubsub()
    ps.subscribe("t07:chan")
    first = ps.get_message(timeout=5)
    if not first or first["type"] != "subscribe":
        fail("no subscribe confirmation: %r" % first)
    publisher = redis.Redis(port=port)
    for i in range(3):
        if publisher.publish("t07:chan", "m%d" % i) != 1:
            fail("PUBLISH reached no subscriber")
    for i in range(3):
        msg = ps.get_message(timeout=5)
        if not msg or msg["data"] != ("m%d" % i).encode():
            fail("message %d: %r" % (i, msg))
    ps.close()
    print("pubsub: 3 messages")


def blpop(r, port):
    r.delete("t07:q")
    got = []
    waiter = threading.Thread(target=lambda: got.append(redis.Redis(port=port).blpop("t07:q", 10)))
    waiter.start()
    deadline = time.time() + 10
    while time.time() < deadline:  # wait until the BLPOP is parked in Redis
        blocked = [c for c in r.client_list() if c.get("cmd") == "blpop"]
        if blocked:
            break
        time.sleep(0.05)
    r.rpush("t07:q", "hello")
    waiter.join(15)
    if got != [(b"t07:q", b"hello")]:
        fail("BLPOP got %r" % got)
    print("blpop: woken by RPUSH")


def binary(r, path):
    data = open(path, "rb").read()
    r.set("t07:bin", data)
    back = r.get("t07:bin")
    print(hashlib.sha256(back).hexdigest())


def threads(port):
    r = redis.Redis(port=port)
    r.delete("t07:t")
    errors = []

    def work():
        try:
            c = redis.Redis(port=port)
            for _ in range(500):
                c.incr("t07:t")
        except Exception as e:  # noqa: BLE001 - report any failure
            errors.append(e)

    ts = [threading.Thread(target=work) for _ in range(20)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        fail("thread errors: %r" % errors[:3])
    total = int(r.get("t07:t"))
    if total != 10000:
        fail("INCR total %d, want 10000" % total)
    print("threads: 20 x 500 INCR = %d" % total)


def read_replies(sock, count, buf=b""):
    """Read count single-line or bulk replies; returns (list, leftover)."""
    out = []
    while len(out) < count:
        while b"\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                fail("connection closed after %d replies" % len(out))
            buf += chunk
        line, rest = buf.split(b"\r\n", 1)
        if line.startswith(b"$") and line != b"$-1":
            n = int(line[1:])
            while len(rest) < n + 2:
                chunk = sock.recv(65536)
                if not chunk:
                    fail("connection closed inside a bulk reply")
                rest += chunk
            out.append(rest[:n])
            buf = rest[n + 2:]
        else:
            out.append(line)
            buf = rest
    return out, buf


def many(port, n, k):
    """n connections open at once; each pipelines k INCR and a SET/GET of a
    value only it knows; every reply must be its own."""
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
    tag = os.urandom(4).hex()
    for i, s in enumerate(socks):
        val = "%s-client-%d" % (tag, i)
        req = b"*2\r\n$4\r\nINCR\r\n$9\r\nt07:total\r\n" * k
        req += ("SET t07:own%d %s\r\nGET t07:own%d\r\n" % (i, val, i)).encode()
        s.sendall(req)
    crossed = 0
    for i, s in enumerate(socks):
        replies, _ = read_replies(s, k + 2)
        if not all(r.startswith(b":") for r in replies[:k]):
            fail("client %d: not integers: %r" % (i, replies[:3]))
        if replies[k:] != [b"+OK", ("%s-client-%d" % (tag, i)).encode()]:
            crossed += 1
        s.close()
    if crossed:
        fail("%d clients got someone else's replies" % crossed)
    print("many: %d clients x %d INCR, own values all back" % (n, k))


def load(port, stopfile):
    """One INCR at a time until stopfile exists; every reply must be an
    integer or the unavailable error. Prints ok/errors/ok_after_errors."""
    s = socket.create_connection(("127.0.0.1", port))
    ok = errors = ok_after = 0
    buf = b""
    while not os.path.exists(stopfile):
        s.sendall(b"INCR t07:load\r\n")
        (reply,), buf = read_replies(s, 1, buf)
        if reply.startswith(b":"):
            ok += 1
            ok_after += 1 if errors else 0
        elif reply == b"-ERR upstream unavailable":
            errors += 1
        else:
            fail("unexpected reply %r" % reply)
        time.sleep(0.002)
    print("load: ok=%d errors=%d ok_after_errors=%d" % (ok, errors, ok_after))


def main():
    port, what = int(sys.argv[1]), sys.argv[2]
    r = redis.Redis(port=port, socket_timeout=30)
    if what == "pipeline":
        pipeline(r)
    elif what == "watch":
        watch(r, port)
    elif what == "pubsub":
        pubsub(r, port)
    elif what == "blpop":
        blpop(r, port)
    elif what == "binary":
        binary(r, sys.argv[3])
    elif what == "threads":
        threads(port)
    elif what == "many":
        many(port, int(sys.argv[3]), int(sys.argv[4]))
    elif what == "load":
        load(port, sys.argv[3])
    else:
        fail("unknown subcommand " + what)


if __name__ == "__main__":
    main()
