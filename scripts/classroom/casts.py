#!/usr/bin/python3
"""casts.py — each chapter's classroom lesson recorded as an asciinema v2 cast (make casts).

    scripts/classroom/casts.py record N [N...]   play chapter N's lesson (make demoN DEMO_AUTO=1, detached)
                                       and write docs/casts/NN.cast and docs/img/NN-timeline.trace
    scripts/classroom/casts.py record --stale    only the lessons whose cast is missing or older than demo.steps
    scripts/classroom/casts.py chapters          the chapters that have a lesson (NN_name/demo.steps), one a line
    scripts/classroom/casts.py steps-hash FILE   the sha256 of a demo.steps, as a cast's header keeps it
    scripts/classroom/casts.py check             every lesson has a cast recorded from its current demo.steps

How it records, and why not `asciinema rec -c 'tmux attach ...'`: the lesson runs in a detached
tmux session of its own (tmux -L), and this script reads the panes with `tmux capture-pane` ten
times a second, lays them out as tmux would (borders, titles), and writes a frame whenever the
screen has settled — only the rows that changed. A byte stream recorded from a tmux client would
hold tmux's redraws and the real timing, so two recordings of the same lesson would differ
everywhere; here the frames are the screens themselves, after normalising what differs from run
to run (ports, pids, the lesson's scratch directory, the trace pane's times), and the cast's clock
is made up: each frame stays as long as it takes to read what changed. Re-recording an unchanged
lesson therefore gives the same file, or one that differs where the programs printed something
else. The steps are the cast's markers ("m" events), and the header keeps the sha256 of the
demo.steps it was played from (tests/casts.bats compares it). Standard library only.

Watch for: the lesson plays at DEMO_DELAY=1.5 (a step every 1.5 s; tests use 3); a chapter of about
ten steps takes 30-60 s to record. The trace the lesson's servers wrote ({log}) is kept beside,
normalised the same way: scripts/classroom/timeline.py draws it (make timelines).
"""
import hashlib
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLS, ROWS = 120, 36          # the window; one more row for the status line
POLL = 0.1                    # seconds between looks at the panes
SETTLE = 0.8                  # seconds: a screen unchanged this long is a frame (a step takes 1.5)
RESTLESS = 3.0                # ... or one that has kept changing this long
DELAY = "1.5"                 # DEMO_DELAY while recording
LESSON_TIMEOUT = 240          # seconds: a lesson that has not ended by then fails
MAX_TRACE_LINES = 150        # the timeline's source keeps at most this many trace lines
TRACE_LINE = re.compile(r"^\s*(\d+\.\d) ms  (?:register|detect|dispatch) ")
BORDER, TITLE, BOLD = 1, 2, 3
SGR = {0: "\x1b[0m", BORDER: "\x1b[0;32m", TITLE: "\x1b[0;1;32m", BOLD: "\x1b[0;1m"}


def chapters():
    """[(NN, folder)] for every NN_name/demo.steps, in order."""
    out = []
    for d in sorted(os.listdir(ROOT)):
        m = re.match(r"^([0-9][0-9])_", d)
        if m and os.path.isfile(os.path.join(ROOT, d, "demo.steps")):
            out.append((m.group(1), d))
    return out


def steps_hash(path):
    """The sha256 of the steps themselves: comment lines and blank lines are
    not played, and a pane's & (client&: the command runs on while the next
    step is typed) says when a step is typed, not what: none of them makes a
    recording stale."""
    with open(path, "rb") as f:
        played = [line for line in f if line.strip() and not line.startswith(b"#")]
    played = [re.sub(rb"^(client2?)&\t", rb"\1\t", line) for line in played]
    return hashlib.sha256(b"".join(played)).hexdigest()


def read_steps(path):
    """[(pane, command)] as scripts/classroom/demo.sh reads them."""
    steps = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                pane, cmd, _ = line.split("\t", 2)
                steps.append((pane.rstrip("&"), cmd))
    return steps


