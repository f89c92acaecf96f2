#!/usr/bin/python3
"""strace-annotate.py — read `strace -f -tt -T -s 80` output of one server and
print its system calls as the three steps of the event loop (make strace-chapterN).

    scripts/classroom/strace-annotate.py [--redis-port P] STRACE_FILE

One line per system call, the step in a column of its own:

    setup     before the loop: the epoll instance, the sockets
    register  epoll_ctl: a socket added to epoll, changed, or removed
    detect    epoll_wait: the loop sleeps until sockets are ready, and says which
    dispatch  what runs because of what epoll_wait said: accept4, reads and
              writes inside libevent and our callbacks, until the next epoll_wait
    signal    a signal arrives; libevent's handler writes to its signal pipe
    teardown  after the last epoll_wait: main frees everything

File descriptors are named, not numbered: "listening socket", "client 7",
"redis 8" (a connection to --redis-port), "signal pipe" (libevent's self-pipe,
chapter 4). Calls before epoll_create1 (the dynamic loader's) are left out.
"""
import re
import sys

LINE = re.compile(r"^(?P<pid>\d+)\s+(?P<time>\d+:\d+:\d+\.\d+)\s+(?P<rest>.*)$")
CALL = re.compile(r"^(?P<name>\w+)\((?P<args>.*)\)\s+=\s+(?P<ret>-?\d+|\?)(?P<err>[^<]*)(?:<(?P<dur>[\d.]+)>)?$")
# strace 6.1 (Debian 12) prints an epoll event's data as {u32=6, u64=6}, newer
# ones (Debian 13) as a number (0x6): libevent stores the fd there, so each names the fd
READY = re.compile(r"events=(?P<ev>[A-Z|]+), data=(?:\{u32=(?P<fd>\d+)|(?P<num>0x[0-9a-fA-F]+|\d+))")
ADDR = re.compile(r'sin_port=htons\((?P<port>\d+)\), sin_addr=inet_addr\("(?P<ip>[\d.]+)"\)')
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"(\.\.\.)?')

READS = {"read", "readv", "recvfrom", "recvmsg"}
WRITES = {"write", "writev", "sendto", "sendmsg"}


def seconds(clock):
    h, m, s = clock.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def first_string(args, width=34):
    """The first quoted string of the arguments, shortened for a projector."""
    m = STRING.search(args)
    if not m:
        return ""
    text = m.group(1)
    if len(text) > width:
        text = text[:width] + "…"
    elif m.group(2):
        text += "…"
    return ' "%s"' % text


def wants(events):
    """EPOLLIN|EPOLLOUT -> 'readable or writable'"""
    words = []
    if "EPOLLIN" in events:
        words.append("readable")
    if "EPOLLOUT" in events:
        words.append("writable")
    if "EPOLLHUP" in events or "EPOLLRDHUP" in events:
        words.append("hung up")
    if "EPOLLERR" in events:
        words.append("error")
    return " or ".join(words) or events


