#!/usr/bin/env python3
"""12_rate_limits_and_filters/never_reads.py — a client that connects and never
reads: the tests' hostile peer for the shaper's bounded-memory claim.

    python3 never_reads.py PORT [FILE]    (stays connected until killed)

It asks for a small receive buffer so the kernel fills quickly; from then on
everything the server sends waits on the server's side. Given a FILE it also
sends it (blocking once the server stops reading), still never reading.
"""
import socket
import sys
import time

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
sock.connect(("127.0.0.1", int(sys.argv[1])))
print("connected", flush=True)
if len(sys.argv) > 2:
    with open(sys.argv[2], "rb") as f:
        sock.sendall(f.read())
    print("sent", flush=True)
while True:
    time.sleep(60)
