# shellcheck shell=bash disable=SC2034  # loaded by bats; sets variables for the tests
# tests/docs.bash — what the docs site's tests share (tests/docs_*.bats): a
# scratch copy of the checkout to build in, the site built once per file from
# an unchanged copy (BASE), and the docs' packages installed one file at a time.

BUILD=scripts/docs/site/build.py

# scratch DIR: a copy of the checkout (without build/ and .git) in DIR
scratch() {
    mkdir -p "$1"
    tar -C "$WORKBOOK_ROOT" --exclude=./build --exclude=./.git -cf - . | tar -C "$1" -xf -
}

# docs_deps: make docs-deps, one file at a time (the docs files run in
# parallel, and two package installs at once would fight over dpkg's lock);
# the lock is a directory, waited for up to 10 minutes
docs_deps() {
    local lock="$WORKBOOK_ROOT/build/.docs-deps.lock" deadline=$((SECONDS + 600)) rc=0
    mkdir -p "$WORKBOOK_ROOT/build"
    until mkdir "$lock" 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || { rmdir "$lock" 2>/dev/null; continue; }
        sleep 0.2
    done
    make -s -C "$WORKBOOK_ROOT" docs-deps || rc=$?
    rmdir "$lock"
    return "$rc"
}

# build_base_site (setup_file): the site of an unchanged copy, in BASE; make
# docs's output in $BATS_FILE_TMPDIR/base.out
build_base_site() {
    BASE="$BATS_FILE_TMPDIR/base"
    docs_deps
    scratch "$BASE"
    make -s -C "$BASE" docs >"$BATS_FILE_TMPDIR/base.out" 2>&1
}

# docs_setup (setup): BASE, and S, this test's own scratch copy (made by the test)
docs_setup() {
    BASE="$BATS_FILE_TMPDIR/base"
    S="$BATS_TEST_TMPDIR/wb"
}
