#!/usr/bin/python3
"""timeline.py — a --trace log drawn as an SVG timeline: one lane per fd, a mark per step.

    scripts/classroom/timeline.py TRACE SVG      draw TRACE (lines as common/trace.c prints them) into SVG
    scripts/classroom/timeline.py --lanes TRACE  print the lanes and the marks as parsed (what the SVG shows)

make timelines runs it on every docs/img/NN-timeline.trace (scripts/classroom/casts.py keeps the lesson's
trace there). What it draws, top to bottom: the loop itself (epoll_wait returning, the next timer
it waits for), then one lane per fd in the order they first appear (the listener, each client,
Redis...), the fd-less events (a bufferevent before its socket exists), the signals, the timers.
On each lane: a hollow circle where an event is registered (event_add, epoll_ctl, event_del), a
diamond where the loop detects it ready, a filled dot where its callback is dispatched. Time runs
left to right, one slot per trace line so that order is never lost; a pause longer than GAP_MS
between two lines becomes a gap labelled with its length (a lesson waits seconds between steps,
a burst of work takes a tenth of a millisecond), and the time of each burst is written above it.
Each mark carries class="mark KIND", data-lane and data-seq (its line's place in the trace) and a
<title> with the trace line, so tests compare what is drawn without looking at pixels. Text is
18 px in a 1280-wide picture: at least 14 px on a page 1000 px wide. Standard library only.
"""
import html
import re
import sys

WIDTH = 1280
LABEL_W = 290         # the lanes' names, on the left
LANE_H = 34
TOP = 96              # title, legend, time labels
GAP_MS = 5.0          # a pause longer than this starts a new burst
GAP_W = 26            # the width of a pause
MAX_LANES = 16        # beyond that, the last fds share one lane
FONT = 18
COLOUR = {"register": "#1f5fbf", "detect": "#d9730d", "dispatch": "#1e8a3a"}
LINE = re.compile(r"^\s*(\d+(?:\.\d+)?) ms  (register|detect|dispatch)\s+(.*)$")


def lane_of(text):
    """The lane a trace line's subject belongs to."""
    m = re.match(r"fd (\d+)\b", text)
    if m:
        return f"fd {m.group(1)}"
    m = re.match(r"signal \d+ (SIG[A-Z0-9]+)", text)
    if m:
        return m.group(1)
    if text.startswith("timer"):
        return "timers"
    if text.startswith("no fd yet"):
        return "no fd yet"
    return "loop"  # "epoll_wait: 1 ready", "next timer due in ...": the loop waiting and waking


def parse(text):
    """(caption, [(seq, ms, kind, lane, line)]) from a trace log; other lines are skipped."""
    caption, events = "", []
    for line in text.splitlines():
        if line.startswith("# ") and not caption:
            caption = line[2:].strip()
        m = LINE.match(line)
        if m:
            events.append((len(events), float(m.group(1)), m.group(2), lane_of(m.group(3)), line.strip()))
    return caption, events


def lanes(events):
    """[(lane, label)] in drawing order; and {lane: drawn lane} (the overflow merged)."""
    first, callbacks = {}, {}
    for _, _, kind, lane, line in events:
        first.setdefault(lane, len(first))
        m = re.search(r"(\w+) -> (\w+)", line)
        if kind == "dispatch" and m and (lane not in callbacks or m.group(1) in ("accept", "read")
                                         and not callbacks[lane][0]):
            callbacks[lane] = (m.group(1) in ("accept", "read"), m.group(2))  # its reader names it best
    group = {"loop": 0, "no fd yet": 2, "timers": 4}
    order = sorted(first, key=lambda ln: (group.get(ln, 3 if ln.startswith("SIG") else 1), first[ln]))
    drawn = {ln: ln for ln in order}
    fds = [ln for ln in order if ln.startswith("fd ")]
    if len(order) > MAX_LANES:
        keep = len(fds) - (len(order) - MAX_LANES) - 1
        for ln in fds[keep:]:
            drawn[ln] = "other fds"
        order = [ln for ln in order if drawn[ln] == ln or ln == fds[keep]]
        order[order.index(fds[keep])] = "other fds"
    out = []
    for ln in order:
        if ln == "loop":
            label = "the loop (epoll_wait)"
        elif ln == "other fds":
            label = f"fd {fds[keep][3:]}… ({len(fds) - keep} fds)"
        else:
            label = ln + (f"  {callbacks[ln][1]}" if ln in callbacks else "")
        out.append((ln, label))
    return out, drawn


def duration(ms):
    return f"+{ms / 1000:.1f} s" if ms >= 1000 else f"+{ms:.0f} ms"


