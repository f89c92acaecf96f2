#!/usr/bin/env bats
# tests/docs.bats — the docs site (make docs, docs-sync, docs-check, serve-docs) in scratch
# copies of the checkout: the code a page shows is the code in the source, a missing region
# fails the build by name, no page carries C pasted by hand, the language switch finds its
# counterpart, and docs-check catches a broken link, anchor, image, column or width; the
# navigation (previous/next, contents), the search typed in Chromium, figure text size, no
# stray spaces between Chinese characters, shell colouring and title links.

load helpers

BUILD=scripts/docs/site/build.py

# scratch DIR: a copy of the checkout (without build/ and .git) in DIR
scratch() {
    mkdir -p "$1"
    tar -C "$WORKBOOK_ROOT" --exclude=./build --exclude=./.git -cf - . | tar -C "$1" -xf -
}

setup_file() {
    BASE="$BATS_FILE_TMPDIR/base"
    make -s -C "$WORKBOOK_ROOT" docs-deps
    scratch "$BASE"
    make -s -C "$BASE" docs >"$BATS_FILE_TMPDIR/base.out" 2>&1
}

setup() {
    BASE="$BATS_FILE_TMPDIR/base"
    S="$BATS_TEST_TMPDIR/wb"
}

@test "make docs: a page for README and every docs/*.md, every chapter's .c/.h side by side, the pictures, nothing from the network" {
    run cat "$BATS_FILE_TMPDIR/base.out"
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

@test "the committed pages: every C block comes from a region and equals it (no hand-pasted code, no drift)" {
    run /usr/bin/python3 "$WORKBOOK_ROOT/$BUILD" check-md
    assert_success
    # and there are such blocks: every chapter page shows at least one region
    for page in "$WORKBOOK_ROOT"/docs/0[0-7]-*.md; do
        grep -q '^<!-- code: [0-9][0-9]_[a-z_]*/[a-z_]*\.[ch]#[A-Za-z0-9_]* -->$' "$page" ||
            fail "$page shows no code region"
    done
}

@test "a line changed inside a region shows in the rebuilt chapter page and source page; docs-sync brings the Markdown along" {
    scratch "$S"
    grep -q '    printf("recv a connection from %s\\n", c->peer);' "$S/01_listener/listener.c"
    sed -i 's|    printf("recv a connection from %s\\n", c->peer);|    printf("docs-test: changed in a region %s\\n", c->peer);|' \
        "$S/01_listener/listener.c"
    run make -s -C "$S" docs
    assert_success
    grep -q 'docs-test: changed in a region' "$S/build/site/docs/01-listener.html"
    grep -q 'docs-test: changed in a region' "$S/build/site/01_listener/listener.c.html"
    # the committed Markdown now lags behind: the drift check says where, docs-sync fixes it
    run env WORKBOOK_ROOT="$S" /usr/bin/python3 "$S/$BUILD" check-md
    assert_failure
    assert_output --partial 'docs/01-listener.md'
    assert_output --partial 'differs from its region'
    run make -s -C "$S" docs-sync
    assert_success
    assert_output --partial 'docs/01-listener.md: code blocks refreshed'
    grep -q 'docs-test: changed in a region' "$S/docs/01-listener.md"
    run env WORKBOOK_ROOT="$S" /usr/bin/python3 "$S/$BUILD" check-md
    assert_success
}

@test "a deleted or renamed region marker fails make docs, naming the page and the region" {
    scratch "$S"
    sed -i '/^\/\* region: on_accept \*\/$/d' "$S/01_listener/listener.c"
    run make -s -C "$S" docs
    assert_failure
    assert_output --regexp 'docs: docs/01-listener.md:[0-9]+: region 01_listener/listener.c#on_accept not found'
    # renamed: the page still asks for the old name
    scratch "$BATS_TEST_TMPDIR/wb1"
    sed -i 's|^/\* region: echo_lines \*/$|/* region: echo_lines_v2 */|' \
        "$BATS_TEST_TMPDIR/wb1/00_why_event_loop/echo_libevent.c"
    run make -s -C "$BATS_TEST_TMPDIR/wb1" docs
    assert_failure
    assert_output --regexp 'docs: docs/00-why-event-loop.md:[0-9]+: region 00_why_event_loop/echo_libevent.c#echo_lines not found'
    # an unclosed region fails the build too, naming the file
    scratch "$BATS_TEST_TMPDIR/wb2"
    sed -i '/^\/\* endregion \*\/$/d' "$BATS_TEST_TMPDIR/wb2/04_signals/signals.c"
    run make -s -C "$BATS_TEST_TMPDIR/wb2" docs
    assert_failure
    assert_output --regexp 'docs: docs/04-signals.md:[0-9]+: region 04_signals/signals.c#register_signal_events not found: .* has no /\* endregion \*/'
}

@test "C pasted into a page by hand fails the check, labelled or not" {
    scratch "$S"
    printf '\nThe callback:\n\n```c\nstatic void f(void)\n{\n}\n```\n' >>"$S/docs/03-timers.md"
    printf '\n```\nif (x) {\n    return 1;\n}\n```\n' >>"$S/docs/errata.md"
    run env WORKBOOK_ROOT="$S" /usr/bin/python3 "$S/$BUILD" check-md
    assert_failure
    assert_output --regexp 'docs: docs/03-timers.md:[0-9]+: C code pasted by hand'
    assert_output --regexp 'docs: docs/errata.md:[0-9]+: C code pasted by hand'
    # shell transcripts and compiler messages are not code regions
    run env WORKBOOK_ROOT="$WORKBOOK_ROOT" /usr/bin/python3 "$WORKBOOK_ROOT/$BUILD" check-md
    assert_success
}

@test "language switch: to the Chinese page when there is one, to the 'not translated yet' note when not, and back" {
    scratch "$S"
    rm -rf "$S/docs/zh"
    mkdir "$S/docs/zh"
    printf '# 第 1 章 — 监听器\n\n见[勘误](../errata.md)。\n\n<!-- code: 01_listener/listener.c#on_accept -->\n```c\n```\n' \
        >"$S/docs/zh/01-listener.md"
    printf '# 中英术语表\n\n| English | 中文 |\n|---|---|\n| register | 注册 |\n' >"$S/docs/zh/glossary.md"
    run make -s -C "$S" docs
    assert_success
    site="$S/build/site"
    grep -q '<a class="lang" hreflang="zh" href="zh/01-listener.html">中文</a>' "$site/docs/01-listener.html"
    grep -q '<a class="lang" hreflang="en" href="../01-listener.html">English</a>' "$site/docs/zh/01-listener.html"
    grep -q '<html lang="zh-CN">' "$site/docs/zh/01-listener.html"
    # no Chinese page: the note, which exists
    grep -q '<a class="lang" hreflang="zh" href="../zh-missing.html">中文</a>' "$site/docs/03-timers.html"
    grep -q '<a class="lang" hreflang="zh" href="../zh-missing.html">中文</a>' "$site/01_listener/listener.c.html"
    grep -q '这一页还没有中文版' "$site/zh-missing.html"
    # a link in the Chinese page to an English page lands on its .html
    grep -q 'href="../errata.html"' "$site/docs/zh/01-listener.html"
    # the Chinese page's nav names it by its own title
    grep -q '>1 监听器</a>' "$site/docs/zh/01-listener.html"
    # its code region is filled from the source too, captioned in Chinese
    grep -q 'bufferevent_socket_new' "$site/docs/zh/01-listener.html"
    grep -qE '01_listener/listener.c</a>, 第 [0-9]+–[0-9]+ 行' "$site/docs/zh/01-listener.html"
    # a Chinese-only page (the glossary): in the Chinese nav; its switch leads to the English home
    grep -q '<a href="glossary.html">中英术语表</a>' "$site/docs/zh/01-listener.html"
    grep -q '<a class="lang" hreflang="en" href="../../index.html">English</a>' "$site/docs/zh/glossary.html"
}

@test "docs-check: good pages pass; a broken link, anchor or image, a one-column source page, a too-wide page fail by name" {
    site="$BATS_TEST_TMPDIR/site"
    cp -r "$BASE/build/site" "$site"
    good=(docs/01-listener.html 01_listener/listener.c.html docs/errata.html)
    run /usr/bin/python3 "$WORKBOOK_ROOT/scripts/docs/site/check.py" "$site" "$BATS_TEST_TMPDIR/shots" "${good[@]}"
    assert_success
    assert_output --partial 'docs-check: 3 of 3 pages rendered at 1280x800'
    [ -s "$BATS_TEST_TMPDIR/shots/docs__01-listener.png" ]
    [ -s "$BATS_TEST_TMPDIR/shots/01_listener__listener.c.png" ]
    # the defects, one page each
    sed 's|</main>|<p><a href="no-such-page.html">gone</a> <a href="01-listener.html#no-such-section">x</a></p></main>|' \
        "$site/docs/answers.html" >"$site/docs/links.html"
    sed 's|</main>|<img src="img/no-such.svg" alt="gone"></main>|' "$site/docs/answers.html" >"$site/docs/image.html"
    sed 's|</main>|<div style="width:3000px">wide</div></main>|' "$site/docs/answers.html" >"$site/docs/wide.html"
    sed 's|class="code"|class="other"|g' "$site/01_listener/listener.c.html" >"$site/01_listener/onecol.c.html"
    run /usr/bin/python3 "$WORKBOOK_ROOT/scripts/docs/site/check.py" "$site" "$BATS_TEST_TMPDIR/shots" \
        docs/links.html docs/image.html docs/wide.html 01_listener/onecol.c.html docs/01-listener.html
    assert_failure
    assert_output --partial 'docs-check: docs/links.html: broken link: docs/no-such-page.html'
    assert_output --partial 'docs-check: docs/links.html: broken anchor: docs/01-listener.html#no-such-section'
    assert_output --partial 'docs-check: docs/image.html: image does not load: docs/img/no-such.svg'
    assert_output --regexp 'docs-check: docs/wide.html: wider than the viewport: [0-9]+ px wide'
    assert_output --partial 'docs-check: 01_listener/onecol.c.html: source page without both columns'
    refute_output --partial 'docs-check: docs/01-listener.html:'
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

@test "Chinese pages: a line break or a typed space between two Chinese characters is no space on the site (code keeps its own); docs-check catches one that gets through" {
    scratch "$S"
    printf '# 测试页\n\n服务器等待新连接，\n等发送缓冲区腾出空间。\n阻塞调用一次只能等*一件*\n事。**只对了一半。** 见 [勘误](../errata.md)，\nlibevent 和第 1 章 监听器，或者 第 2 章。\n\n```\n中 文\n```\n\n行内代码 `中 文` 保留。\n' \
        >"$S/docs/zh/cjk-test.md"
    run make -s -C "$S" docs
    assert_success
    page="$S/build/site/docs/zh/cjk-test.html"
    grep -qF '<p>服务器等待新连接，等发送缓冲区腾出空间。阻塞调用一次只能等<em>一件</em>事。<strong>只对了一半。</strong>见<a href="../errata.html">勘误</a>，libevent 和第 1 章 监听器，或者第 2 章。</p>' "$page"
    grep -qF '<pre><code>中 文' "$page"
    grep -qF '<code>中 文</code>' "$page"
    run /usr/bin/python3 "$WORKBOOK_ROOT/scripts/docs/site/check.py" "$S/build/site" "$BATS_TEST_TMPDIR/shots" docs/zh/cjk-test.html
    assert_success
    sed 's|</main>|<p>腾出空间。 阻塞调用</p></main>|' "$page" >"$S/build/site/docs/zh/cjk-bad.html"
    run /usr/bin/python3 "$WORKBOOK_ROOT/scripts/docs/site/check.py" "$S/build/site" "$BATS_TEST_TMPDIR/shots" docs/zh/cjk-bad.html
    assert_failure
    assert_output --partial 'docs-check: docs/zh/cjk-bad.html: a space between two Chinese characters: “腾出空间。 阻塞调用”'
}

@test "previous/next: each chapter page links its neighbours in the chapters' order, per language; a new chapter's page joins by itself; docs-check fails a chapter page without them" {
    scratch "$S"
    # a chapter numbered after every real one: it joins the end of the chain
    last=$(basename "$(ls "$S"/docs/[0-9][0-9]-*.md | tail -n 1)" .md)
    last_zh=$(basename "$(ls "$S"/docs/zh/[0-9][0-9]-*.md | tail -n 1)" .md)
    printf '# Chapter 99 — a new chapter\n\n## What and why\n\ntext\n\n## Run it\n\ntext\n' >"$S/docs/99-new-chapter.md"
    run make -s -C "$S" docs
    assert_success
    site="$S/build/site"
    grep -q "<a rel=\"next\" href=\"99-new-chapter.html\">" "$site/docs/$last.html"
    grep -q "<a rel=\"prev\" href=\"$last.html\">" "$site/docs/99-new-chapter.html"
    grep -q '<a rel="next" href="../index.html">' "$site/docs/99-new-chapter.html"
    grep -q '<a rel="prev" href="../index.html">' "$site/docs/00-why-event-loop.html"
    # the Chinese chain stays Chinese: its last chapter (no Chinese chapter 99) leads to the Chinese contents
    grep -q '<a rel="next" href="index.html">' "$site/docs/zh/$last_zh.html"
    grep -q '<a rel="prev" href="06-redis-relay.html">' "$site/docs/zh/07-redis-multiplexer.html"
    # a contents box on a page with sections, linking to them
    grep -q '<nav class="toc" aria-label="On this page">.*<a href="#run-it">Run it</a>' "$site/docs/99-new-chapter.html"
    grep -q '<nav class="toc" aria-label="本页目录">' "$site/docs/zh/01-listener.html"
    # the whole chain, checked in Chromium, and a chapter page that lost its links
    pages=()
    for p in "$site"/docs/[0-9][0-9]-*.html "$site"/docs/zh/[0-9][0-9]-*.html; do pages+=("${p#"$site"/}"); done
    run /usr/bin/python3 "$WORKBOOK_ROOT/scripts/docs/site/check.py" "$site" "$BATS_TEST_TMPDIR/shots" "${pages[@]}"
    assert_success
    sed 's|<nav class="pager"|<nav class="gone"|g' "$site/docs/03-timers.html" >"$site/docs/33-no-pager.html"
    run /usr/bin/python3 "$WORKBOOK_ROOT/scripts/docs/site/check.py" "$site" "$BATS_TEST_TMPDIR/shots" docs/33-no-pager.html
    assert_failure
    assert_output --partial 'docs-check: docs/33-no-pager.html: no previous chapter link'
    assert_output --partial 'docs-check: docs/33-no-pager.html: no next chapter link'
}

@test "search: the index holds every Markdown page of both languages; typed into the box in Chromium it finds the page (Chinese by character pairs); without its index it fails by name" {
    site="$BATS_TEST_TMPDIR/site"
    cp -r "$BASE/build/site" "$site"
    run /usr/bin/python3 - "$site" <<'PY'
import json, os, sys
site = sys.argv[1]
text = open(os.path.join(site, "search-index.js"), encoding="utf-8").read()
idx = json.loads(text[text.index("=") + 1:].strip().rstrip(";"))
pages = {d[0] for d in idx["docs"]}
for rel in ["index.html", "docs/zh/index.html", "docs/01-listener.html", "docs/zh/01-listener.html",
            "docs/errata.html", "docs/zh/glossary.html"]:
    assert rel in pages, rel
for md in os.listdir(os.path.join(site, "docs")):
    if md.endswith(".html") and md != "zh-missing.html":
        assert "docs/" + md in pages, md
# a posting is a section's number, or [number, count]
docs = lambda t: {idx["docs"][p if isinstance(p, int) else p[0]][0] for p in idx["terms"].get(t, [])}
assert "docs/01-listener.html" in docs("evconnlistener"), "evconnlistener"
assert "docs/01-listener.html" in docs("bind"), "an identifier's parts"
assert "docs/zh/01-listener.html" in docs("监听"), "a Chinese bigram"
assert "01_listener/listener.c.html" in docs("on_accept"), "a source page, by function"
assert any(d[:2] == ["01_listener/listener.c.html", "on_accept"] for d in idx["docs"]), "its anchor"
print(len(idx["docs"]), "sections", len(idx["terms"]), "terms")
PY
    assert_success
    run /usr/bin/python3 "$WORKBOOK_ROOT/scripts/docs/site/check.py" "$site" "$BATS_TEST_TMPDIR/shots" \
        index.html docs/zh/index.html docs/zh/01-listener.html docs/04-signals.html docs/zh/04-signals.html docs/05-watermarks.html
    assert_success
    [ -s "$BATS_TEST_TMPDIR/shots/search-1.png" ]
    [ -s "$BATS_TEST_TMPDIR/shots/search-2.png" ]
    rm "$site/search-index.js"
    run /usr/bin/python3 "$WORKBOOK_ROOT/scripts/docs/site/check.py" "$site" "$BATS_TEST_TMPDIR/shots" index.html
    assert_failure
    assert_output --partial "docs-check: index.html: search for 'self-pipe' showed no results"
}

@test "figures: every picture's smallest text is at least 14 px at 1280 px wide, in both languages; a picture with small text fails by name" {
    site="$BATS_TEST_TMPDIR/site"
    cp -r "$BASE/build/site" "$site"
    pages=()
    for p in $(grep -l '<img src="[^"]*\.svg"' "$site"/docs/*.html "$site"/docs/zh/*.html); do pages+=("${p#"$site"/}"); done
    [ "${#pages[@]}" -ge 10 ]
    run /usr/bin/python3 "$WORKBOOK_ROOT/scripts/docs/site/check.py" "$site" "$BATS_TEST_TMPDIR/shots" "${pages[@]}"
    assert_success
    refute_output --partial 'figure text'
    # gnuplot's 12-point text in a 1000-unit drawing: shown wider than the column, as needed
    grep -qE '<img src="img/00-why.svg"[^>]* width="1[0-9]{3}"' "$site/docs/00-why-event-loop.html"
    sed -i 's/font-size="14.00"/font-size="7.00"/g' "$site/docs/img/01-loop.svg"
    run /usr/bin/python3 "$WORKBOOK_ROOT/scripts/docs/site/check.py" "$site" "$BATS_TEST_TMPDIR/shots" docs/01-listener.html docs/zh/01-listener.html
    assert_failure
    assert_output --regexp 'docs-check: docs/01-listener.html: figure text too small: [0-9.]+ px in docs/img/01-loop.svg'
    assert_output --regexp 'docs-check: docs/zh/01-listener.html: figure text too small: [0-9.]+ px in docs/img/01-loop.svg'
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

@test "a new picture drawn with 10-point text is shown just wide enough for 14 px text, if it fits; one that cannot fit fails docs-check" {
    scratch "$S"
    sed 's/font-size="14.00"/font-size="10.00"/g' "$S/docs/img/04-selfpipe.svg" >"$S/docs/img/99-small.svg"
    sed 's/font-size="14.00"/font-size="6.00"/g' "$S/docs/img/06-relay.svg" >"$S/docs/img/99-tiny.svg"
    printf '\n![small text](img/99-small.svg)\n' >>"$S/docs/errata.md"
    printf '\n![tiny text](img/99-tiny.svg)\n' >>"$S/docs/answers.md"
    run make -s -C "$S" docs
    assert_success
    grep -qE '<img src="img/99-small.svg" width="[0-9]+" alt="small text"' "$S/build/site/docs/errata.html"
    run /usr/bin/python3 "$WORKBOOK_ROOT/scripts/docs/site/check.py" "$S/build/site" "$BATS_TEST_TMPDIR/shots" docs/errata.html docs/answers.html
    assert_failure
    refute_output --partial 'docs-check: docs/errata.html:'
    assert_output --regexp 'docs-check: docs/answers.html: figure text too small: [0-9.]+ px in docs/img/99-tiny.svg'
}
