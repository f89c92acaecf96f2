#!/usr/bin/python3
"""11_threads/pinger.py — how long does a cheap request wait while slow ones run?

A client for offload: SLOW_CONNS connections each send the slow request
(--slow, e.g. "HASH 50000000" or "SLEEP 1000") and send it again whenever its
reply arrives (once, with --once); after --delay ms, one more connection sends PINGs one at a
time (--pings of them, --interval ms apart) and times each PONG. When the
pings are done it prints, and closes everything (slow jobs still running are
abandoned: the server must cope with that).

    pings 50: p50 0.081 ms  p99 0.204 ms  max 0.204 ms
    slow replies 0 (in 0.62 s)

Run it:  11_threads/pinger.py --port 8013 --slow 'HASH 50000000' --slow-conns 2
"""
import argparse
import selectors
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--slow", default="HASH 50000000")
    ap.add_argument("--slow-conns", type=int, default=0)
    ap.add_argument("--once", action="store_true",
                    help="send the slow request once per connection, not again")
    ap.add_argument("--pings", type=int, default=50)
    ap.add_argument("--interval", type=float, default=10.0, help="ms between pings")
    ap.add_argument("--delay", type=float, default=100.0, help="ms before the first ping")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds for the whole run")
    a = ap.parse_args()

    start = time.monotonic()
    deadline = start + a.timeout
    sel = selectors.DefaultSelector()
    slow_line = (a.slow + "\n").encode()
    slow_replies = 0
    for _ in range(a.slow_conns):
        s = socket.create_connection(("127.0.0.1", a.port))
        s.sendall(slow_line)
        sel.register(s, selectors.EVENT_READ, bytearray())
    ping = socket.create_connection(("127.0.0.1", a.port))
    ping.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sel.register(ping, selectors.EVENT_READ, bytearray())

    latencies = []
    next_ping = start + a.delay / 1000
    sent_at = None
    while len(latencies) < a.pings:
        now = time.monotonic()
        if now > deadline:
            sys.exit("pinger: timed out after %.0f s with %d pings answered"
                     % (a.timeout, len(latencies)))
        if sent_at is None and now >= next_ping:
            sent_at = now
            ping.sendall(b"PING\n")
        wait = max(0.0, next_ping - now) if sent_at is None else deadline - now
        for key, _ in sel.select(timeout=wait):
            data = key.fileobj.recv(65536)
            if not data:
                sys.exit("pinger: the server closed a connection")
            buf = key.data
            buf += data
            while b"\n" in buf:
                line, _, rest = bytes(buf).partition(b"\n")
                buf[:] = rest
                if key.fileobj is ping:
                    if line != b"PONG":
                        sys.exit("pinger: PING got %r" % line)
                    done = time.monotonic()
                    latencies.append((done - sent_at) * 1000)
                    sent_at = None
                    next_ping = done + a.interval / 1000
                else:
                    slow_replies += 1
                    if not a.once:
                        key.fileobj.sendall(slow_line)
    elapsed = time.monotonic() - start
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]

    print("pings %d: p50 %.3f ms  p99 %.3f ms  max %.3f ms"
          % (len(latencies), pct(50), pct(99), latencies[-1]))
    print("slow replies %d (in %.2f s)" % (slow_replies, elapsed))
    for key in list(sel.get_map().values()):
        key.fileobj.close()


if __name__ == "__main__":
    main()
