#!/usr/bin/env bash
# scripts/exercises.sh — the checkable exercises (exercises/README.md).
#
#   exercises.sh check N.M        run exercise N.M's check on this working tree:
#                                 "exercise N.M — TITLE: PASS" and where the answer
#                                 is, or FAIL, what the program did and the hint;
#                                 exit 0 / 1 (2: no such id). make check EX=N.M
#                                 prints the same and exits 0 for PASS and FAIL
#   exercises.sh progress [--recheck]
#                                 every exercise: ✔ passed, ✘ not passing, · not
#                                 started, from the results `check` recorded; runs
#                                 nothing, unless --recheck (make progress RECHECK=1):
#                                 then it re-runs the checks whose files changed
#                                 since their last result, builds and all quiet
#   exercises.sh verify [--only N.M]...
#                                 prove every check (or only these): it fails on the
#                                 unmodified workbook, passes with the reference
#                                 solution, and the chapter's tests still pass
#
# The Makefile calls it as make check EX=N.M / make progress / make verify-exercises.
# Results of `check` are remembered in build/exercises/N.M.result with a
# fingerprint of the files the exercise is about; `progress` compares it with
# the files now and says when a result is older than the student's last change.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
RESULTS=build/exercises

# meta_get ID KEY: the value of "KEY: value" in exercises/ID/meta (first one)
meta_get() { sed -n "s/^$2:[[:space:]]*//p" "exercises/$1/meta" | head -n 1; }

# meta_read ID: every key of exercises/ID/meta into the array META, without
# starting a process (progress reads them all; a fork is slow on some machines)
declare -A META
meta_read() {
    local line key
    META=()
    while IFS= read -r line || [ -n "$line" ]; do
        [[ $line =~ ^([a-z-]+):[[:space:]]*(.*)$ ]] || continue
        key=${BASH_REMATCH[1]}
        [ -n "${META[$key]+set}" ] || META[$key]=${BASH_REMATCH[2]}
    done <"exercises/$1/meta"
}

# every exercise id, in chapter then number order
all_ids() {
    local meta
    for meta in exercises/*/meta; do
        [ -f "$meta" ] || continue
        meta=${meta#exercises/}
        printf '%s\n' "${meta%/meta}"
    done | sort -t. -k1,1n -k2,2n
}

known_id() { [ -n "$1" ] && [ -f "exercises/$1/meta" ]; }

# STARS[difficulty]: how it is shown
declare -A STARS=([1]='★☆☆' [2]='★★☆' [3]='★★★')

# fingerprint ID: what the exercise's result depends on — the files a solution
# changes, the check itself and the student's answer file, if any
fingerprint() {
    local id=$1 f
    {
        for f in $(meta_get "$id" files) "exercises/$id/check.bats" "exercises/$id/answer.txt"; do
            printf '== %s\n' "$f"
            [ -f "$f" ] && cat "$f"
        done
    } | sha256sum | cut -c1-16
}

# run_check ID DIR LOG: run exercise ID's check.bats in the tree DIR, TAP into LOG
# (a hung check must not hang everything: bats's per-test timeout, 180 s,
# unless BATS_TEST_TIMEOUT is set and empty — see scripts/ci/run-tests.sh)
run_check() {
    local id=$1 dir=$2 log=$3
    (
        cd "$dir" || exit 1
        local timeout=180 v
        if [ -n "${BATS_TEST_NAME-}" ]; then
            timeout= # inside a bats test (tests/exercises.bats): its own timeout covers this
        elif [ "${BATS_TEST_TIMEOUT+set}" = set ]; then
            timeout=$BATS_TEST_TIMEOUT # empty: none
        fi
        # a check run from inside bats (tests/exercises.bats), maybe through make,
        # which drops bats's exported functions: start from a clean bats state,
        # and the real `bats` command, not the libexec script bats put on PATH
        for v in $(compgen -e | grep '^BATS_'); do
            [ "$v" = BATS_LIB_PATH ] || unset "$v"
        done
        PATH=$(tr ':' '\n' <<<"$PATH" | grep -v '/libexec/bats-core$' | paste -sd: -)
        [ -n "$timeout" ] && export BATS_TEST_TIMEOUT=$timeout
        WORKBOOK_BIN=$dir/build exec bats --tap "exercises/$id/check.bats"
    ) >"$log" 2>&1
}

# failing_part LOG: the failed tests and bats's explanation of each
failing_part() { awk '/^not ok /{show=1; print; next} /^ok /{show=0} show && /^#/' "$1"; }

# what_it_did LOG: the failed tests' names and what the check reported about
# the program, without the test machinery: bats's "(from function … in file …,
# line …)" and "`command' failed" lines, bats-assert's "--" frames, and the
# scratch paths of the test run
what_it_did() {
    failing_part "$1" | awk '
        /^not ok / { sub(/^not ok [0-9]+ /, ""); sub(/ # .*$/, ""); print "✘ " $0; next }
        { sub(/^# ?/, "") }
        in_cmd { if ($0 ~ /'"'"' failed$/) in_cmd = 0; next }
        /^  `/ { if ($0 !~ /'"'"' failed$/) in_cmd = 1; next }
        /^\((from function|in test file) / { if ($0 !~ /\)$/) in_frame = 1; next }
        in_frame { if ($0 ~ /\)$/) in_frame = 0; next }
        /^--$/ || /^$/ { next }
        /^-- .* --$/ { sub(/^-- /, ""); sub(/ --$/, ":") }
        { print }' |
        sed -E 's#[^ ]*/bats-run-[^/ ]*/test/[0-9]+/##g; s#[^ ]*/bats-run-[^/ ]*/##g'
}

