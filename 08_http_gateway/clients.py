#!/usr/bin/env python3
"""08_http_gateway/clients.py — the hostile and the many HTTP clients the tests need.

  clients.py keepalive PORT N PATH     N requests on one connection (http.client): prints
                                       "statuses: 200 x N" and the distinct bodies count
  clients.py many PORT CLIENTS EACH    CLIENTS keep-alive connections at once, EACH
                                       GET /INCR/t08:many on every one; prints "ok N"
  clients.py stalled PORT PATH SECS    send a GET for PATH, never read; hold it SECS
  clients.py slowloris PORT GAP_MS     send a request head a byte every GAP_MS; prints
                                       "closed after N bytes" when the server cuts it
  clients.py load PORT PATH CONNS EACH CONNS keep-alive connections, EACH GET PATH one after
                                       another on every one: an exact count (bench.sh's
                                       instructions and system calls per request); exit 1
                                       on a reply that is not 200
"""
import http.client
import selectors
import socket
import sys
import threading
import time


def keepalive(port, n, path):
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
    statuses, bodies = [], set()
    for _ in range(int(n)):
        conn.request("GET", path)
        r = conn.getresponse()
        statuses.append(r.status)
        bodies.add(r.read())
    conn.close()
    print("statuses: %s" % " ".join(sorted(set(str(s) for s in statuses))), "x", len(statuses))


def many(port, clients, each):
    ok = []
    lock = threading.Lock()

    def one():
        conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=20)
        good = 0
        for _ in range(int(each)):
            conn.request("GET", "/INCR/t08:many")
            r = conn.getresponse()
            r.read()
            good += r.status == 200
        conn.close()
        with lock:
            ok.append(good)

    threads = [threading.Thread(target=one) for _ in range(int(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("ok", sum(ok))


def stalled(port, path, secs):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", int(port)))
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
    print("sent", flush=True)
    time.sleep(float(secs))
    s.close()


def slowloris(port, gap_ms):
    s = socket.socket()
    s.connect(("127.0.0.1", int(port)))
    head = b"GET /PING HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 400 + b"\r\n\r\n"
    sent = 0
    start = time.monotonic()
    s.settimeout(float(gap_ms) / 1000)
    for b in head:
        try:
            s.send(bytes([b]))
            sent += 1
            if s.recv(1) == b"":
                break
        except socket.timeout:
            continue
        except OSError:
            break
    print("closed after %d bytes, %.1f s" % (sent, time.monotonic() - start))


def one_reply(buf):
    """(status, length of the first whole reply in BUF) or None if not all here yet."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = buf[:end].decode("latin-1").split("\r\n")
    size = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            size = int(value)
    if len(buf) < end + 4 + size:
        return None
    return lines[0].split()[1], end + 4 + size


def load(port, path, conns, each):
    request = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path).encode()
    sel = selectors.DefaultSelector()
    left = {}
    for _ in range(int(conns)):
        s = socket.create_connection(("127.0.0.1", int(port)))
        s.setblocking(False)
        s.send(request)
        left[s] = [int(each), b""]
        sel.register(s, selectors.EVENT_READ)
    bad = 0
    while left:
        for key, _ in sel.select():
            s = key.fileobj
            data = s.recv(1 << 20)
            if not data:
                sys.exit("load: the server closed a connection")
            state = left[s]
            state[1] += data
            while s in left and (got := one_reply(state[1])) is not None:
                bad += got[0] != "200"
                state[1] = state[1][got[1]:]
                state[0] -= 1
                if state[0] == 0:
                    sel.unregister(s)
                    s.close()
                    del left[s]
                else:
                    s.send(request)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    {"keepalive": keepalive, "many": many, "stalled": stalled, "slowloris": slowloris,
     "load": load}[sys.argv[1]](*sys.argv[2:])
