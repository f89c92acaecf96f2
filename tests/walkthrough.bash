# shellcheck shell=bash disable=SC2034,SC2154  # loaded by bats: reads its $status/$output, sets variables for the tests
# tests/walkthrough.bash — what tests/walkthrough*.bats share: reading a
# page's transcript block, normalising real output, comparing the two, and
# running an expect script in a terminal. (The walkthrough is two files only
# so that they run in parallel.)

DOCS="$WORKBOOK_ROOT/docs"

# make redis daemonizes its Redis: stop it even when a test failed half-way
teardown() {
    if [ -n "${WORKBOOK_REDIS_STATE-}" ] && [ -f "$WORKBOOK_REDIS_STATE/redis.pid" ]; then
        kill "$(cat "$WORKBOOK_REDIS_STATE/redis.pid")" 2>/dev/null || true
    fi
    stop_test_processes
}

# doc_block PAGE NAME: the fenced block under <!-- transcript: NAME ... -->
doc_block() {
    awk -v name="$2" '
        $0 ~ "^<!-- transcript: " name "( excerpt)? -->$" { found = 1; next }
        found && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }' "$DOCS/$1"
}

is_excerpt() { grep -qE "^<!-- transcript: $2 excerpt -->$" "$DOCS/$1"; }

# normalise: what legitimately differs between runs, made equal
normalise() {
    sed -E -e 's/\r//g' \
        -e 's/127\.0\.0\.1:[0-9]+/127.0.0.1:PORT/g' \
        -e 's/[0-9]+\.[0-9]+/T/g; s/[0-9]+ req\/s/N req\/s/g' \
        -e 's/\(pid [0-9]+/(pid N/g; s/kill -USR1 [0-9]+/kill -USR1 N/g; s/uptime_ms=[0-9]+/uptime_ms=N/g' \
        -e 's/[[:space:]]+/ /g; s/^ //; s/ $//' |
        grep -v '^$' || true
}

# assert_transcript PAGE NAME ACTUAL_FILE [TEST_PORT PAGE_PORT]: TEST_PORT (a
# free port the test used) is written PAGE_PORT (the page's default) first
assert_transcript() {
    local page=$1 name=$2 actual=$3 want got
    want=$(doc_block "$page" "$name" | normalise | grep -vx '…' || true)
    if [ -n "${4-}" ]; then
        got=$(sed -E "s/\b$4\b/$5/g" "$actual" | normalise)
    else
        got=$(normalise <"$actual")
    fi
    [ "$(printf '%s\n' "$want" | wc -l)" -ge 2 ] || fail "no transcript block '$name' in $page"
    if is_excerpt "$page" "$name"; then
        # every line of the block, in order, somewhere in the output
        awk 'NR == FNR { want[++n] = $0; next } i < n && $0 == want[i + 1] { i++ }
             END { if (i < n) { print "missing from the real output: " want[i + 1]; exit 1 } }' \
            <(printf '%s\n' "$want") <(printf '%s\n' "$got") ||
            fail "$page, transcript '$name' (excerpt) does not match; real output (normalised):
$got"
    else
        [[ $'\n'"$got"$'\n' == *$'\n'"$want"$'\n'* ]] ||
            fail "$page, transcript '$name' does not match; the page (normalised):
$want
real output (normalised):
$got"
    fi
}

# pty SCRIPT: run an expect script (a real terminal for make and the demo);
# its output lands in $PTY_OUT. Run tagged (helpers.bash): what it started and
# left running — make, run-demo.sh, the demo — is stopped in teardown.
pty() {
    PTY_OUT=$BATS_TEST_TMPDIR/pty.out
    run_tagged expect -f "$1" >"$PTY_OUT" 2>&1
}
