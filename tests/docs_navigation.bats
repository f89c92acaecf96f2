#!/usr/bin/env bats
# tests/docs_navigation.bats — moving between pages: the language switch finds its
# counterpart (or the 'not translated yet' note), previous/next links follow
# the chapters' order per language, a new chapter joins by itself.
# Each test works in its own scratch copy of the checkout (tests/docs.bash).

load helpers
load docs

setup_file() { docs_deps; }

setup() { docs_setup; }

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