def layout(events):
    """x of each event, and the bursts: [(x_first, ms_first, pause_before_ms)]."""
    pauses = sum(1 for a, b in zip(events, events[1:]) if b[1] - a[1] > GAP_MS)
    room = WIDTH - LABEL_W - 30 - pauses * GAP_W
    slot = max(2.0, min(16.0, room / max(1, len(events))))
    xs, bursts, x, prev = [], [], LABEL_W + 20.0, None
    for ev in events:
        if prev is None or ev[1] - prev[1] > GAP_MS:
            if prev is not None:
                x += GAP_W
            bursts.append((x, ev[1], ev[1] - prev[1] if prev else 0.0))
        xs.append(x + slot / 2)
        x += slot
        prev = ev
    return xs, bursts, slot


def mark(kind, x, y, r, attrs):
    c = COLOUR[kind]
    if kind == "register":
        return f'<circle class="mark register" cx="{x:.1f}" cy="{y}" r="{r}" fill="#fff" stroke="{c}" stroke-width="2" {attrs}'
    if kind == "detect":
        pts = f"{x:.1f},{y - r - 1} {x + r + 1:.1f},{y} {x:.1f},{y + r + 1} {x - r - 1:.1f},{y}"
        return f'<polygon class="mark detect" points="{pts}" fill="{c}" {attrs}'
    return f'<circle class="mark dispatch" cx="{x:.1f}" cy="{y}" r="{r + 1}" fill="{c}" {attrs}'


def svg(text):
    caption, events = parse(text)
    rows, drawn = lanes(events)
    xs, bursts, slot = layout(events)
    y_of = {ln: TOP + 20 + i * LANE_H for i, (ln, _) in enumerate(rows)}
    height = TOP + 20 + len(rows) * LANE_H + 30
    r = 5 if slot >= 10 else 4
    esc = html.escape
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" font-family="DejaVu Sans, sans-serif" font-size="{FONT}">',
           f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>',
           f'<text class="caption" x="10" y="26" font-weight="bold">{esc(caption or "--trace timeline")}</text>']
    x = 10
    for kind in ("register", "detect", "dispatch"):
        out.append(mark(kind, x + 8, 52, 6, f'data-legend="{kind}"/>').replace('class="mark ', 'class="legend '))
        out.append(f'<text x="{x + 22}" y="58">{kind}</text>')
        x += 150
    out.append(f'<text x="{x + 10}" y="58" fill="#555">time →  ({len(events)} trace lines; '
               f'pauses over {GAP_MS:.0f} ms shortened)</text>')
    for ln, label in rows:
        y = y_of[ln]
        out.append(f'<g class="lane" data-lane="{esc(ln)}">'
                   f'<line x1="{LABEL_W}" y1="{y}" x2="{WIDTH - 10}" y2="{y}" stroke="#ccc"/>'
                   f'<text x="10" y="{y + 6}">{esc(label)}</text></g>')
    last_label = -1e9
    for i, (bx, ms, pause) in enumerate(bursts):
        if i:
            out.append(f'<line class="pause" x1="{bx - GAP_W / 2:.1f}" y1="{TOP}" x2="{bx - GAP_W / 2:.1f}" '
                       f'y2="{height - 30}" stroke="#999" stroke-dasharray="3,4"><title>{duration(pause)}</title></line>')
        if bx - last_label >= 110:
            out.append(f'<text class="time" x="{bx:.1f}" y="{TOP - 8}" fill="#555">{ms:.1f} ms</text>')
            last_label = bx
    for (seq, ms, kind, ln, line), x in zip(events, xs):
        attrs = (f'data-lane="{esc(drawn[ln])}" data-seq="{seq}" data-ms="{ms}">'
                 f'<title>{esc(line)}</title></{"polygon" if kind == "detect" else "circle"}>')
        out.append(mark(kind, x, y_of[drawn[ln]], r, attrs))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--lanes":
        with open(sys.argv[2], encoding="utf-8") as f:
            _, events = parse(f.read())
        rows, drawn = lanes(events)
        for ln, label in rows:
            print(f"lane {ln}: {label}")
        for seq, _, kind, ln, _ in events:
            print(f"{seq} {kind} {drawn[ln]}")
    elif len(sys.argv) == 3:
        try:
            with open(sys.argv[1], encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            sys.exit(f"timeline: {sys.argv[1]}: {e.strerror}")
        if not parse(text)[1]:
            sys.exit(f"timeline: {sys.argv[1]}: no register/detect/dispatch lines: not a --trace log")
        with open(sys.argv[2], "w", encoding="utf-8") as f:
            f.write(svg(text))
    else:
        print("usage: timeline.py TRACE SVG | --lanes TRACE", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
