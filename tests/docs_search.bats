#!/usr/bin/env bats
# tests/docs_search.bats — the site's search: the index holds every page of both
# languages, and typed into the box in Chromium it finds them.
# Each test works in its own scratch copy of the checkout (tests/docs.bash).

load helpers
load docs

setup_file() { shared_site; }

setup() { docs_setup; }

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