class Normaliser:
    """What differs from run to run, replaced by the same stand-ins every time."""

    def __init__(self, state):
        self.state = state
        self.ports, self.pids, self.stamps = {}, {}, {}
        self.clients = self.servers = 0

    def learn(self):
        """Ports and pids of the lesson's servers and Redis (files scripts/classroom/demo.sh writes)."""
        env = self.read("env")
        m = re.search(r"^redis_port=(\d+)", env, re.M)
        if m:
            self.ports.setdefault(m.group(1), "46379")
        pid = self.read("redis.pid").strip()
        if pid:
            self.pids.setdefault(pid, "4379")
        for n, line in enumerate(self.read("servers").splitlines()):
            f = line.split()
            if len(f) == 2:
                self.pids.setdefault(f[0], str(4101 + n))
                self.server_port(f[1])

    def server_port(self, port):
        if port not in self.ports:
            self.servers += 1
            self.ports[port] = str(40000 + self.servers)

    def read(self, name):
        try:
            with open(os.path.join(self.state, name), encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stamp(self, m):
        if m.group(0) not in self.stamps:
            self.stamps[m.group(0)] = f"1700000000.{len(self.stamps) + 1:06d}"
        return self.stamps[m.group(0)]

    def port(self, m):
        p = m.group(2)
        if p not in self.ports:
            self.clients += 1
            self.ports[p] = str(50000 + self.clients)
        return m.group(1) + self.ports[p]

    def text(self, s, trace_times=True):
        s = s.replace(ROOT + "/", "").replace(ROOT, ".")
        for m in re.finditer(r"(?:listening on|producers connect to) 127\.0\.0\.1:(\d+)", s):
            self.server_port(m.group(1))  # a server's port, in the order the servers say it
        s = re.sub(r"(build/demo/ch\d+\.)[A-Za-z0-9]{6}", r"\1lesson", s)
        s = re.sub(r"((?:127\.0\.0\.1|localhost)[: ]|port:? |-p )(\d{4,5})\b", self.port, s)
        for real, stand_in in list(self.ports.items()) + list(self.pids.items()):
            s = re.sub(r"(?<![\d.])" + real + r"(?![\d.])", stand_in, s)
        # redis-cli monitor's wall-clock stamps: 1700000000.000001, ...02, in order of appearance
        s = re.sub(r"(?m)^\d{10}\.\d{6}(?= \[\d+ )", self.stamp, s)
        if trace_times:  # "   12.3 ms  register ..." -> "  ···.· ms  register ..."
            s = re.sub(r"(?m)^ *\d+\.\d(?= ms  )", lambda m: "···.·".rjust(len(m.group(0))), s)
        return s


class Lesson:
    def __init__(self, nn, folder):
        self.nn, self.folder = nn, folder
        self.socket = f"workbook-cast-{os.getpid()}-{nn}"
        self.session = f"workbook-ch{int(nn)}"
        self.state = None

    def tm(self, *args):
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, errors="replace").stdout

    def start(self):
        env = dict(os.environ, DEMO_DETACHED="1", DEMO_AUTO="1", DEMO_DELAY=DELAY, DEMO_HOLD="60",
                   DEMO_SOCKET=self.socket, DEMO_COLS=str(COLS), DEMO_ROWS=str(ROWS))
        r = subprocess.run(["make", "-s", f"demo{int(self.nn)}"], cwd=ROOT, env=env,
                           capture_output=True, text=True, stdin=subprocess.DEVNULL)
        m = re.search(r"; files in (\S+)", r.stdout)
        if r.returncode != 0 or not m:
            sys.exit(f"casts: make demo{int(self.nn)} failed:\n{r.stdout}{r.stderr}")
        self.state = m.group(1)

    def stop(self):
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        sock = os.path.join(os.environ.get("TMUX_TMPDIR", "/tmp"), f"tmux-{os.getuid()}", self.socket)
        if os.path.exists(sock):  # kill-server can leave its socket file behind
            os.unlink(sock)
        deadline = time.monotonic() + 20  # the lesson's watchdog stops its servers, removes its files
        while self.state and os.path.exists(self.state) and time.monotonic() < deadline:
            time.sleep(0.1)

    def panes(self):
        """[(id, left, top, width, height, title)]"""
        out = []
        for line in self.tm("list-panes", "-t", self.session, "-F",
                            "#{pane_id} #{pane_left} #{pane_top} #{pane_width} #{pane_height} #{pane_title}"
                            ).splitlines():
            f = line.split(" ", 5)
            if len(f) >= 5:
                out.append((f[0], *map(int, f[1:5]), f[5] if len(f) > 5 else ""))
        return out

    def pane_lines(self, pid, width, height, norm, is_trace):
        """The pane's visible rows, normalised; long lines wrapped again at the pane's width."""
        text = self.tm("capture-pane", "-p", "-J", "-S", str(-3 * height), "-t", pid)
        lines = norm.text(text, trace_times=is_trace).split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        rows = []
        for line in lines:
            line = line.rstrip()
            rows += [line[i:i + width] for i in range(0, max(len(line), 1), width)]
        rows = rows[-height:]
        return rows + [""] * (height - len(rows))


