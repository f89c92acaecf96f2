#!/usr/bin/env bats
# tests/exercises.bats — the exercise framework itself (scripts/exercises.sh):
# make check's answers and exit codes, make progress's table on an untouched
# workbook, and make verify-exercises failing, by name, when a reference
# solution is missing or broken. It works on a scratch copy of the parts of
# this checkout it needs (a fresh git repository, chapter 0's binaries
# included), so the results it records never land in the real one.

load helpers

setup_file() {
    COPY="$BATS_FILE_TMPDIR/wb"
    mkdir -p "$COPY"
    (
        cd "$WORKBOOK_ROOT" || exit 1
        {
            # what the tests below touch: the framework, the exercises, and
            # chapter 0 (exercise 0.1), built
            git ls-files -z --cached --others --exclude-standard -- Makefile scripts tests/helpers.bash tests/fuzz/fuzz.mk \
                exercises common 00_why_event_loop | grep -zv '^exercises/.*/answer.txt$'
            git ls-files -z --others --ignored --exclude-standard -- build/common build/00_why_event_loop
        } | tar --null -T - -cf - 2>/dev/null
    ) | tar -xf - -C "$COPY"
    (
        cd "$COPY" &&
            git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm snapshot
    ) || return 1
    export COPY
}

setup() {
    cd "$COPY" || return 1
    rm -rf build/exercises
    # (the inner bats runs turn their own watchdog off: scripts/exercises.sh's
    # run_check sees BATS_TEST_NAME; scripts/ci/run-tests.sh explains why)
}

@test "check: an unknown exercise id exits 2 and points at make progress" {
    run scripts/exercises.sh check 9.99
    assert_failure 2
    assert_output "check: no exercise '9.99': see make progress"
    run scripts/exercises.sh check
    assert_failure 2
}

@test "check of an exercise on the unmodified workbook: FAIL, what the check saw, the hint; no test machinery; exit 1" {
    run scripts/exercises.sh check 0.1
    assert_failure 1
    assert_line --index 0 "exercise 0.1 — $(sed -n 's/^title: //p' exercises/0.1/meta): FAIL"
    assert_line --index 1 "what the check saw:"
    assert_line "  ✘ answer.txt matches what echo_iterative really does with a second client"
    assert_line --partial 'no answer yet: write your prediction into exercises/0.1/answer.txt'
    assert_equal "${lines[-1]}" "hint: $(sed -n 's/^hint: //p' exercises/0.1/meta)"
    # nothing of bats, and no answer before it passes
    refute_output --partial 'from function'
    refute_output --partial 'in test file'
    refute_output --partial "' failed"
    refute_output --partial 'not ok'
    refute_output --partial 'answers.md'
}

@test "a check whose program misbehaves: FAIL says what the program printed, without scratch paths" {
    # 0.2 waits for a line the shipped echo_libevent never prints (1 s, not 10: it never comes)
    run env EXERCISE_WAIT=1 scripts/exercises.sh check 0.2
    assert_failure 1
    assert_line --partial 'the program printed:'
    assert_line --partial 'listening on 127.0.0.1:'
    refute_output --partial 'bats-run'
    refute_output --partial 'helpers.bash'
}

@test "make check: FAIL and PASS both end quietly, exit 0, no make error line; an unknown id is an error" {
    run make -s --no-print-directory check EX=0.1
    assert_success
    assert_line --index 0 --partial ': FAIL'
    refute_output --partial '***'
    git apply exercises/solutions/0.1.patch
    run make -s --no-print-directory check EX=0.1
    git apply -R exercises/solutions/0.1.patch
    assert_success
    assert_line --index 0 --partial ': PASS'
    run make -s --no-print-directory check EX=9.99
    assert_failure
    assert_line "check: no exercise '9.99': see make progress"
}

@test "progress on the unmodified workbook: every exercise listed, none passing" {
    metas=$(find exercises -mindepth 2 -maxdepth 2 -name meta | wc -l)
    [ "$metas" -ge 1 ] || fail "no exercises/*/meta at all"
    run scripts/exercises.sh progress
    assert_success
    assert_equal "$(grep -cE '^[0-9]+\.[0-9]+ ' <<<"$output")" "$metas"
    refute_line --regexp '^[0-9]+\.[0-9]+ +[✔✘?]'
    assert_line "progress: 0 of $metas exercises pass"
}

