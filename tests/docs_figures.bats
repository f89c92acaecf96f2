#!/usr/bin/env bats
# tests/docs_figures.bats — the pictures on the site: every picture's smallest text is
# at least 14 px at 1280 px wide, in both languages; one that cannot be fails
# docs-check by name.
# Each test works in its own scratch copy of the checkout (tests/docs.bash).

load helpers
load docs

setup_file() { shared_site; }

setup() { docs_setup; }

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
