# shellcheck shell=bash disable=SC2034  # loaded by bats; sets variables for the tests
# tests/docs.bash — what the docs site's tests share (tests/docs_*.bats, casts.bats):
# a scratch copy of the checkout to build in, the site of an unchanged copy (BASE)
# built once for all of them, and the docs' packages installed one file at a time.

BUILD=scripts/docs/site/build.py

# scratch DIR: a copy of the checkout (without build/ and .git) in DIR
scratch() {
    mkdir -p "$1"
    tar -C "$WORKBOOK_ROOT" --exclude=./build --exclude=./.git -cf - . | tar -C "$1" -xf -
}

# docs_lock DIR: wait (up to 10 minutes) to make the directory DIR, the lock the
# docs files take turns with (they run in parallel); rmdir DIR releases it. A
# lock older than that was left by a killed run: taken over.
docs_lock() {
    local deadline=$((SECONDS + 600))
    until mkdir "$1" 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || { rmdir "$1" 2>/dev/null; continue; }
        sleep 0.2
    done
}

# docs_deps: make docs-deps, one file at a time (two package installs at once
# would fight over dpkg's lock)
docs_deps() {
    local lock="$WORKBOOK_ROOT/build/.docs-deps.lock" rc=0
    mkdir -p "$WORKBOOK_ROOT/build"
    docs_lock "$lock"
    make -s -C "$WORKBOOK_ROOT" docs-deps || rc=$?
    rmdir "$lock"
    return "$rc"
}

# shared_site (setup_file): the site of an unchanged copy of the checkout, built once
# and shared by every docs file of a run (and by the next runs, while nothing in the
# checkout changed): build/test-docs/KEY/wb, KEY the sha256 of the files the copy
# holds and of the packages that build it. Exports DOCS_BASE (the copy, with the site
# in build/site) and DOCS_BASE_OUT (make docs's output). Read only: a test that
# changes a page changes its own copy of the site (cp -r "$BASE/build/site" ...).
shared_site() {
    local root="$WORKBOOK_ROOT/build/test-docs" key dir rc=0
    docs_deps
    key=$( {
        dpkg-query -W pandoc python3-pygments 2>&1
        tar -C "$WORKBOOK_ROOT" --exclude=./build --exclude=./.git --sort=name --mtime=@0 \
            --owner=0 --group=0 --numeric-owner -cf - .
    } | sha256sum | cut -c1-16)
    dir="$root/$key"
    export DOCS_BASE="$dir/wb" DOCS_BASE_OUT="$dir/make-docs.out"
    if [ -d "$dir" ]; then
        touch "$dir" # last used now
        return 0
    fi
    mkdir -p "$root"
    docs_lock "$root/.lock"
    if [ ! -d "$dir" ]; then
        # sites of earlier checkouts, unless used in the last hour (a run may still read one)
        find "$root" -mindepth 1 -maxdepth 1 -type d -mmin +60 -exec rm -rf {} +
        rm -rf "$dir.tmp"
        scratch "$dir.tmp/wb"
        make -s -C "$dir.tmp/wb" docs >"$dir.tmp/make-docs.out" 2>&1 || rc=$?
        # only a site that built is shared: a failed build is tried again by the next file
        [ "$rc" -eq 0 ] && mv "$dir.tmp" "$dir"
    fi
    rmdir "$root/.lock"
    [ "$rc" -eq 0 ] || cat "$dir.tmp/make-docs.out" >&2
    return "$rc"
}

# docs_setup (setup): BASE, the shared unchanged copy (shared_site), and S, this
# test's own scratch copy (made by the test)
docs_setup() {
    BASE=${DOCS_BASE-}
    S="$BATS_TEST_TMPDIR/wb"
}
