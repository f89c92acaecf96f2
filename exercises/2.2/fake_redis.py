"""exercises/2.2/fake_redis.py MODE — a one-trick stand-in for Redis on a free
port: prints "listening on 127.0.0.1:PORT", then answers the first request of
each connection with PONG as MODE says:
  bulk   a bulk string, $4\\r\\nPONG\\r\\n (what a Redis proxy may send)
  split  +PONG\\r\\n in two writes, 300 ms apart (two reads for the client)"""
import socket
import sys
import time

REPLIES = {"bulk": [b"$4\r\nPONG\r\n"], "split": [b"+PO", b"NG\r\n"]}


def main():
    pieces = REPLIES[sys.argv[1]]
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    print("listening on 127.0.0.1:%d" % srv.getsockname()[1], flush=True)
    while True:
        conn, _ = srv.accept()
        conn.recv(4096)
        for i, piece in enumerate(pieces):
            if i:
                time.sleep(0.3)
            conn.sendall(piece)
        conn.recv(4096)  # until the client closes
        conn.close()


main()
