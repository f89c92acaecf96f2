#!/usr/bin/env bats
# tests/docs.bats — the docs site (make docs, docs-sync, docs-check, serve-docs) in scratch
# copies of the checkout: the code a page shows is the code in the source, a missing region
# fails the build by name, no page carries C pasted by hand, the language switch finds its
# counterpart, and docs-check catches a broken link, anchor, image, column or width.

load helpers

BUILD=scripts/site/build.py

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
    run /usr/bin/python3 "$WORKBOOK_ROOT/scripts/site/check.py" "$site" "$BATS_TEST_TMPDIR/shots" "${good[@]}"
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
    run /usr/bin/python3 "$WORKBOOK_ROOT/scripts/site/check.py" "$site" "$BATS_TEST_TMPDIR/shots" \
        docs/links.html docs/image.html docs/wide.html 01_listener/onecol.c.html docs/01-listener.html
    assert_failure
    assert_output --partial 'docs-check: docs/links.html: broken link: docs/no-such-page.html'
    assert_output --partial 'docs-check: docs/links.html: broken anchor: docs/01-listener.html#no-such-section'
    assert_output --partial 'docs-check: docs/image.html: image does not load: docs/img/no-such.svg'
    assert_output --regexp 'docs-check: docs/wide.html: wider than the viewport: [0-9]+ px wide'
    assert_output --partial 'docs-check: 01_listener/onecol.c.html: source page without both columns'
    refute_output --partial 'docs-check: docs/01-listener.html:'
}

@test "make serve-docs: serves the site on 127.0.0.1:PORT, says where, and Ctrl-C stops it" {
    scratch "$S"
    port=$(free_port)
    start_bg serve setsid make -s -C "$S" serve-docs PORT="$port"
    wait_for_line "$BG_OUT" "^docs: http://127.0.0.1:$port/" 120
    wait_listening "$port" 30
    run /usr/bin/python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())' \
        "http://127.0.0.1:$port/docs/01-listener.html"
    assert_success
    assert_output --partial 'Chapter 1'
    # bound to loopback only
    run ss -ltnH "sport = :$port"
    assert_output --partial "127.0.0.1:$port"
    # Ctrl-C: SIGINT to the whole foreground group (make, its shell, the server)
    kill -INT -- "-$BG_PID"
    wait_exit "$BG_PID" 20
    run ss -ltnH "sport = :$port"
    assert_output ''
}
