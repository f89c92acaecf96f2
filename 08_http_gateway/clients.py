#!/usr/bin/env python3
"""08_http_gateway/clients.py — the hostile and the many HTTP clients the tests need.

  clients.py keepalive PORT N PATH     N requests on one connection (http.client): prints
                                       "statuses: 200 x N" and the distinct bodies count
  clients.py many PORT CLIENTS EACH    CLIENTS keep-alive connections at once, EACH
                                       GET /INCR/t08:many on every one; prints "ok N"
  clients.py stalled PORT PATH SECS    send a GET for PATH, never read; hold it SECS
  clients.py slowloris PORT GAP_MS     send a request head a byte every GAP_MS; prints
                                       "closed after N bytes" when the server cuts it
"""
import http.client
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


if __name__ == "__main__":
    {"keepalive": keepalive, "many": many, "stalled": stalled, "slowloris": slowloris}[
        sys.argv[1]](*sys.argv[2:])
