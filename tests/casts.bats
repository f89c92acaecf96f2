#!/usr/bin/env bats
# tests/casts.bats — the recorded lessons (docs/casts/NN.cast, make casts) and the trace
# timelines (docs/img/NN-timeline.svg, make timelines): every lesson has a cast recorded from its
# current demo.steps, the casts hold no run-specific values, every chapter page gets its player
# and timeline, the timeline draws what a trace says, and docs-check plays the player in Chromium.
# Nothing is re-recorded here (make casts plays every lesson: minutes); see docs/site.md.

load helpers
load docs

PY=/usr/bin/python3

# lessons: "NN folder" for every NN_name/demo.steps
lessons() {
    local f d
    for f in "$WORKBOOK_ROOT"/[0-9][0-9]_*/demo.steps; do
        d=$(basename "$(dirname "$f")")
        echo "${d%%_*} $d"
    done
}

# svg_structure SVG: "lane NAME" per lane, top to bottom, then "KIND LANE SEQ" per mark, left to
# right, then "pause TITLE" per pause, as parsed from the SVG (not from the trace)
svg_structure() {
    "$PY" - "$1" <<'PY'
import re, sys, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
for g in root.iter(ns + "g"):
    if g.get("class") == "lane":
        print("lane", g.get("data-lane"))
marks = []
for e in root.iter():
    cls = (e.get("class") or "").split()
    if cls[:1] == ["mark"]:
        x = float(e.get("cx") or e.get("points").split(",")[0])
        marks.append((x, cls[1], e.get("data-lane"), int(e.get("data-seq"))))
for x, kind, lane, seq in sorted(marks):
    print(kind, lane, seq)
for e in root.iter(ns + "line"):
    if e.get("class") == "pause":
        print("pause", e.find(ns + "title").text)
sizes = [float(e.get("font-size")) for e in root.iter() if e.get("font-size")]
print("width", root.get("width"), "smallest-font", min(sizes))
PY
}

@test "every lesson has its cast, recorded from its current demo.steps: the steps' hash, count and markers" {
    local n=0 nn dir cast
    while read -r nn dir; do
        cast="$WORKBOOK_ROOT/docs/casts/$nn.cast"
        [ -f "$cast" ] || fail "$dir has a lesson but no docs/casts/$nn.cast: make casts CH=$((10#$nn))"
        run "$PY" - "$cast" "$WORKBOOK_ROOT/$dir/demo.steps" <<'PY'
import hashlib, json, re, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
head, events = json.loads(lines[0]), [json.loads(l) for l in lines[1:]]
assert head["version"] == 2 and head["width"] > 0 and head["height"] > 0, head
wb = head["workbook"]
# the steps as played: comments and blank lines are not part of a lesson, and
# a pane's & (client&: runs on) says when a step is typed, not what is typed
played = [l for l in open(sys.argv[2], "rb") if l.strip() and not l.startswith(b"#")]
played = [re.sub(rb"^(client2?)&\t", rb"\1\t", l) for l in played]
want = hashlib.sha256(b"".join(played)).hexdigest()
if wb["steps_sha256"] != want:
    sys.exit(f"{sys.argv[1]}: recorded from another demo.steps (sha256 {wb['steps_sha256'][:12]}, now {want[:12]})")
times = [e[0] for e in events]
assert times == sorted(times), "event times go backwards"
assert {e[1] for e in events} <= {"o", "m"}, {e[1] for e in events}
markers = [e[2] for e in events if e[1] == "m"]
assert [m.split(" ", 1)[0] for m in markers] == [f"{k}/{wb['steps']}" for k in range(1, wb["steps"] + 1)], markers
assert sum(e[1] == "o" for e in events) >= wb["steps"], "fewer frames than steps"
print(wb["steps"], "steps", len(markers), "markers")
PY
        assert_success
        steps=$(scripts/classroom/demo.sh --check "$WORKBOOK_ROOT/$dir/demo.steps")
        assert_output "${steps% steps} steps ${steps% steps} markers"
        n=$((n + 1))
    done < <(lessons)
    [ "$n" -ge 8 ]
    run "$PY" "$WORKBOOK_ROOT/scripts/classroom/casts.py" check
    assert_success
}