def compose(lesson, norm, control_id):
    """The screen as rows of (text, styles), tmux's layout redrawn; and the control pane's text."""
    grid = [[" "] * COLS for _ in range(ROWS + 1)]
    style = [[0] * COLS for _ in range(ROWS + 1)]
    covered = [[False] * COLS for _ in range(ROWS)]
    control = ""
    names = dict(l.split(" ", 1) for l in norm.read("panes").splitlines() if " " in l)
    trace_id = next((v.split()[0] for k, v in names.items() if k == "trace"), None)
    panes = lesson.panes()
    for pid, left, top, w, h, title in panes:
        rows = lesson.pane_lines(pid, w, h, norm, pid == trace_id)
        if pid == control_id:
            control = "\n".join(rows)
        for y, row in enumerate(rows):
            for x in range(w):
                covered[top + y][left + x] = True
                if x < len(row):
                    grid[top + y][left + x] = row[x]
            if pid == control_id and re.match(r"^(Step \d+/\d+ — \S+ pane:|That was the lesson)", row):
                for x in range(min(w, row.find(":") + 1 if "pane:" in row else len(row))):
                    style[top + y][left + x] = BOLD
    for y in range(ROWS):  # what no pane covers is border: a line between panes
        for x in range(COLS):
            if not covered[y][x]:
                above = y > 0 and covered[y - 1][x]
                below = y + 1 < ROWS and covered[y + 1][x]
                grid[y][x] = "─" if above or below or x == 0 else "│"
                style[y][x] = BORDER
    for pid, left, top, w, h, title in panes:  # pane-border-status top: the title above each pane
        if top > 0 and title:
            t = norm.text(f" {title} ", trace_times=False)[: max(0, w - 2)]
            for i, ch in enumerate(t):
                grid[top - 1][left + 2 + i] = ch
                style[top - 1][left + 2 + i] = TITLE
    status = f"[workbook: chapter {int(lesson.nn)}] 0:chapter{int(lesson.nn)}*".ljust(COLS)
    grid[ROWS] = list(status)
    style[ROWS] = [BORDER] * COLS
    return [("".join(g), tuple(s)) for g, s in zip(grid, style)], control


def render_row(row):
    text, styles = row
    out, cur = [], 0
    end = len(text.rstrip(" ")) if not any(styles[len(text.rstrip(" ")):]) else len(text)
    for ch, st in zip(text[:end], styles[:end]):
        if st != cur:
            out.append(SGR[st])
            cur = st
        out.append(ch)
    if cur:
        out.append(SGR[0])
    return "".join(out) + "\x1b[K"


def reading_time(changed_chars):
    """How long a frame stays: one second, plus time to read what changed (at most 5 s)."""
    return min(5.0, 1.0 + changed_chars / 60.0)


