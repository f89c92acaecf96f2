#!/usr/bin/python3
"""exercises/6.3/pipeline.py PORT OUT PREFIX — one client pipelines a mix of
commands whose replies are every kind of RESP2 value (status, error,
integer, bulk, null bulk, empty and null arrays, nested arrays, a 1 MiB
bulk, a bulk whose bytes look like RESP), then 10,000 SET/GET. It writes
every byte it received to OUT and prints how many commands it sent. Its keys
start with PREFIX, fresh for each run, so each run gets the same replies."""
import socket
import sys
import threading

port, out, prefix = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def resp(*args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).replace("t63:", prefix).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(parts)


commands = [
    resp("SET", "t63:tricky", b"\r\n*3\r\n$-1\r\n:1\r\n+OK\r\n"),  # looks like replies
    resp("GET", "t63:tricky"),
    resp("GET", "t63:missing"),                       # $-1
    resp("LRANGE", "t63:list", 0, -1),                # *0
    resp("RPUSH", "t63:list", "a", "b", "c"),         # :3
    resp("LRANGE", "t63:list", 0, -1),                # *3
    resp("XADD", "t63:s", "1-1", "f", "v"),
    resp("XADD", "t63:s", "1-2", "f", "w"),
    resp("XRANGE", "t63:s", "-", "+"),                # arrays in arrays
    resp("EVAL", "return {1,{2,{3,'x'}},'y'}", 0),    # three levels deep
    resp("BLPOP", "t63:empty", "0.01"),               # *-1 once the wait is over
    resp("NOPE"),                                     # -ERR
    resp("SET", "t63:big", b"\r\n" * 524288),         # 1 MiB of CRLFs
    resp("GET", "t63:big"),
    resp("MULTI"), resp("INCR", "t63:n"), resp("INCR", "t63:n"), resp("EXEC"),
    b"PING\r\n",                                      # inline: +PONG
]
for i in range(10000):
    commands += [resp("SET", "t63:k%d" % i, "v" * (i % 50)), resp("GET", "t63:k%d" % i)]
END = resp("ECHO", b"t63:end")  # bytes: the same in every run
commands.append(END)

client = socket.create_connection(("127.0.0.1", port), timeout=30)
sender = threading.Thread(target=client.sendall, args=(b"".join(commands),))
sender.start()
got = bytearray()
while not got.endswith(b"$7\r\nt63:end\r\n"):
    chunk = client.recv(1 << 16)
    if not chunk:
        sys.exit("pipeline.py: the connection closed before the last reply")
    got += chunk
sender.join()
client.close()
with open(out, "wb") as f:
    f.write(got)
print(len(commands))