@test "a solved exercise: check says PASS and points to the answer, progress shows ✔ (and · again once undone)" {
    git apply exercises/solutions/0.1.patch
    run scripts/exercises.sh check 0.1
    assert_success
    assert_line --index 0 "exercise 0.1 — $(sed -n 's/^title: //p' exercises/0.1/meta): PASS"
    assert_line --index 1 "now read the explanation: docs/answers.md#ex-0-1"
    run scripts/exercises.sh progress
    assert_line --regexp '^0\.1 +✔ '
    git apply -R exercises/solutions/0.1.patch
    rm -rf build/exercises
    run scripts/exercises.sh progress
    assert_line --regexp '^0\.1 +· '
}

@test "progress marks only what was tried: an exercise sharing a solved one's file stays ·; it runs nothing unless RECHECK" {
    # a second exercise about the same file as 0.2
    mkdir -p exercises/0.9
    printf 'title: Shares echo_libevent.c with 0.2\ndifficulty: 1\nfiles: 00_why_event_loop/echo_libevent.c\nhint: none\n' \
        >exercises/0.9/meta
    printf '@test "never" {\n    false\n}\n' >exercises/0.9/check.bats
    git apply exercises/solutions/0.2.patch
    make -s --no-print-directory all >/dev/null 2>&1
    run scripts/exercises.sh check 0.2
    assert_success
    run scripts/exercises.sh progress
    git apply -R exercises/solutions/0.2.patch
    assert_line --regexp '^0\.2 +✔ '
    assert_line --regexp '^0\.9 +· '
    assert_line --regexp '^0\.1 +· '
    # undone: the file changed since 0.2's result; progress says so and runs nothing
    started=$SECONDS
    run scripts/exercises.sh progress
    assert_success
    [ $((SECONDS - started)) -lt 20 ] || fail "progress took $((SECONDS - started)) s"
    assert_line --regexp '^0\.2 +✔ .*\(files changed since this result\)$'
    assert_line --partial 'make progress RECHECK=1'
    refute_output --regexp '(^| )(cc|gcc|clang) '
    # RECHECK re-runs it, builds and all out of sight (undone, 0.2's check waits for
    # lines that never come: 1 s, not 10)
    run env EXERCISE_WAIT=1 scripts/exercises.sh progress --recheck
    assert_success
    assert_line --regexp '^0\.2 +✘ '
    assert_line --regexp '^0\.9 +· '
    refute_output --regexp '(^| )(cc|gcc|clang) '
    rm -rf exercises/0.9
    make -s --no-print-directory all >/dev/null 2>&1
}

@test "answer files are ignored by git" {
    echo 'b-echoed-while-a-connected: no' >exercises/0.1/answer.txt
    run git -C "$WORKBOOK_ROOT" check-ignore -q exercises/0.1/answer.txt
    rm -f exercises/0.1/answer.txt
    assert_success
}

@test "verify fails, naming the exercise, when its solution patch is missing" {
    git rm -q exercises/solutions/0.1.patch
    run scripts/exercises.sh verify --only 0.1
    git checkout -q HEAD -- exercises/solutions/0.1.patch
    assert_failure 1
    assert_line "FAILED 0.1: no solution: exercises/solutions/0.1.patch is missing"
    assert_line "verify-exercises: 1 exercises, 1 failed"
}

@test "verify fails, naming the exercise, when its solution patch does not apply" {
    sed -i 's/^+b-echoed/+garbage/; s/^@@ .*/@@ -7,3 +1,9 @@/' exercises/solutions/0.1.patch
    run scripts/exercises.sh verify --only 0.1
    git checkout -q HEAD -- exercises/solutions/0.1.patch
    assert_failure 1
    assert_line --regexp '^FAILED 0\.1: solution exercises/solutions/0\.1\.patch does not apply'
}