cmd_check() {
    local id=${1-}
    if ! known_id "$id"; then
        echo "check: no exercise '$id': see make progress" >&2
        exit 2
    fi
    local title log status answer
    title=$(meta_get "$id" title)
    mkdir -p "$RESULTS"
    log="$RESULTS/$id.log"
    if run_check "$id" "$ROOT" "$log"; then
        status=pass
        echo "exercise $id — $title: PASS"
        answer=$(meta_get "$id" answer)
        if [ -n "$answer" ]; then
            echo "now read the explanation: $answer"
        elif [ -f "exercises/solutions/$id.patch" ]; then
            echo "now compare with the reference solution: exercises/solutions/$id.patch"
        fi
    else
        status=fail
        echo "exercise $id — $title: FAIL"
        echo "what the check saw:"
        what_it_did "$log" | sed 's/^/  /'
        echo "hint: $(meta_get "$id" hint)"
    fi
    printf '%s %s\n' "$status" "$(fingerprint "$id")" >"$RESULTS/$id.result"
    [ "$status" = pass ]
}

# tried ID: the student ran its check (a result is recorded) or wrote an
# answer. Only that: an exercise whose files another exercise's solution
# changed is not started until its own check runs.
tried() { [ -f "$RESULTS/$1.result" ] || [ -f "exercises/$1/answer.txt" ]; }

cmd_progress() {
    local recheck=0
    [ "${1-}" = --recheck ] && recheck=1
    local id mark note passed=0 total=0 stale=0 built=0 recorded
    printf '%-6s %-4s  %-5s  %s\n' id 'done' level title
    for id in $(all_ids); do
        total=$((total + 1))
        meta_read "$id"
        note=
        if ! tried "$id"; then
            mark='·'
        else
            recorded=$(cat "$RESULTS/$id.result" 2>/dev/null)
            if [ -z "$recorded" ] || [ "${recorded#* }" != "$(fingerprint "$id")" ]; then
                if [ "$recheck" = 1 ]; then
                    # the build's compiler lines and the check's report stay out of the table
                    if [ "$built" = 0 ]; then
                        make --no-print-directory -s all >/dev/null 2>&1
                        built=1
                    fi
                    cmd_check "$id" >/dev/null 2>&1
                    recorded=$(cat "$RESULTS/$id.result")
                else
                    stale=$((stale + 1))
                    note=${recorded:+"  (files changed since this result)"}
                    note=${note:-"  (answer written, not checked yet)"}
                fi
            fi
            case $recorded in pass*) mark='✔' ;; fail*) mark='✘' ;; *) mark='?' ;; esac
        fi
        [ "$mark" = '✔' ] && [ -z "$note" ] && passed=$((passed + 1))
        printf '%-6s  %s    %s  %s%s\n' "$id" "$mark" "${STARS[${META[difficulty]-}]-?  }" "${META[title]-}" "$note"
    done
    echo "progress: $passed of $total exercises pass"
    echo "(✔ passes  ✘ tried, not passing yet  · not started  ? answer written, not checked yet)"
    if [ "$stale" -gt 0 ]; then
        echo "$stale result(s) older than your last change: make check EX=N.M, or make progress RECHECK=1 to re-run them all"
    fi
}