@test "a changed demo.steps makes its cast stale: casts.py check names the chapter and the fix" {
    local s="$BATS_TEST_TMPDIR/wb"
    mkdir -p "$s/scripts/classroom" "$s/docs/casts" "$s/docs/img"
    cp "$WORKBOOK_ROOT/scripts/classroom/casts.py" "$s/scripts/classroom/"
    cp -r "$WORKBOOK_ROOT/01_listener" "$s/"
    cp "$WORKBOOK_ROOT/docs/casts/01.cast" "$s/docs/casts/"
    cp "$WORKBOOK_ROOT/docs/img/01-timeline.trace" "$s/docs/img/"
    run "$PY" "$s/scripts/classroom/casts.py" check
    assert_success
    printf 'client\techo one more\tA step added after the recording.\n' >>"$s/01_listener/demo.steps"
    run "$PY" "$s/scripts/classroom/casts.py" check
    assert_failure
    assert_output "casts: docs/casts/01.cast was recorded from another 01_listener/demo.steps: make casts CH=1"
    rm "$s/docs/casts/01.cast"
    run "$PY" "$s/scripts/classroom/casts.py" check
    assert_failure
    assert_output "casts: chapter 01 has a lesson but no docs/casts/01.cast: make casts CH=1"
}

@test "the casts hold no run-specific values: ports, pids, scratch paths, the trace pane's times" {
    local f
    for f in "$WORKBOOK_ROOT"/docs/casts/*.cast "$WORKBOOK_ROOT"/docs/img/*-timeline.trace; do
        run grep -E "$WORKBOOK_ROOT|build/demo/ch[0-9]+\.[A-Za-z0-9]{6}" "$f"
        [ "${#lines[@]}" -eq 0 ] || [ "$(grep -cv 'build/demo/ch[0-9]*\.lesson' <<<"$output")" -eq 0 ] ||
            fail "$f names a scratch path: ${lines[0]}"
        # every port a cast shows is a stand-in: 40001.. servers, 46379 Redis, 50001.. clients
        # (and a pid after ps -p: 4101.. servers, 4379 Redis)
        run grep -oE '(127\.0\.0\.1[: ]|-p |port:? )[0-9]{4,5}\b' "$f"
        ports=$(grep -oE '[0-9]+$' <<<"$output" | sort -u | grep -vE '^(4000[1-9]|46379|500[0-9][0-9]|41[0-9][0-9]|4379)$' || true)
        [ -z "$ports" ] || fail "$f shows real ports: $ports"
    done
    # the trace pane's times are masked in the casts (they differ on every run)
    run grep -lE '[0-9]+\.[0-9] ms  (register|detect|dispatch)' "$WORKBOOK_ROOT"/docs/casts/*.cast
    assert_failure
}

@test "the recorder's normaliser: a lesson's ports, pids, paths and clocks become the same stand-ins every time" {
    local st="$BATS_TEST_TMPDIR/state"
    mkdir -p "$st"
    printf 'redis_port=38001\n' >"$st/env"
    echo 9999 >"$st/redis.pid"
    printf '12345 43210\n' >"$st/servers"
    run "$PY" - "$WORKBOOK_ROOT/scripts/classroom" "$st" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import casts
n = casts.Normaliser(sys.argv[2])
n.learn()
print(n.text("listening on 127.0.0.1:43210; producers connect to 127.0.0.1:43999"))
print(n.text("kill -USR1 12345; redis-cli -p 38001; redis pid 9999; client 127.0.0.1:51234 and 127.0.0.1:51234"))
print(n.text("client 127.0.0.1:60001 in build/demo/ch6.Ab12Cd/trace.log"))
print(n.text("  1649.9 ms  dispatch  fd 7  read -> on_read"))
print(n.text("  1649.9 ms  dispatch  fd 7  read -> on_read", trace_times=False))
print(n.text("1796307401.363317 [0 127.0.0.1:51234] \"PING\"\n1796307402.895286 [0 127.0.0.1:51234] \"GET\""))
PY
    assert_success
    assert_line --index 0 "listening on 127.0.0.1:40001; producers connect to 127.0.0.1:40002"
    assert_line --index 1 "kill -USR1 4101; redis-cli -p 46379; redis pid 4379; client 127.0.0.1:50001 and 127.0.0.1:50001"
    assert_line --index 2 "client 127.0.0.1:50002 in build/demo/ch6.lesson/trace.log"
    assert_line --index 3 "   ···.· ms  dispatch  fd 7  read -> on_read"
    assert_line --index 4 "  1649.9 ms  dispatch  fd 7  read -> on_read"
    assert_line --index 5 '1700000000.000001 [0 127.0.0.1:50001] "PING"'
    assert_line --index 6 '1700000000.000002 [0 127.0.0.1:50001] "GET"'
}

@test "every chapter page (en + zh) gets its player and its timeline under 'What you should see'; the SVGs match their traces" {
    local nn dir page svg n=0
    while read -r nn dir; do
        svg="$WORKBOOK_ROOT/docs/img/$nn-timeline.svg"
        [ -f "$svg" ] || fail "no docs/img/$nn-timeline.svg: make timelines"
        [ -s "$WORKBOOK_ROOT/docs/img/$nn-timeline.trace" ] || fail "no docs/img/$nn-timeline.trace: make casts CH=$((10#$nn))"
        "$PY" "$WORKBOOK_ROOT/scripts/classroom/timeline.py" "$WORKBOOK_ROOT/docs/img/$nn-timeline.trace" "$BATS_TEST_TMPDIR/$nn.svg"
        cmp -s "$svg" "$BATS_TEST_TMPDIR/$nn.svg" || fail "docs/img/$nn-timeline.svg differs from what its .trace draws: make timelines"
        for page in "$WORKBOOK_ROOT"/docs/"$nn"-*.md "$WORKBOOK_ROOT"/docs/zh/"$nn"-*.md; do
            [ -f "$page" ] || continue
            rel=${page#"$WORKBOOK_ROOT"/}
            grep -qE '^## (What you should see|你应该看到什么)' "$page" || fail "$rel has no 'What you should see' section"
            run "$PY" - "$WORKBOOK_ROOT" "$rel" <<'PY'
import sys
sys.path.insert(0, sys.argv[1] + "/scripts/docs/site")
import casts
rel = sys.argv[2]
body = '<h1>t</h1><h2 id="run">Run it</h2><p>a</p><h2 id="see">What you should see</h2><p>b</p>'
body = body.replace("What you should see", "你应该看到什么") if rel.startswith("docs/zh/") else body
out = casts.embed(sys.argv[1], rel, rel[:-3] + ".html", body)
see = out.index("<h2 id=\"see\">")
print(out.count('class="cast"'), out.count('class="timeline"'), out.index('class="cast"') > see,
      out.index('class="timeline"') > see)
PY
            assert_success
            assert_output "1 1 True True"
            n=$((n + 1))
        done
    done < <(lessons)
    [ "$n" -ge 16 ]
}

@test "timeline.py draws what a small trace says: lanes, marks, their order, the pauses, readable text" {
    run "$PY" "$WORKBOOK_ROOT/scripts/classroom/timeline.py" "$WORKBOOK_ROOT/tests/fixtures/timeline/small.trace" "$BATS_TEST_TMPDIR/t.svg"
    assert_success
    run svg_structure "$BATS_TEST_TMPDIR/t.svg"
    assert_success
    assert_output "lane loop
lane fd 6
lane fd 7
lane fd 8
lane fd 4
lane no fd yet
lane SIGINT
lane timers
register fd 6 0
register fd 6 1
register SIGINT 2
detect loop 3
detect fd 6 4
dispatch fd 6 5
register fd 7 6
register no fd yet 7
register fd 8 8
detect fd 8 9
dispatch fd 8 10
detect loop 11
detect fd 7 12
dispatch fd 7 13
register timers 14
detect timers 15
dispatch timers 16
detect fd 4 17
dispatch SIGINT 18
pause +1.5 s
pause +799 ms
pause +1.0 s
pause +100 ms
width 1280 smallest-font 18.0"
    # each lane is named by the callback that reads it
    grep -q '>fd 6  on_accept<' "$BATS_TEST_TMPDIR/t.svg"
    grep -q '>fd 7  on_client_read<' "$BATS_TEST_TMPDIR/t.svg"
    grep -q '>fd 8  on_redis_connected<' "$BATS_TEST_TMPDIR/t.svg"
}

@test "timeline.py: forty fds share the last lane, no line is lost; not a trace is exit 1, usage exit 2" {
    for fd in $(seq 10 49); do
        printf '%6.1f ms  register  fd %d  EV_READ  (event_add)\n' "$fd" "$fd"
    done >"$BATS_TEST_TMPDIR/many.trace"
    run "$PY" "$WORKBOOK_ROOT/scripts/classroom/timeline.py" "$BATS_TEST_TMPDIR/many.trace" "$BATS_TEST_TMPDIR/many.svg"
    assert_success
    run svg_structure "$BATS_TEST_TMPDIR/many.svg"
    [ "$(grep -c '^lane ' <<<"$output")" -eq 16 ]
    [ "$(grep -c '^register ' <<<"$output")" -eq 40 ]
    assert_line "register fd 10 0"
    assert_line "register other fds 39"
    echo "hello" >"$BATS_TEST_TMPDIR/not.trace"
    run "$PY" "$WORKBOOK_ROOT/scripts/classroom/timeline.py" "$BATS_TEST_TMPDIR/not.trace" "$BATS_TEST_TMPDIR/not.svg"
    assert_failure 1
    assert_output --partial "not.trace: no register/detect/dispatch lines: not a --trace log"
    run "$PY" "$WORKBOOK_ROOT/scripts/classroom/timeline.py"
    assert_failure 2
}

@test "docs-check: a chapter page's player loads and plays in Chromium, its timeline shows; without them it fails" {
    # the site all docs tests share (tests/docs.bash), copied: pages are added to it below
    shared_site
    local s=$DOCS_BASE site="$BATS_TEST_TMPDIR/site"
    cp -r "$DOCS_BASE/build/site" "$site"
    [ -f "$site/vendor/asciinema-player/asciinema-player.min.js" ]
    [ -f "$site/docs/casts/01.cast" ]
    [ -f "$site/docs/img/01-timeline.trace" ]
    run "$PY" "$s/scripts/docs/site/check.py" "$site" "$BATS_TEST_TMPDIR/shots" \
        docs/01-listener.html docs/zh/01-listener.html docs/06-redis-relay.html
    assert_success
    assert_output --partial "docs-check: 3 of 3 pages rendered"
    # (made after that run: a page named like a chapter's joins the previous/next chain; and a
    # page named as no chapter's is not checked for a player, so both are named as chapter 1's)
    sed 's|asciinema-player.min.js|no-such-player.js|' "$site/docs/01-listener.html" >"$site/docs/01-noplayer.html"
    sed 's|<img class="timeline"[^>]*>||' "$site/docs/01-listener.html" >"$site/docs/01-notimeline.html"
    run "$PY" "$s/scripts/docs/site/check.py" "$site" "$BATS_TEST_TMPDIR/shots" docs/01-notimeline.html docs/01-noplayer.html
    assert_failure
    assert_output --partial "docs-check: docs/01-notimeline.html: wants the timeline docs/img/01-timeline.svg shown once, shows it 0 times"
    refute_output --partial "docs-check: docs/01-notimeline.html: wants one asciinema player"
    assert_output --partial "docs-check: docs/01-noplayer.html: wants one asciinema player for docs/casts/01.cast, has 0"
    refute_output --partial "docs-check: docs/01-noplayer.html: wants the timeline"
}
