"""exercises/0.3/long_line.py PORT N — send N bytes with no newline; print how
many bytes came back before we closed our sending side (once nothing more has
arrived for a whole second), then how many in all once the server closed."""
import socket
import sys

QUIET_S = 1.0  # no byte for this long: the server is holding the rest


def main():
    port, n = int(sys.argv[1]), int(sys.argv[2])
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"x" * n)
    got = 0
    s.settimeout(QUIET_S)
    try:
        while got < n:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += len(chunk)
    except socket.timeout:
        pass
    print("before-close: %d" % got)
    s.shutdown(socket.SHUT_WR)
    s.settimeout(10)
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += len(chunk)
    print("after-close: %d" % got)


main()
