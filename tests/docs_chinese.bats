#!/usr/bin/env bats
# tests/docs_chinese.bats — Chinese pages on the site: no stray space between two
# Chinese characters (a line break or a typed space), code keeping its own.
# Each test works in its own scratch copy of the checkout (tests/docs.bash).

load helpers
load docs

setup_file() { docs_deps; }

setup() { docs_setup; }

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
    # the built page passes docs-check; one with a typed space fails it (one browser for both)
    sed 's|</main>|<p>腾出空间。 阻塞调用</p></main>|' "$page" >"$S/build/site/docs/zh/cjk-bad.html"
    run /usr/bin/python3 "$WORKBOOK_ROOT/scripts/docs/site/check.py" "$S/build/site" "$BATS_TEST_TMPDIR/shots" \
        docs/zh/cjk-test.html docs/zh/cjk-bad.html
    assert_failure
    assert_output --partial 'docs-check: 2 of 2 pages rendered'
    assert_output --partial 'docs-check: docs/zh/cjk-bad.html: a space between two Chinese characters: “腾出空间。 阻塞调用”'
    # and that is the only problem
    run grep -vE '^docs-check: ([0-9]+ of [0-9]+ pages rendered|docs/zh/cjk-bad\.html: a space between)' <<<"$output"
    assert_output ''
}
