#!/usr/bin/env bats
# tests/adding_chapter.bats — docs/adding-a-chapter.md, proved: a copy of the
# repository (its tracked files, as they are in the working tree) gets a new
# chapter folder, 99_hello/ (from tests/fixtures/99_hello/), and with no edit
# outside that folder the build builds it, `make help` lists it, `make
# chapter99` runs it, `make test-chapter99` tests it, and git ignores its binary.

load helpers

setup_file() {
    SCRATCH="$BATS_FILE_TMPDIR/repo"
    mkdir -p "$SCRATCH"
    # the tracked files, as they are now (modified ones included)
    git -C "$WORKBOOK_ROOT" ls-files -z | tar -C "$WORKBOOK_ROOT" --null -T - -cf - |
        tar -C "$SCRATCH" -xf -
    # a repository of its own, so "nothing changed outside 99_hello/" is checkable
    git -C "$SCRATCH" init -q
    git -C "$SCRATCH" add -A
    git -C "$SCRATCH" -c user.name=t -c user.email=t@t commit -qm copy
    cp -r "$WORKBOOK_ROOT/tests/fixtures/99_hello" "$SCRATCH/99_hello"
    # build it all once here (both tests need it); the copy builds its own binaries
    make -C "$SCRATCH" -j2 all >"$BATS_FILE_TMPDIR/make.log" 2>&1 ||
        { cat "$BATS_FILE_TMPDIR/make.log" >&2; return 1; }
    export SCRATCH
}

@test "make builds the new chapter's program, lists it, and make help shows its target" {
    [ -x "$SCRATCH/build/99_hello/hello" ] || fail "build/99_hello/hello was not built"
    run make -C "$SCRATCH" --no-print-directory list-programs
    assert_success
    assert_line "build/99_hello/hello"
    run make -C "$SCRATCH" --no-print-directory help
    assert_success
    assert_line --regexp '^  make chapter99 +build chapter 99 and run its greeter'
    # the build lands under build/ (ignored), not in the chapter's folder;
    # the only change is the new folder, which holds only its sources
    git -C "$SCRATCH" check-ignore -q build/99_hello/hello
    [ ! -e "$SCRATCH/99_hello/hello" ] || fail "the binary was built inside 99_hello/"
    assert_equal "$(git -C "$SCRATCH" status --porcelain)" "?? 99_hello/"
}

@test "make chapter99 runs it, and make test-chapter99 runs its tests" {
    # setup_file built everything, but make still reads the copy's Makefile
    # (a pkg-config and a search for main() per chapter) before it runs the
    # program: on a loaded machine that alone can outlast start_server's 10 s,
    # so wait for the listening line with a bound of its own
    start_bg chapter99 make -C "$SCRATCH" --no-print-directory chapter99 PORT=0
    SERVER_PID=$BG_PID
    PORT=$(wait_listening_port "$BG_OUT" 60) || fail "no 'listening on' line: $(cat "$BG_ERR")"
    run timeout 10 nc 127.0.0.1 "$PORT" </dev/null
    assert_output "hello from chapter 99"
    # the recipe exec'd the server: it is make's child; stop it by its pid
    hello=$(pgrep -P "$SERVER_PID" -x hello) || fail "no hello under make"
    kill -TERM "$hello"
    wait_exit "$SERVER_PID" 10
    run make -C "$SCRATCH" --no-print-directory test-chapter99
    assert_success
    assert_line --index -1 "bats: 1 passed, 0 failed"
    run make -C "$SCRATCH" --no-print-directory test-chapter98
    assert_failure 2
    assert_output --partial "make: no chapter 98"
}