# ---- verify ------------------------------------------------------------------

# copy_tree DEST: this checkout's files (tracked and new ones, not ignored)
# plus the build's outputs, with their times, so make rebuilds only what a
# patch touches
copy_tree() {
    local dest=$1
    mkdir -p "$dest"
    {
        git ls-files -z --cached --others --exclude-standard | grep -zv "^exercises/.*/answer.txt$"
        git ls-files -z --others --ignored --exclude-standard -- common '[0-9][0-9]_*'
    } | tar --null -T - -cf - 2>/dev/null | tar -xf - -C "$dest"
}

# chapter_tests ID: the chapter's own .bats files (chapter N of id N.M)
chapter_tests() {
    local n=${1%%.*} dir
    for dir in "$(printf '%02d' "$n")"_*/; do
        [ -d "$dir" ] && ls "$dir"*.bats 2>/dev/null
    done
}

# verify_one ID SCRATCH: the three facts for one exercise; prints its report,
# last line "verified ID" or "FAILED ID: why"
verify_one() {
    local id=$1 dir=$2/$1 started=$SECONDS
    local patch="exercises/solutions/$id.patch"
    copy_tree "$dir"
    # (verify_one runs in a subshell of its own: exit ends only that)
    fail_with() {
        echo "FAILED $id: $*"
        exit 1
    }
    echo "--- exercise $id — $(meta_get "$id" title)"
    if run_check "$id" "$dir" "$dir/check-before.log"; then
        fail_with "its check passes on the unmodified workbook (it would pass vacuously)"
    fi
    echo "  check fails on the unmodified workbook: yes"
    [ -f "$dir/$patch" ] || fail_with "no solution: $patch is missing"
    # the ceiling: inside a checkout, git apply would take the enclosing
    # repository's root as the patch's root and skip paths outside "here"
    (cd "$dir" && GIT_CEILING_DIRECTORIES=$(dirname "$dir") git apply "$patch") >"$dir/apply.log" 2>&1 ||
        fail_with "solution $patch does not apply: $(head -n 3 "$dir/apply.log" | tr '\n' ' ')"
    if ! make -C "$dir" --no-print-directory -s all >"$dir/build.log" 2>&1; then
        tail -n 20 "$dir/build.log" | sed 's/^/    /'
        fail_with "the build fails with $patch applied"
    fi
    if ! run_check "$id" "$dir" "$dir/check-after.log"; then
        failing_part "$dir/check-after.log" | sed 's/^/    /'
        fail_with "its check fails with $patch applied"
    fi
    echo "  check passes with $patch: yes"
    # A solution that changes nothing outside exercises/ (a predict
    # exercise's answer.txt) leaves the chapter's code as make test tests it.
    local code
    code=$(cd "$dir" && git apply --numstat "$patch" | cut -f3 | grep -v '^exercises/')
    if [ -z "$code" ]; then
        echo "  chapter tests: not needed — the solution changes no code, only exercises/$id/"
        echo "verified $id in $((SECONDS - started)) s"
        return 0
    fi
    # changes-tests: FILE.bats: WHY          the whole file is not run
    #                FILE.bats "TEST": WHY   that test runs, but its result
    #                                        does not count
    local tests=() file line excluded=() allowed=()
    while IFS= read -r line; do
        if [[ $line =~ ^([^ :]+\.bats)\ \"(.*)\":\ *(.*)$ ]]; then
            allowed+=("${BASH_REMATCH[2]}")
            echo "  not counted: ${BASH_REMATCH[1]} \"${BASH_REMATCH[2]}\" — the solution" \
                "changes it on purpose: ${BASH_REMATCH[3]}"
        elif [[ $line =~ ^([^ :]+\.bats):\ *(.*)$ ]]; then
            excluded+=("${BASH_REMATCH[1]}")
            echo "  not run: ${BASH_REMATCH[1]} — the solution changes it on purpose: ${BASH_REMATCH[2]}"
        fi
    done < <(sed -n 's/^changes-tests:[[:space:]]*//p' "exercises/$id/meta")
    for file in $(chapter_tests "$id"); do
        [[ " ${excluded[*]} " == *" $(basename "$file") "* ]] || tests+=("$dir/$file")
    done
    if [ ${#tests[@]} -gt 0 ]; then
        (cd "$dir" && WORKBOOK_BIN=$dir/build TEST_TIMES=0 scripts/ci/run-tests.sh "${tests[@]}") \
            >"$dir/tests.log" 2>&1
        # every failure that is not an allowed one, and bats's own troubles
        local failed=() name ok
        while IFS= read -r name; do
            name=${name% in [0-9]*ms}
            ok=0
            for line in "${allowed[@]}"; do [ "$line" = "$name" ] && ok=1; done
            [ "$ok" = 1 ] || failed+=("$name")
        done < <(sed -n 's/^not ok [0-9]* //p' "$dir/tests.log")
        local summary
        summary=$(tail -n 1 "$dir/tests.log")
        if [ ${#failed[@]} -gt 0 ] || ! grep -qE '^bats: [0-9]+ passed' <<<"$summary"; then
            printf '    not ok: %s\n' "${failed[@]}"
            fail_with "chapter tests fail with $patch applied ($summary)"
        fi
        echo "  chapter tests with the solution: $summary${allowed[0]+ (only tests not counted failed)}"
    fi
    echo "verified $id in $((SECONDS - started)) s"
}

cmd_verify() {
    local only=() keep=0
    while [ $# -gt 0 ]; do
        case $1 in
        --only) only+=("$2"); shift 2 ;;
        --keep) keep=1; shift ;;
        *) echo "verify: unknown argument '$1'" >&2; exit 2 ;;
        esac
    done
    local ids=("${only[@]}")
    [ ${#ids[@]} -eq 0 ] && mapfile -t ids < <(all_ids)
    if [ ${#ids[@]} -eq 0 ]; then
        echo "verify-exercises: no exercises found (exercises/*/meta)"
        exit 1
    fi
    local id
    for id in "${ids[@]}"; do
        known_id "$id" || { echo "verify: no exercise '$id'" >&2; exit 2; }
    done
    local started=$SECONDS
    # global: the EXIT trap reads it after this function has returned
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/verify-exercises.XXXXXX")
    [ "$keep" = 1 ] || trap 'rm -rf "$scratch"' EXIT
    local jobs=${VERIFY_JOBS:-$(($(nproc) * 2))}
    echo "verify-exercises: ${#ids[@]} exercises, $jobs at a time, in $scratch"
    export -f verify_one copy_tree run_check failing_part meta_get chapter_tests
    export RESULTS
    # each exercise in its own copy; one report per exercise, printed whole
    # shellcheck disable=SC2016  # $1 and $2 belong to the inner bash
    printf '%s\n' "${ids[@]}" | xargs -P "$jobs" -I{} bash -c \
        '(verify_one "$1" "$2") >"$2/$1.report" 2>&1; cat "$2/$1.report"' _ {} "$scratch"
    local failures=()
    for id in "${ids[@]}"; do
        grep -q "^verified $id " "$scratch/$id.report" 2>/dev/null ||
            failures+=("$(grep -m1 '^FAILED' "$scratch/$id.report" 2>/dev/null || echo "FAILED $id: no report")")
    done
    echo "verify-exercises took $((SECONDS - started)) s"
    if [ ${#failures[@]} -gt 0 ]; then
        printf '%s\n' "${failures[@]}"
        echo "verify-exercises: ${#ids[@]} exercises, ${#failures[@]} failed"
        exit 1
    fi
    echo "verify-exercises: ${#ids[@]} exercises, all proven"
}

case ${1-} in
check) shift; cmd_check "$@" ;;
progress) shift; cmd_progress "$@" ;;
verify) shift; cmd_verify "$@" ;;
*)
    echo "usage: $0 check N.M | progress [--recheck] | verify [--only N.M]... [--keep]" >&2
    exit 2
    ;;
esac
