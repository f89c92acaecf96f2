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
            git ls-files -z --cached --others --exclude-standard -- Makefile scripts tests/helpers.bash \
                exercises common 00_why_event_loop | grep -zv '^exercises/.*/answer.txt$'
            git ls-files -z --others --ignored --exclude-standard -- common 00_why_event_loop
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
    # the inner bats runs need bats's watchdog off (scripts/run-tests.sh explains)
    export BATS_TEST_TIMEOUT=
}

@test "check: an unknown exercise id exits 2 and points at make progress" {
    run scripts/exercises.sh check 9.99
    assert_failure 2
    assert_output "check: no exercise '9.99': see make progress"
    run scripts/exercises.sh check
    assert_failure 2
}

@test "check of an exercise on the unmodified workbook: FAIL, the hint, the failing assertion; exit 1" {
    run scripts/exercises.sh check 0.1
    assert_failure 1
    assert_line --index 0 "exercise 0.1 — $(sed -n 's/^title: //p' exercises/0.1/meta): FAIL"
    assert_line --index 1 "hint: $(sed -n 's/^hint: //p' exercises/0.1/meta)"
    assert_line --partial 'not ok 1 '
    assert_line --partial 'no answer yet'
}

@test "progress on the unmodified workbook: every exercise listed, none passing" {
    metas=$(find exercises -mindepth 2 -maxdepth 2 -name meta | wc -l)
    [ "$metas" -ge 1 ] || fail "no exercises/*/meta at all"
    run scripts/exercises.sh progress
    assert_success
    assert_equal "$(grep -cE '^[0-9]+\.[0-9]+ ' <<<"$output")" "$metas"
    refute_line --regexp '^[0-9]+\.[0-9]+ +✔'
    assert_line "progress: 0 of $metas exercises pass"
}

@test "a solved exercise: check says PASS, progress shows ✔ (and · again once undone)" {
    git apply exercises/solutions/0.1.patch
    run scripts/exercises.sh check 0.1
    assert_success
    assert_output "exercise 0.1 — $(sed -n 's/^title: //p' exercises/0.1/meta): PASS"
    run scripts/exercises.sh progress
    assert_line --regexp '^0\.1 +✔ '
    git apply -R exercises/solutions/0.1.patch
    rm -rf build/exercises
    run scripts/exercises.sh progress
    assert_line --regexp '^0\.1 +· '
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
