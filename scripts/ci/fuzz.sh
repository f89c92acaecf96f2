#!/usr/bin/env bash
# scripts/ci/fuzz.sh — make fuzz: build every tests/fuzz/NAME.c harness with
# clang's libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer into
# build/fuzz/NAME, run each for FUZZ_S seconds (default 20) on a copy of its
# seeds (tests/fuzz/corpus/NAME/), and print one line per harness:
#   fuzz NAME: N executions, ok
# or the failure, libFuzzer's report and the input that caused it (kept in
# build/fuzz/NAME-crash-*; run build/fuzz/NAME on it to reproduce).
#
# A harness names what it links on its first line, and optionally pkg-config
# packages on its second (tests/fuzz/README.md is the convention):
#   /* fuzz-links: 07_redis_multiplexer/reply.c */
#   /* fuzz-pkgs: hiredis */
# FUZZ_ONLY=NAME runs one harness. Exit status: 0 all ok, 1 a harness failed
# or did not build, 2 bad usage.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
prog=fuzz.sh

FUZZ_S=${FUZZ_S:-20}
if ! [[ $FUZZ_S =~ ^[1-9][0-9]*$ ]]; then
    echo "$prog: FUZZ_S must be a whole number of seconds, not '$FUZZ_S'" >&2
    exit 2
fi
if ! command -v clang >/dev/null; then
    echo "$prog: clang not found: it brings libFuzzer (scripts/deps.sh fuzz installs it)" >&2
    exit 1
fi

out=build/fuzz
mkdir -p "$out"
failed=0
for harness in tests/fuzz/*.c; do
    [ -e "$harness" ] || break
    name=$(basename "$harness" .c)
    [ -n "${FUZZ_ONLY:-}" ] && [ "$FUZZ_ONLY" != "$name" ] && continue
    links=$(sed -n '1s|^/\* fuzz-links: \(.*\) \*/$|\1|p' "$harness")
    pkgs=$(sed -n '2s|^/\* fuzz-pkgs: \(.*\) \*/$|\1|p' "$harness")
    if [ -z "$links" ]; then
        echo "fuzz $name: FAILED: its first line must be /* fuzz-links: FILES */"
        failed=1
        continue
    fi
    # shellcheck disable=SC2086,SC2046  # links, pkgs and pkg-config's flags are word lists
    if ! clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Icommon \
        $(pkg-config --cflags libevent $pkgs) "$harness" $links \
        $(pkg-config --libs libevent $pkgs) -o "$out/$name" 2>"$out/$name.build.log"; then
        echo "fuzz $name: FAILED to build:"
        cat "$out/$name.build.log"
        failed=1
        continue
    fi
    # the seeds are copied: what libFuzzer adds stays in build/, not in git
    corpus="$out/$name.corpus"
    rm -rf "$corpus"
    mkdir -p "$corpus"
    [ -d "tests/fuzz/corpus/$name" ] && cp "tests/fuzz/corpus/$name"/* "$corpus"/ 2>/dev/null
    log="$out/$name.log"
    rm -f "$out/$name"-crash-* "$out/$name"-leak-* "$out/$name"-timeout-* "$out/$name"-oom-*
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
        "$out/$name" -max_total_time="$FUZZ_S" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$out/$name-" "$corpus" >"$log" 2>&1
    status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\)/\1/p' "$log" | tail -n 1)
    if [ $status -eq 0 ]; then
        echo "fuzz $name: ${execs:-0} executions, ok"
        continue
    fi
    failed=1
    echo "fuzz $name: FAILED after ${execs:-?} executions (exit $status):"
    grep -E 'ERROR|SUMMARY|#[0-9]+ 0x|deadly signal|Test unit written' "$log" | head -n 30
    for input in "$out/$name"-crash-* "$out/$name"-leak-* "$out/$name"-timeout-* "$out/$name"-oom-*; do
        [ -e "$input" ] || continue
        echo "the input ($input, $(wc -c <"$input") bytes):"
        od -A d -c "$input" | head -n 20
    done
done
exit $failed
