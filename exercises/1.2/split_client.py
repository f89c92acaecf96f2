"""exercises/1.2/split_client.py PORT FIRST SECOND — connect, read the greeting,
send FIRST, wait until the server has read it (its socket's receive queue is
empty and ours has nothing unsent), send SECOND, print the first line that
comes back (repr), or TIMEOUT."""
import socket
import subprocess
import sys
import time


def queues(port, client_port):
    """(server's Recv-Q, client's Send-Q) of this connection, from ss."""
    out = subprocess.run(["ss", "-tnH", "state", "established"], capture_output=True,
                         text=True, check=True).stdout
    recv_q = send_q = None
    for line in out.splitlines():
        f = line.split()
        if f[2].endswith(":%d" % port) and f[3].endswith(":%d" % client_port):
            recv_q = int(f[0])
        if f[2].endswith(":%d" % client_port) and f[3].endswith(":%d" % port):
            send_q = int(f[1])
    return recv_q, send_q


def main():
    port = int(sys.argv[1])
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(5)
    f = s.makefile("rb")
    f.readline()  # the greeting
    s.sendall(sys.argv[2].encode())
    deadline = time.time() + 10
    while queues(port, s.getsockname()[1]) != (0, 0):
        if time.time() > deadline:
            print("server never read the first part")
            return 1
        time.sleep(0.05)
    s.sendall(sys.argv[3].encode())
    try:
        print(repr(f.readline()))
    except socket.timeout:
        print("TIMEOUT")
    return 0


sys.exit(main())