def record(nn, folder):
    steps_file = os.path.join(ROOT, folder, "demo.steps")
    steps = read_steps(steps_file)
    lesson = Lesson(nn, folder)
    started = time.monotonic()
    lesson.start()
    norm = Normaliser(lesson.state)
    events, last, candidate, clock, step_seen = [], None, None, 0.0, 0
    since = changing_since = time.monotonic()
    trace, offsets, pending = "", {}, []
    try:
        control_id = None
        while time.monotonic() - started < LESSON_TIMEOUT:
            norm.learn()
            if control_id is None:
                for line in norm.read("panes").splitlines():
                    if line.startswith("control "):
                        control_id = line.split()[1]
            screen, control = compose(lesson, norm, control_id)
            now = time.monotonic()
            if screen != candidate:
                candidate, since = screen, now
            if screen == last:
                changing_since = now
            same = now - since  # how long the screen has stayed as it is
            ended = "That was the lesson." in control
            # a step's explanation has appeared (looked for at every look, as it may scroll away
            # before the screen settles): its marker goes on the next frame, named as the control
            # pane names it; a step that scrolled away unseen is named from demo.steps
            for k, n, pane, cmd in re.findall(r"(?m)^Step (\d+)/(\d+) — (\S+) pane: (.*)$", control):
                while step_seen < int(k) <= len(steps):
                    step_seen += 1
                    label = f"{k}/{n} {pane}: {cmd.strip()}" if step_seen == int(k) else \
                        f"{step_seen}/{n} {steps[step_seen - 1][0]}: {steps[step_seen - 1][1]}"
                    pending.append(label)  # the control pane's text is normalised already
                    offsets[step_seen] = log_size(lesson.state)  # where its output will start
            # a lesson whose screen never rests (a timer tracing ten times a second) would put
            # two steps on one frame: the next step's arrival closes the previous one's frame
            crowded = len(pending) >= 2
            if screen != last and (same >= SETTLE or now - changing_since >= RESTLESS or crowded):
                if last is None:
                    data = "\x1b[?25l\x1b[H\x1b[2J" + "".join(
                        f"\x1b[{y + 1};1H" + render_row(r) for y, r in enumerate(screen))
                    changed = sum(len(r[0].strip()) for r in screen)
                else:
                    diff = [y for y, (a, b) in enumerate(zip(last, screen)) if a != b]
                    data = "".join(f"\x1b[{y + 1};1H" + render_row(screen[y]) for y in diff)
                    changed = sum(sum(a != b for a, b in zip(last[y][0], screen[y][0])) for y in diff)
                    clock = round(clock + reading_time(events[-1][3]), 1)
                keep = pending[-1:] if crowded else []
                events += [(clock, "m", label, 0) for label in pending[:len(pending) - len(keep)]]
                pending = keep
                events.append((clock, "o", data, changed))
                last, changing_since = screen, now
                if ended and same >= SETTLE:
                    break
            elif ended and screen == last and same >= SETTLE:
                break
            time.sleep(POLL)
        else:
            sys.exit(f"casts: chapter {nn}'s lesson did not end in {LESSON_TIMEOUT} s")
        with open(os.path.join(lesson.state, "trace.log"), "rb") as f:
            raw = f.read()
        os.makedirs(os.path.join(ROOT, "build/casts"), exist_ok=True)
        with open(os.path.join(ROOT, "build/casts", f"{nn}-trace.log"), "w", encoding="utf-8") as f:
            f.write(norm.text(raw.decode(errors="replace"), trace_times=False))  # every run: not committed
        # each step that writes the log: its part of the log, from where the log was when it was typed
        logged = [k for k, (_, cmd) in enumerate(steps, 1)
                  if "{log}" in cmd and ("{trace}" in cmd or "--trace" in cmd)]
        cuts = [offsets.get(k, len(raw)) for k in logged] + [len(raw)]
        runs = [(k, norm.text(raw[a:b].decode(errors="replace"), trace_times=False))
                for k, a, b in zip(logged, cuts, cuts[1:])]
        trace = pick_run(nn, runs, steps, norm)
        if not trace:  # no step writes its trace to {log}: the trace lines the server pane shows
            server = next(ln.split()[1] for ln in norm.read("panes").splitlines() if ln.startswith("server "))
            shown = norm.text(lesson.tm("capture-pane", "-p", "-J", "-S", "-", "-t", server), trace_times=False)
            trace = pick_run(nn, [(0, "\n".join(ln for ln in shown.splitlines() if TRACE_LINE.match(ln)))],
                             steps, norm)
    finally:
        lesson.stop()
    if step_seen != len(steps):
        sys.exit(f"casts: chapter {nn}: the recording saw {step_seen} of {len(steps)} steps")
    clock = round(clock + reading_time(events[-1][3]), 1)
    events += [(clock, "m", label, 0) for label in pending]
    header = {"version": 2, "width": COLS, "height": ROWS + 1,
              "title": f"make demo{int(nn)} ({folder})",
              "env": {"TERM": "screen-256color", "SHELL": "/bin/bash"},
              "workbook": {"chapter": nn, "steps": len(steps), "steps_sha256": steps_hash(steps_file),
                           "recorded_by": "scripts/classroom/casts.py", "demo_delay": DELAY}}
    lines = [json.dumps(header, ensure_ascii=False)]
    lines += [json.dumps([t, code, data], ensure_ascii=False) for t, code, data, _ in events]
    lines.append(json.dumps([clock, "o", "\x1b[?25h"]))
    os.makedirs(os.path.join(ROOT, "docs/casts"), exist_ok=True)
    cast = os.path.join(ROOT, "docs/casts", f"{nn}.cast")
    with open(cast, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(ROOT, "docs/img", f"{nn}-timeline.trace"), "w", encoding="utf-8") as f:
        f.write(trace or f"# chapter {int(nn)}: the lesson printed no --trace lines (no {{trace}} in its steps)\n")
    frames = sum(1 for e in events if e[1] == "o")
    print(f"casts: docs/casts/{nn}.cast: {frames} frames, {step_seen} steps, {clock:.0f} s of lesson, "
          f"{os.path.getsize(cast) // 1024} KiB; recorded in {time.monotonic() - started:.0f} s; "
          f"docs/img/{nn}-timeline.trace: {len(trace.splitlines())} lines")


