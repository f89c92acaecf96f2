#!/usr/bin/python3
"""07_redis_multiplexer/differential.py — replay a corpus of requests straight
to Redis and through the multiplexer, and compare what came back: every reply,
byte for byte, and the connection's fate (closed by the server, or kept).

    differential.py REDIS_PORT MUX_PORT CORPUS
    differential.py REDIS_PORT MUX_PORT --deep-beside-pings ROUNDS

Each line of CORPUS is one case, on a connection of its own:

    NAME  HOW  BYTES

HOW is `whole` (the bytes in one send), `bytes` (one byte per send: a split
at every byte) or `both`; a `+client` suffix normalises CLIENT LIST / CLIENT
INFO lines (below). BYTES use Python's escapes (\\r \\n \\x00, and \\\\ for one
backslash); {k} is the case's own key, 7 bytes long (k:00012), so RESP
lengths can be written by hand.

All the direct cases run at once, then all the multiplexer's: there, they
share its one connection to Redis, while a bystander client pipelines ECHOs
beside them and must get exactly its own replies. Between the two runs the
cases' keys are deleted, so both runs start from the same Redis.

What legitimately differs is normalised, and only in the +client cases: in
CLIENT LIST / CLIENT INFO the values of id, addr, laddr, fd, name, age, idle,
qbuf, qbuf-free, argv-mem, multi-mem, rbs, rbp, obl, oll, omem, tot-mem, events (a
connection's own numbers: which port, how old, its buffers), and the
multiplexer's own connections (a different client is talking to Redis); the
line of the asking connection itself is kept and compared field by field.
And one thing is done first: a fresh Redis is warmed up (warm_up says why).
The second form is the issue that started this file: one client asks for
COMMAND DOCS (a reply nested 8 deep) while another has 2,000 PINGs in flight
on the same shared connection; each must get its own replies, exactly.
Watch for: a case's replies are split with this file's own RESP reader
(read_reply), not with the multiplexer's.
"""
import codecs
import re
import socket
import sys
import threading
import time

QUIET_S = 0.4  # no byte for this long after the last one: the server is done
BYTE_GAP_S = 0.002  # between the sends of a `bytes` case
WAIT_S = 10  # the multiplexer may take this long to match Redis (generous)
BYSTANDER_BATCH = 200
WARM_UP_LOOKUPS = 40
BYSTANDER_PAUSE_S = 0.005  # between its batches


def read_reply(buf, i):
    """The end of the reply starting at buf[i], or None if incomplete."""
    if i >= len(buf):
        return None
    eol = buf.find(b"\r\n", i)
    if eol < 0:
        return None
    kind, line, after = buf[i:i + 1], buf[i + 1:eol], eol + 2
    if kind in b"+-:_,#(":
        return after
    n = int(line)
    if kind in b"$!=":
        if n < 0:
            return after
        return after + n + 2 if len(buf) >= after + n + 2 else None
    if kind in b"*~>%|":
        count = n * 2 if kind in b"%|" else n
        for _ in range(max(count, 0)):
            after = read_reply(buf, after)
            if after is None:
                return None
        return read_reply(buf, after) if kind == b"|" else after
    raise ValueError("not RESP: %r" % buf[i:i + 20])


def split_replies(buf):
    replies, i = [], 0
    while True:
        end = read_reply(buf, i)
        if end is None:
            return replies, buf[i:]
        replies.append(buf[i:end])
        i = end


VARYING = ("id", "addr", "laddr", "fd", "name", "age", "idle", "qbuf", "qbuf-free",
           "argv-mem", "multi-mem", "rbs", "rbp", "obl", "oll", "omem", "tot-mem", "events")


def normalise_client(reply):
    """A CLIENT LIST/INFO bulk reply: keep the asking connection's line (the
    one running CLIENT), with the varying values blanked."""
    if not reply.startswith(b"$"):
        return reply
    head = reply.index(b"\r\n")
    text = reply[head + 2:-2].decode()
    lines = [ln for ln in text.split("\n") if "cmd=client|" in ln]
    out = []
    for ln in lines:
        for field in VARYING:
            ln = re.sub(r"(^| )%s=\S*" % re.escape(field), r"\1%s=*" % field, ln)
        out.append(ln)
    body = "\n".join(out).encode()
    return b"$%d\r\n%s\r\n" % (len(body), body)