class Annotator:
    def __init__(self, redis_port):
        self.redis_port = redis_port
        self.names = {0: "stdin", 1: "stdout", 2: "stderr"}
        self.out = []  # (seconds, step, text)
        self.pid = None
        self.start = None
        self.waits = 0  # epoll_wait calls seen so far
        self.in_signal = False
        self.counts = {}

    def name(self, fd):
        fd = int(fd)
        return self.names.get(fd, "fd %d" % fd)

    def emit(self, when, step, text):
        self.out.append((when, step, text))
        self.counts[step] = self.counts.get(step, 0) + 1

    def feed(self, raw):
        m = LINE.match(raw.rstrip("\n"))
        if not m:
            return
        pid, when, rest = m.group("pid"), seconds(m.group("time")), m.group("rest")
        if self.pid is None:
            if not rest.startswith("epoll_create1("):
                return  # the loader and libc start-up: not the lesson
            self.pid, self.start = pid, when
        if pid != self.pid:
            return
        if rest.startswith("--- SIG"):
            self.in_signal = True
            self.emit(when, "signal", "%s arrives: the kernel runs libevent's handler" % rest.split()[1])
            return
        if rest.startswith("+++"):
            self.emit(when, "exit", rest.strip("+ "))
            return
        c = CALL.match(rest)
        if c:
            self.call(when, c.group("name"), c.group("args"), c.group("ret"), c.group("err").strip(),
                      float(c.group("dur") or 0))

    def step(self, name):
        """The step of a call other than epoll_ctl/epoll_wait: where it happens."""
        if self.waits == 0:
            return "setup"
        return "dispatch"

    def call(self, when, name, args, ret, err, dur):
        fd = args.split(",")[0].strip()
        failed = ret.startswith("-")
        code = err.split()[0] if failed and err else ""
        if name == "epoll_create1":
            self.names[int(ret)] = "epoll"
            self.emit(when, "setup", "epoll_create1 -> fd %s: the epoll instance libevent waits in" % ret)
        elif name == "pipe2":
            ends = re.findall(r"\d+", args.split("]")[0])
            if len(ends) == 2:
                self.names[int(ends[0])] = "signal pipe"
                self.names[int(ends[1])] = "signal pipe (write end)"
                self.emit(when, self.step(name), "pipe2 -> fds %s, %s: libevent's signal pipe (chapter 4)" % tuple(ends))
        elif name == "socket":
            self.names[int(ret)] = "socket %s" % ret
            self.emit(when, self.step(name), "socket -> fd %s (non-blocking)" % ret)
        elif name == "bind":
            a = ADDR.search(args)
            where = "%s:%s" % (a.group("ip"), a.group("port")) if a else "?"
            self.emit(when, self.step(name), "bind %s to %s" % (self.name(fd), where))
        elif name == "listen":
            self.names[int(fd)] = "listening socket"
            self.emit(when, self.step(name), "listen: fd %s is now the listening socket" % fd)
        elif name == "connect":
            a = ADDR.search(args)
            port = a.group("port") if a else "?"
            peer = "redis" if self.redis_port and port == str(self.redis_port) else "upstream"
            self.names[int(fd)] = "%s %s" % (peer, fd)
            how = "in progress (non-blocking)" if code == "EINPROGRESS" else (code or "connected")
            self.emit(when, self.step(name), "connect %s to port %s: %s" % (self.name(fd), port, how))
        elif name == "accept4":
            if failed:
                self.emit(when, self.step(name), "accept4 %s -> %s: no more connections waiting" % (self.name(fd), code))
            else:
                a = ADDR.search(args)
                self.names[int(ret)] = "client %s" % ret
                peer = " (%s:%s)" % (a.group("ip"), a.group("port")) if a else ""
                self.emit(when, self.step(name), "accept4 %s -> client %s%s" % (self.name(fd), ret, peer))
        elif name == "epoll_ctl":
            self.epoll_ctl(when, args, ret)
        elif name == "epoll_wait":
            self.epoll_wait(when, args, ret, code, dur)
        elif name in READS:
            if failed:
                text = "read %s -> %s: nothing more for now" % (self.name(fd), code)
            elif ret == "0":
                text = "read %s -> 0 bytes: the peer closed (EOF)" % self.name(fd)
            else:
                text = "read %s -> %s %s%s" % (self.name(fd), ret, "byte" if ret == "1" else "bytes", first_string(args))
            self.emit(when, self.step(name), text)
        elif name in WRITES:
            if self.in_signal and self.name(fd) == "signal pipe (write end)":
                self.emit(when, "signal", "the handler writes %s byte to the signal pipe: the loop will see it" % ret)
                return
            if fd in ("1", "2"):
                text = "print on %s%s" % (self.name(fd), first_string(args, 60))
            else:
                text = "write %s -> %s %s%s" % (self.name(fd), ret, "byte" if ret == "1" else "bytes", first_string(args))
            self.emit(when, self.step(name), text)
        elif name == "shutdown":
            self.emit(when, self.step(name), "shutdown %s for writing: the peer will read EOF" % self.name(fd))
        elif name == "close":
            step = self.step(name)
            self.emit(when, step, "close %s" % self.name(fd))
            self.names.pop(int(fd), None)

    def epoll_ctl(self, when, args, ret):
        parts = [p.strip() for p in args.split(",", 3)]
        op, fd = parts[1].replace("EPOLL_CTL_", ""), parts[2]
        ev = re.search(r"events=([A-Z|]+)", args)
        if op == "DEL":
            text = "epoll_ctl DEL %s: stop watching it" % self.name(fd)
        else:
            text = "epoll_ctl %s %s: tell me when %s" % (op, self.name(fd), wants(ev.group(1) if ev else "?"))
        self.emit(when, "register", text)

    def epoll_wait(self, when, args, ret, code, dur):
        self.waits += 1
        self.in_signal = False
        timeout = args.rsplit(",", 1)[1].strip()
        limit = "forever" if timeout == "-1" else "up to %s ms" % timeout
        slept = "   (slept %.1f ms)" % (dur * 1000) if dur >= 0.0005 else ""
        if code == "EINTR":
            text = "epoll_wait (%s) -> interrupted by a signal%s" % (limit, slept)
        elif ret == "0":
            text = "epoll_wait (%s) -> 0 ready: time is up (a timer)%s" % (limit, slept)
        else:
            ready = ", ".join("%s %s" % (self.name(fd if fd else int(num, 0)), wants(ev))
                              for ev, fd, num in READY.findall(args))
            text = "epoll_wait (%s) -> %s ready: %s%s" % (limit, ret, ready, slept)
        self.emit(when, "detect", text)

    def finish(self):
        """After the last epoll_wait, main tears down: the calls from the first
        epoll_ctl DEL or close on are teardown, not a callback (epoll_ctl stays
        'register': it is still the registering step, undone)."""
        last_wait = max((i for i, o in enumerate(self.out) if o[1] == "detect"), default=None)
        if last_wait is None:
            return
        tearing = False
        for i in range(last_wait + 1, len(self.out)):
            when, step, text = self.out[i]
            if text.startswith(("epoll_ctl DEL", "close ")):
                tearing = True
            if tearing and step == "dispatch":
                self.out[i] = (when, "teardown", text)
                self.counts["dispatch"] -= 1
                self.counts["teardown"] = self.counts.get("teardown", 0) + 1

    def print(self):
        print("%9s  %-9s %s" % ("ms", "step", "system call, and what it means"))
        for when, step, text in self.out:
            print("%9.1f  %-9s %s" % ((when - self.start) * 1000, step, text))
        order = ["setup", "register", "detect", "dispatch", "signal", "teardown"]
        print("counts: " + ", ".join("%s %d" % (s, self.counts[s]) for s in order if self.counts.get(s)))


def main(argv):
    redis_port = None
    args = argv[1:]
    if len(args) >= 2 and args[0] == "--redis-port":
        redis_port, args = args[1], args[2:]
    if len(args) != 1:
        print("usage: strace-annotate.py [--redis-port P] STRACE_FILE", file=sys.stderr)
        return 2
    try:
        lines = open(args[0], encoding="utf-8", errors="replace").readlines()
    except OSError as e:
        print("strace-annotate.py: cannot read %s: %s" % (args[0], e.strerror), file=sys.stderr)
        return 1
    a = Annotator(redis_port)
    for line in lines:
        a.feed(line)
    if a.pid is None:
        print("strace-annotate.py: no epoll_create1 in %s: not a libevent server's trace?" % args[0], file=sys.stderr)
        return 1
    a.finish()
    a.print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
