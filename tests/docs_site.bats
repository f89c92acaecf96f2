#!/usr/bin/env bats
# tests/docs_site.bats — the docs site as a whole (make docs, docs-check, make serve-docs, shell
# blocks' colouring): a page for every Markdown file and source file, nothing
# from the network, docs-check catching a broken link, anchor, image, column or
# width, the server on 127.0.0.1:PORT stopped by Ctrl-C.
# Each test works in its own scratch copy of the checkout (tests/docs.bash).

load helpers
load docs

setup_file() { shared_site; }

setup() { docs_setup; }

@test "make docs: a page for README and every docs/*.md, every chapter's .c/.h side by side, the pictures, nothing from the network" {
    run cat "$DOCS_BASE_OUT"
    assert_output --regexp '^docs: [0-9]+ pages, [0-9]+ source files side by side'
    site="$BASE/build/site"
    [ -f "$site/index.html" ]
    n=0
    for md in "$BASE"/docs/*.md; do
        page="$site/docs/$(basename "${md%.md}").html"
        [ -f "$page" ] || fail "no page for $md"
        n=$((n + 1))
    done
    [ "$n" -ge 10 ]
    n=0
    for src in "$BASE"/[0-9][0-9]_*/*.[ch] "$BASE"/common/*.[ch]; do
        rel=${src#"$BASE"/}
        grep -q 'class="prose"' "$site/$rel.html" || fail "no side-by-side page for $rel"
        n=$((n + 1))
    done
    [ "$n" -ge 40 ]
    for svg in "$BASE"/docs/img/*.svg; do
        cmp "$svg" "$site/docs/img/$(basename "$svg")"
    done
    # offline: no stylesheet, script or image from elsewhere
    run grep -rlE '<(link|script|img)[^>]* (href|src)="(https?:)?//' "$site"
    assert_failure
    # chapter pages link to their functions in the annotated source
    grep -q 'href="../01_listener/listener.c.html#on_accept"' "$site/docs/01-listener.html"
    grep -q 'id="on_accept"' "$site/01_listener/listener.c.html"
    grep -q 'id="region-on_accept"' "$site/01_listener/listener.c.html"
}

@test "docs-check: good pages pass; a broken link, anchor or image, a one-column source page, a too-wide page fail by name" {
    site="$BATS_TEST_TMPDIR/site"
    cp -r "$BASE/build/site" "$site"
    good=(docs/01-listener.html 01_listener/listener.c.html docs/errata.html)
    # the defects, one page each (named as no chapter's: the previous/next chain stays as it is),
    # checked in the same browser as the good pages
    sed 's|</main>|<p><a href="no-such-page.html">gone</a> <a href="01-listener.html#no-such-section">x</a></p></main>|' \
        "$site/docs/answers.html" >"$site/docs/links.html"
    sed 's|</main>|<img src="img/no-such.svg" alt="gone"></main>|' "$site/docs/answers.html" >"$site/docs/image.html"
    sed 's|</main>|<div style="width:3000px">wide</div></main>|' "$site/docs/answers.html" >"$site/docs/wide.html"
    sed 's|class="code"|class="other"|g' "$site/01_listener/listener.c.html" >"$site/01_listener/onecol.c.html"
    run /usr/bin/python3 "$WORKBOOK_ROOT/scripts/docs/site/check.py" "$site" "$BATS_TEST_TMPDIR/shots" \
        "${good[@]}" docs/links.html docs/image.html docs/wide.html 01_listener/onecol.c.html
    assert_failure
    assert_output --partial 'docs-check: 7 of 7 pages rendered at 1280x800'
    [ -s "$BATS_TEST_TMPDIR/shots/docs__01-listener.png" ]
    [ -s "$BATS_TEST_TMPDIR/shots/01_listener__listener.c.png" ]
    # the good pages pass: not one problem names them
    for page in "${good[@]}"; do
        refute_output --partial "docs-check: $page:"
    done
    assert_output --partial 'docs-check: docs/links.html: broken link: docs/no-such-page.html'
    assert_output --partial 'docs-check: docs/links.html: broken anchor: docs/01-listener.html#no-such-section'
    assert_output --partial 'docs-check: docs/image.html: image does not load: docs/img/no-such.svg'
    assert_output --regexp 'docs-check: docs/wide.html: wider than the viewport: [0-9]+ px wide'
    assert_output --partial 'docs-check: 01_listener/onecol.c.html: source page without both columns'
    # and nothing else failed (the run, Chromium): every problem line names a defect page
    run grep -vE '^docs-check: ([0-9]+ of [0-9]+ pages rendered|docs/(links|image|wide)\.html: |01_listener/onecol\.c\.html: )' <<<"$output"
    assert_output ''
}

@test "make serve-docs: chapter 8's gateway serves the site on 127.0.0.1:PORT, says where, and Ctrl-C stops it" {
    scratch "$S"
    port=$(free_port)
    start_bg serve setsid make -s -C "$S" serve-docs PORT="$port"
    wait_for_line "$BG_OUT" "^docs: http://127.0.0.1:$port/" 120
    wait_listening "$port" 30
    run /usr/bin/python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())' \
        "http://127.0.0.1:$port/docs/01-listener.html"
    assert_success
    assert_output --partial 'Chapter 1'
    # chapter 8's gateway serves it: the front page as text/html, byte for byte
    run curl -s -o "$BATS_TEST_TMPDIR/index.html" -w '%{http_code} %{content_type}' "http://127.0.0.1:$port/"
    assert_output '200 text/html; charset=utf-8'
    cmp "$BATS_TEST_TMPDIR/index.html" "$S/build/site/index.html"
    # bound to loopback only
    run ss -ltnH "sport = :$port"
    assert_output --partial "127.0.0.1:$port"
    # Ctrl-C: SIGINT to the whole foreground group (make, its shell, the server)
    kill -INT -- "-$BG_PID"
    wait_exit "$BG_PID" 20
    run ss -ltnH "sport = :$port"
    assert_output ''
}

@test "shell blocks: a # comment is coloured on every line and words like test or in are plain; transcripts get prompt and output; path links show titles; source comments keep their alignment as rows" {
    site="$BASE/build/site"
    # README: make chapter1 / make test, each with a comment
    grep -qF 'make test       <span class="c1"># build everything and run the whole test suite</span>' "$site/index.html"
    grep -qF 'make chapter1   <span class="c1"># build chapter 1' "$site/index.html"
    # no shell keyword or builtin colours in the command blocks
    run grep -cE '<pre class="hl (sh|console)">.*<span class="(k|nb)">' "$site/docs/04-signals.html"
    assert_output 0
    # every sh line of chapter 4 that has a comment has it coloured
    run /usr/bin/python3 - "$site/docs/04-signals.html" <<'PY'
import html, re, sys
page = open(sys.argv[1], encoding="utf-8").read()
blocks = re.findall(r'<pre class="hl sh"><code>(.*?)</code></pre>', page, re.S)
assert blocks, "no sh blocks"
n = 0
for b in blocks:
    for line in b.split("\n"):
        plain = html.unescape(re.sub(r"<[^>]+>", "", line))
        if re.search(r"(^|\s)#", plain):
            assert '<span class="c1">#' in line, line
            n += 1
print(n, "comments")
PY
    assert_success
    # a transcript: "$ " prompts marked, output plain
    grep -q '<pre class="hl console"><code><span class="gp">\$ </span>' "$site/docs/02-redis-client.html"
    # a link written as a path shows the page's title (the path in its tooltip)
    grep -qF '<a href="docs/errata.html" title="docs/errata.md">Errata' "$site/index.html"
    grep -qF 'title="docs/answers.md#ex-1-3">1.3 What breaks without the accept pause</a>' "$site/docs/01-listener.html"
    # the header comment's "register  ..." lines: rows, their wrapped text joined
    grep -qF '<span class="term">register</span><span class="def">evconnlistener_new_bind() puts the listening socket into the event base with a callback attached;</span>' \
        "$site/01_listener/listener.c.html"
}
