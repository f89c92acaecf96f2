#!/usr/bin/env bats
# tests/docs_regions.bats — code on the pages comes from the source by regions (make docs,
# make docs-sync): no page carries C pasted by hand, a changed line shows on
# the rebuilt pages, a missing region marker fails the build by name.
# Each test works in its own scratch copy of the checkout (tests/docs.bash).

load helpers
load docs

setup_file() { docs_deps; }

setup() { docs_setup; }

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