def run_case(port, case, how, result):
    """Send the case's bytes and read until the server closes or goes quiet."""
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    data = case["bytes"]
    if how == "bytes":
        for b in data:
            s.sendall(bytes([b]))
            time.sleep(BYTE_GAP_S)
    else:
        s.sendall(data)
    got, fate = b"", "kept"
    # through the multiplexer: what Redis sent (not for +client: lengths differ)
    want = None if case["client"] else result.get("want")
    deadline = time.monotonic() + WAIT_S
    while True:
        if want is not None and len(got) < len(want["bytes"]):
            timeout = max(deadline - time.monotonic(), 0.01)
        elif want is not None and want["fate"] == "closed":
            timeout = max(deadline - time.monotonic(), 0.01)  # wait for the close
        else:
            timeout = QUIET_S
        s.settimeout(timeout)
        try:
            chunk = s.recv(1 << 20)
        except socket.timeout:
            break
        except ConnectionResetError:
            fate = "closed"
            break
        if not chunk:
            fate = "closed"
            break
        got += chunk
    s.close()
    result["bytes"], result["fate"] = got, fate


def bystander(port, stop, outcome):
    """Pipelines of ECHO on the multiplexer while the cases run: each reply
    must be its own request's."""
    s = socket.create_connection(("127.0.0.1", port))
    sent = 0
    buf = b""
    while not stop.is_set() or sent < BYSTANDER_BATCH:
        batch = range(sent, sent + BYSTANDER_BATCH)
        s.sendall(b"".join(b"ECHO by%d\r\n" % i for i in batch))
        want = b"".join(b"$%d\r\nby%d\r\n" % (len(b"by%d" % i), i) for i in batch)
        s.settimeout(WAIT_S)
        while len(buf) < len(want):
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            buf += chunk
        if buf[:len(want)] != want:
            outcome["error"] = "bystander: replies %d..%d wrong: %r" % (
                batch[0], batch[-1], buf[:80])
            break
        buf = buf[len(want):]
        sent += BYSTANDER_BATCH
        stop.wait(BYSTANDER_PAUSE_S)
    outcome["echoes"] = sent
    s.close()


def load(path):
    cases = []
    for raw in open(path, encoding="utf-8"):
        raw = raw.rstrip("\n")
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        name, how, text = raw.split(None, 2)
        key = b"k:%05d" % len(cases)
        data = codecs.escape_decode(text.encode())[0].replace(b"{k}", key)
        modes = ["whole", "bytes"] if how.split("+")[0] == "both" else [how.split("+")[0]]
        for mode in modes:
            cases.append({"name": name, "mode": mode, "bytes": data, "key": key,
                          "client": how.endswith("+client")})
    return cases


def run_all(port, cases, wants=None):
    results = [{} if wants is None else {"want": w} for w in (wants or cases)]
    threads = [threading.Thread(target=run_case, args=(port, c, c["mode"], r))
               for c, r in zip(cases, results)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def delete_keys(port, cases):
    s = socket.create_connection(("127.0.0.1", port))
    keys = sorted({c["key"] for c in cases})
    s.sendall(b"DEL " + b" ".join(keys) + b" by:total\r\n")
    s.settimeout(WAIT_S)
    while b"\r\n" not in s.recv(100):
        pass
    s.close()


def command(s, *args):
    """One request on s; its whole reply."""
    s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
    buf = b""
    s.settimeout(WAIT_S)
    while read_reply(buf, 0) is None:
        buf += s.recv(1 << 16)
    return buf


def warm_up(port):
    """A fresh Redis is still rehashing its command tables (the commands, and
    each command's subcommands), a step per name looked up in that table; and
    COMMAND and COMMAND DOCS list them in table order. So until the rehash is
    done their order changes, between the two runs too. Looking every name up
    a few dozen times finishes it. The reply is megabytes: rather than parse
    it, a PING follows, and its PONG at the very end says all has come."""
    s = socket.create_connection(("127.0.0.1", port))
    listing = command(s, b"COMMAND", b"LIST")
    names = re.findall(rb"\$\d+\r\n([a-z|_-]+)\r\n", listing)
    args = [b"COMMAND", b"INFO"] + names * WARM_UP_LOOKUPS
    s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
              + b"PING\r\n")
    s.settimeout(WAIT_S)
    tail = b""
    while not tail.endswith(b"+PONG\r\n"):
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        tail = (tail + chunk)[-16:]
    s.close()


