#!/usr/bin/python3
"""exercises/6.4/fake_redis.py PORT — a stand-in for Redis that reports how
each connection ended, which real Redis only writes to its log at `verbose`
level. It answers every PING line with +PONG and prints, per connection in
the order they were accepted, "connection N: eof" (a FIN: recv returned
nothing) or "connection N: reset" (recv failed with ECONNRESET)."""
import socket
import sys
import threading

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", int(sys.argv[1])))
listener.listen(16)
print("listening", flush=True)


def serve(conn, n):
    how = "eof"
    try:
        while True:
            data = conn.recv(4096)
            if not data:
                break
            conn.sendall(b"+PONG\r\n" * data.count(b"PING"))
    except ConnectionResetError:
        how = "reset"
    print("connection %d: %s" % (n, how), flush=True)
    conn.close()


n = 0
while True:
    conn, _ = listener.accept()
    n += 1
    threading.Thread(target=serve, args=(conn, n), daemon=True).start()
