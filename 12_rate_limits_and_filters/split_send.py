#!/usr/bin/env python3
"""12_rate_limits_and_filters/split_send.py — send a file to a server one byte
per write (TCP_NODELAY, a pause between bytes, so each byte is its own TCP
segment), close our sending side, and print all that comes back.

    python3 split_send.py PORT FILE [PAUSE_S=0.002]

The tests' way of making a filter see a line split over many reads.
"""
import socket
import sys
import time

port, path = int(sys.argv[1]), sys.argv[2]
pause = float(sys.argv[3]) if len(sys.argv) > 3 else 0.002
data = open(path, "rb").read()
sock = socket.create_connection(("127.0.0.1", port))
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for i in range(len(data)):
    sock.sendall(data[i:i + 1])
    time.sleep(pause)
sock.shutdown(socket.SHUT_WR)
got = bytearray()
while True:
    chunk = sock.recv(65536)
    if not chunk:
        break
    got += chunk
sys.stdout.buffer.write(got)