def read_exactly(s, n):
    got = b""
    s.settimeout(WAIT_S)
    while len(got) < n:
        try:
            chunk = s.recv(1 << 16)
        except (socket.timeout, ConnectionResetError):
            break
        if not chunk:
            break
        got += chunk
    return got


def deep_beside_pings(redis_port, mux_port, rounds):
    want_docs = {}
    run_case(redis_port, {"bytes": b"COMMAND DOCS\r\n", "client": False}, "whole", want_docs)
    pings = 2000
    for r in range(rounds):
        a = socket.create_connection(("127.0.0.1", mux_port))
        b = socket.create_connection(("127.0.0.1", mux_port))
        b.sendall(b"COMMAND DOCS\r\n")
        time.sleep(0.0005 * r)  # the PINGs land before, with and after the reply
        a.sendall(b"PING\r\n" * pings)
        got_a = read_exactly(a, 7 * pings)
        got_b = read_exactly(b, len(want_docs["bytes"]))
        if got_a != b"+PONG\r\n" * pings:
            print("round %d: the PING client got %d PONGs and %r" % (
                r, got_a.count(b"+PONG\r\n"), got_a.replace(b"+PONG\r\n", b"")[:80]))
            return 1
        if got_b != want_docs["bytes"]:
            print("round %d: COMMAND DOCS through the multiplexer differs from Redis's "
                  "(%d and %d bytes): %r" % (r, len(got_b), len(want_docs["bytes"]), got_b[:60]))
            return 1
        a.close()
        b.close()
    print("deep beside pings: %d rounds, COMMAND DOCS (%d bytes) identical, %d PONGs each"
          % (rounds, len(want_docs["bytes"]), pings))
    return 0


def main():
    redis_port, mux_port, corpus = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    if corpus == "--deep-beside-pings":
        warm_up(redis_port)
        return deep_beside_pings(redis_port, mux_port, int(sys.argv[4]))
    cases = load(corpus)
    warm_up(redis_port)
    delete_keys(redis_port, cases)
    direct = run_all(redis_port, cases)
    delete_keys(redis_port, cases)
    stop, outcome = threading.Event(), {}
    side = threading.Thread(target=bystander, args=(mux_port, stop, outcome))
    side.start()
    muxed = run_all(mux_port, cases, direct)
    stop.set()
    side.join()
    failures, replies = 0, 0
    for case, d, m in zip(cases, direct, muxed):
        dr, drest = split_replies(d["bytes"])
        mr, mrest = split_replies(m["bytes"])
        if case["client"]:
            dr, mr = [normalise_client(r) for r in dr], [normalise_client(r) for r in mr]
        label = "%s (%s)" % (case["name"], case["mode"])
        if dr != mr or drest != mrest:
            failures += 1
            at = next((i for i, (a, b) in enumerate(zip(dr, mr)) if a != b), min(len(dr), len(mr)))
            a = dr[at] if at < len(dr) else drest
            b = mr[at] if at < len(mr) else mrest
            byte = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            print("DIFF %s: reply %d (%d and %d bytes) differs at byte %d: Redis %r, multiplexer %r"
                  % (label, at, len(a), len(b), byte, a[max(byte - 40, 0):byte + 60],
                     b[max(byte - 40, 0):byte + 60]))
        elif d["fate"] != m["fate"]:
            failures += 1
            print("DIFF %s: Redis %s the connection, the multiplexer %s it" % (
                label, d["fate"], m["fate"]))
        replies += len(dr)
    if "error" in outcome:
        failures += 1
        print(outcome["error"])
    kinds = sorted({c["name"] for c in cases})
    print("differential: %d cases (%d in the corpus), %d replies from Redis, %d bystander ECHOs: %s"
          % (len(cases), len(kinds), replies, outcome.get("echoes", 0),
             "all identical" if failures == 0 else "%d differ" % failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