def log_size(state):
    try:
        return os.path.getsize(os.path.join(state, "trace.log"))
    except OSError:
        return 0


def last_run(lines):
    """LINES from where the trace's clock last went back: a step's part of the log can begin with
    the end of the program before it (its marker appears while that one still runs); each program's
    clock starts at 0."""
    start, last = 0, None
    for i, line in enumerate(lines):
        m = TRACE_LINE.match(line)
        if m:
            if last is not None and float(m.group(1)) < last:
                start = i
            last = float(m.group(1))
    return lines[start:]


def pick_run(nn, runs, steps, norm):
    """The timeline's source: of the parts of the lesson's trace log each traced program wrote
    (RUNS: [(step, text)]), the one that dispatched most, cut after MAX_TRACE_LINES trace lines,
    with a first line saying which program and step it was."""
    runs = [(k, last_run(t.splitlines())) for k, t in runs]
    runs = [(k, lines) for k, lines in runs if any(TRACE_LINE.match(ln) for ln in lines)]
    if not runs:
        return ""
    step, lines = max(runs, key=lambda r: (sum(" dispatch " in ln for ln in r[1]), -r[0]))
    cmd = "the lesson's server pane"
    if step:
        cmd = steps[step - 1][1].replace("{bin}", "build/").replace(" {trace}", " --trace").split(" 2>>")[0]
    cmd = re.sub(r"\{(\w+)\}", lambda m: m.group(1).upper(), cmd)  # {redis_port} -> REDIS_PORT
    what = norm.text(cmd, trace_times=False) + (f" (lesson step {step})" if step else "")
    kept, n = [], 0
    for line in lines:
        n += bool(TRACE_LINE.match(line))
        if n > MAX_TRACE_LINES:
            break
        kept.append(line)
    total = sum(bool(TRACE_LINE.match(ln)) for ln in lines)
    cut = f"; its first {MAX_TRACE_LINES} of {total} trace lines" if total > MAX_TRACE_LINES else ""
    return f"# chapter {int(nn)}: {what}{cut}\n" + "\n".join(kept) + "\n"


def cast_header(path):
    with open(path, encoding="utf-8") as f:
        return json.loads(f.readline())


def stale(nn, folder):
    """Why chapter NN's cast or trace must be recorded again, or "" if they need not."""
    cast = os.path.join(ROOT, "docs/casts", f"{nn}.cast")
    if not os.path.isfile(cast):
        return f"chapter {nn} has a lesson but no docs/casts/{nn}.cast"
    if not os.path.isfile(os.path.join(ROOT, "docs/img", f"{nn}-timeline.trace")):
        return f"chapter {nn} has a lesson but no docs/img/{nn}-timeline.trace"
    recorded = cast_header(cast).get("workbook", {}).get("steps_sha256")
    if recorded != steps_hash(os.path.join(ROOT, folder, "demo.steps")):
        return f"docs/casts/{nn}.cast was recorded from another {folder}/demo.steps"
    return ""


def check():
    bad = 0
    for nn, folder in chapters():
        why = stale(nn, folder)
        if why:
            print(f"casts: {why}: make casts CH={int(nn)}")
            bad += 1
    sys.exit(1 if bad else 0)


def main():
    cmd, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if cmd == "record" and args == ["--stale"]:
        for nn, folder in chapters():
            if stale(nn, folder):
                record(nn, folder)
    elif cmd == "record" and args:
        have = dict(chapters())
        for a in args:
            nn = f"{int(a):02d}" if a.isdigit() else ""
            if nn not in have:
                sys.exit(f"casts: no lesson for chapter {a} (lessons: {' '.join(have) or 'none'})")
            record(nn, have[nn])
    elif cmd == "chapters":
        for nn, folder in chapters():
            print(nn, folder)
    elif cmd == "steps-hash" and len(args) == 1:
        print(steps_hash(args[0]))
    elif cmd == "check":
        check()
    else:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
