#!/usr/bin/python3
"""exercises/6.2/observe.py PORT REDIS_PORT — three idle clients through the
relay on PORT, in front of a Redis whose `timeout` is 1 s: one that sent PING,
one that subscribed, one blocked in BLPOP. Prints, for each, what happened
once Redis's timeout had had every chance to act: "open", "closed" (end of
stream, nothing more read) or "error" (it read an -ERR line)."""
import socket
import sys
import time

port, redis_port = int(sys.argv[1]), int(sys.argv[2])
direct = socket.create_connection(("127.0.0.1", redis_port))


def ask_direct(command):
    direct.sendall(command)
    return direct.recv(4096)


def client(command, reply_end):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(command)
    got = b""
    while reply_end and not got.endswith(reply_end):
        got += s.recv(4096)
    return s


def wait_until(condition, what, seconds=15):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            sys.exit("observe.py: gave up waiting for " + what)
        time.sleep(0.05)


def what_happened(s):
    """Without waiting: has s been sent anything, or been closed?"""
    s.setblocking(False)
    try:
        data = s.recv(4096)
    except BlockingIOError:
        return "open"
    if data.startswith(b"-"):
        return "error"
    return "closed" if data == b"" else "open, and it read %r" % data


def closed(s):
    return what_happened(s) != "open"


assert ask_direct(b"CONFIG SET timeout 1\r\n") == b"+OK\r\n"
subscriber = client(b"SUBSCRIBE t62:ch\r\n", b":1\r\n")
blocked = client(b"BLPOP t62:q 0\r\n", None)
wait_until(lambda: b"blocked_clients:1\r\n" in ask_direct(b"INFO clients\r\n"),
           "the BLPOP client to block")
pinger = client(b"PING\r\n", b"+PONG\r\n")
# the PING client is idle for less long than the other two: once Redis's
# timeout has acted on it (and on one more client after it), it has had
# every chance to act on the others
wait_until(lambda: closed(pinger), "the PING client to be closed or answered")
result = {"ping": what_happened(pinger)}
late = client(b"PING\r\n", b"+PONG\r\n")
wait_until(lambda: closed(late), "a second PING client to be closed or answered")
result["subscribe"] = what_happened(subscriber)
result["blpop"] = what_happened(blocked)
for name in ("ping", "subscribe", "blpop"):
    print("%s: %s" % (name, result[name]))
